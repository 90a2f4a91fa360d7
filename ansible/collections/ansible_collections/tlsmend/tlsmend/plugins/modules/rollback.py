#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rollback
short_description: Restore the files of a tlsmend run from its backup
description:
  - Restores the run O(run), or by default the last run in O(backup_dir), with C(tlsmend rollback).
  - C(changed) when it restored something. When the run is rolled back already, or there is no
    run, nothing happens. Without O(run), only the B(last) run is considered, so that running
    the task twice does not undo an earlier run as well.
  - tlsmend refuses a file edited since the run (the task fails and nothing is restored) unless O(force).
  - Check mode reports whether a run would be restored and writes nothing.
version_added: "0.1.0"
author:
  - tlsmend maintainers (!UNKNOWN)
options:
  binary:
    description: The tlsmend executable, a path or a name looked up on E(PATH).
    type: str
    default: tlsmend
  root:
    description: The root the run was made on (C(--root)), also where the default O(backup_dir) is.
    type: path
  backup_dir:
    description: Where run folders are (default C(/var/backups/tlsmend), inside O(root) when one is given).
    type: path
  run:
    description: The run id (the C(run) that M(tlsmend.tlsmend.apply) returned); default the last run.
    type: str
  force:
    description: Overwrite files that changed after the run.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reports whether a run would be restored and writes nothing.
    support: full
  diff_mode:
    description: No diff is returned; C(files) names what is restored.
    support: none
seealso:
  - module: tlsmend.tlsmend.apply
"""

EXAMPLES = r"""
- name: Harden
  tlsmend.tlsmend.apply:
  register: hardened

- name: Undo exactly that run
  tlsmend.tlsmend.rollback:
    run: "{{ hardened.run }}"
  when: hardened.run is not none

- name: Undo the last run of an image
  tlsmend.tlsmend.rollback:
    root: /srv/images/web1
"""

RETURN = r"""
run:
  description: The run restored (or that would be); null when there is none to restore.
  returned: always
  type: str
restored:
  description: The files written back.
  returned: when something was restored
  type: list
  elements: str
files:
  description: Every file of the run, as absolute paths.
  returned: always
  type: list
  elements: str
servers:
  description: The servers the run's files belong to (from their paths), for handlers that reload them.
  returned: always
  type: list
  elements: str
messages:
  description: What tlsmend said (for example how to restart Apache).
  returned: when something was restored
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsmend.tlsmend.plugins.module_utils.tlsmend import global_args, run_json


def server_of(path):
    """The daemon a backed-up file configures, from where it lives."""
    for marker, server in (("/apache2/", "apache"), ("/httpd/", "apache"), ("/postfix/", "postfix"),
                           ("/courier/", "courier"), ("/ldap/", "openldap"), ("/openldap/", "openldap")):
        if marker in path:
            return server
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="str", default="tlsmend"),
            root=dict(type="path"),
            backup_dir=dict(type="path"),
            run=dict(type="str"),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    common = []
    if p["backup_dir"]:
        common += ["--backup-dir", p["backup_dir"]]
    listing = global_args(module) + ["rollback", "--list", "--format", "json"] + common
    doc = run_json(module, listing, command="runs")
    runs = doc["runs"]
    if p["run"]:
        chosen = [r for r in runs if r["id"] == p["run"]]
        if not chosen:
            module.fail_json(msg="no run %s in %s (known: %s)" % (
                p["run"], doc["backup_dir"], ", ".join(r["id"] for r in runs) or "none"))
        chosen = chosen[0]
    else:
        chosen = runs[-1] if runs else None
    result = dict(changed=False, run=None, files=[], servers=[])
    if chosen is None or chosen["rolled_back"]:
        module.exit_json(**result)
    files = [f["path"] for f in chosen["files"]]
    result.update(
        changed=True,
        run=chosen["id"],
        files=files,
        servers=sorted(set(s for s in (server_of(f) for f in files) if s)),
    )
    if module.check_mode:
        module.exit_json(**result)
    args = global_args(module) + ["rollback", chosen["id"]] + common
    if p["force"]:
        args.append("--force")
    rc, out, err = module.run_command(args)
    if rc != 0:
        module.fail_json(msg="tlsmend rollback exited %d: %s" % (rc, (err or out).strip()), cmd=args, rc=rc,
                         stdout=out, stderr=err, **result)
    lines = out.splitlines()
    result.update(
        restored=[line[len("restored "):] for line in lines if line.startswith("restored ")],
        messages=lines,
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
