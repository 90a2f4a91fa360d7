#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apply
short_description: Harden the TLS settings of Apache, Postfix, Courier and OpenLDAP with tlsmend
description:
  - Runs C(tlsmend apply --dry-run --format json) to learn what would change; C(changed) is
    true when tlsmend plans at least one change.
  - In check mode it stops there and writes nothing.
  - Otherwise it runs C(tlsmend apply --yes --format json), which validates the result with the
    daemons' own checkers, writes every file atomically and keeps the originals in a run folder
    under O(backup_dir), so that M(tlsmend.tlsmend.rollback) can restore them.
  - In diff mode (C(--diff)) the unified diff of every file is returned in C(diff), one entry per file.
  - A second run after a successful one plans nothing and reports C(changed=false).
version_added: "0.1.0"
author:
  - tlsmend maintainers (!UNKNOWN)
options:
  binary:
    description: The tlsmend executable, a path or a name looked up on E(PATH).
    type: str
    default: tlsmend
  root:
    description: Treat this directory as C(/) (C(--root)); default the real C(/).
    type: path
  profile:
    description: Mozilla profile to harden to.
    type: str
    default: intermediate
    choices: [modern, intermediate, old]
  servers:
    description: Only these servers (C(--server)); default every server found.
    type: list
    elements: str
    default: []
    choices: [apache, courier, postfix, openldap]
  only:
    description: Only these rule ids (C(--only)).
    type: list
    elements: str
    default: []
  skip:
    description: Not these rule ids (C(--skip)).
    type: list
    elements: str
    default: []
  with:
    description: Also run these opt-in rule ids (C(--with)).
    type: list
    elements: str
    default: []
  tls_library:
    description: The TLS library Courier is built with, when tlsmend cannot read it from couriertls.
    type: str
    choices: [gnutls, openssl]
  postfix_version:
    description: The Postfix version to write for (for example C(3.7)), when tlsmend cannot read it.
    type: str
  backup_dir:
    description:
      - Where run folders go (C(--backup-dir)).
      - Default C(/var/backups/tlsmend), inside O(root) when one is given.
    type: path
  validate:
    description: Check the result with the daemons' own checkers on a staging copy before writing.
    type: bool
    default: true
  reload:
    description:
      - Let tlsmend reload the daemons whose files changed and probe them; if one does not
        come back serving what the profile allows, tlsmend rolls the run back and the task fails.
      - The P(tlsmend.tlsmend.harden#role) role leaves this off and reloads through handlers instead.
    type: bool
    default: false
attributes:
  check_mode:
    description: Runs the dry run only and reports what would change; writes nothing.
    support: full
  diff_mode:
    description: Returns the unified diff of every file that changes (or would), one C(diff) entry per file.
    support: full
seealso:
  - module: tlsmend.tlsmend.audit
  - module: tlsmend.tlsmend.rollback
notes:
  - Needs a tlsmend that prints C(schema_version) 1 JSON (C(--format json)).
"""

EXAMPLES = r"""
- name: Harden every server found on the host, Postfix written for 3.7
  tlsmend.tlsmend.apply:
    postfix_version: "3.7"
  register: hardened

- name: Only Apache's protocol rule, modern profile, on an image of another machine
  tlsmend.tlsmend.apply:
    root: /srv/images/web1
    servers: [apache]
    profile: modern
    only: [apache.protocol]

- name: Keep the run id for a later rollback
  ansible.builtin.debug:
    msg: "undo with tlsmend rollback {{ hardened.run }}"
  when: hardened.run is not none
"""

RETURN = r"""
changed:
  description: Whether tlsmend planned (check mode) or wrote at least one change.
  returned: always
  type: bool
findings:
  description: Every finding of the plan (before the changes), as tlsmend's JSON gives it (docs/json.md).
  returned: always
  type: list
  elements: dict
  sample:
    - server: apache
      rule: apache.protocol
      severity: high
      file: etc/apache2/mods-available/ssl.conf
      line: 71
      current: all -SSLv3
      wanted: -all +TLSv1.2 +TLSv1.3
      fixable: true
      blocked: null
blocked:
  description: The findings tlsmend reports but will not fix, each with its reason in C(blocked).
  returned: always
  type: list
  elements: dict
changes:
  description: The planned changes (server, rule, reason, files with their diffs).
  returned: always
  type: list
  elements: dict
servers:
  description: The servers whose files change (or would change), for handlers that reload them.
  returned: always
  type: list
  elements: str
  sample: [apache, postfix]
files:
  description: The files that change (or would change), as absolute paths.
  returned: always
  type: list
  elements: str
run:
  description: The backup run id to give M(tlsmend.tlsmend.rollback); null when nothing was written.
  returned: always
  type: str
  sample: 2026-11-29T21-30-05Z-4242
backup_dir:
  description: The folder that holds the run.
  returned: when something was written
  type: str
reloaded:
  description: The reload commands tlsmend ran (O(reload=true) only).
  returned: when something was written
  type: list
  elements: str
notes:
  description: tlsmend's notes on the plan (rules not planned and why).
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsmend.tlsmend.plugins.module_utils.tlsmend import (
    TARGET_SPEC,
    blocked,
    global_args,
    run_json,
    split_patch,
    target_args,
)


def main():
    spec = dict(TARGET_SPEC)
    spec.update(
        only=dict(type="list", elements="str", default=[]),
        skip=dict(type="list", elements="str", default=[]),
        backup_dir=dict(type="path"),
        validate=dict(type="bool", default=True),
        reload=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params

    selection = []
    for r in p["only"]:
        selection += ["--only", r]
    for r in p["skip"]:
        selection += ["--skip", r]
    if p["backup_dir"]:
        selection += ["--backup-dir", p["backup_dir"]]
    base = global_args(module) + ["apply"] + target_args(module) + selection

    # Exit 0: nothing to change; 1: changes pending.
    plan = run_json(module, base + ["--dry-run", "--format", "json"], ok_codes=(0, 1), command="plan")
    changes = plan["changes"]
    findings = plan["findings"]
    result = dict(
        changed=bool(changes),
        findings=findings,
        blocked=blocked(findings),
        changes=changes,
        servers=sorted(set(c["server"] for c in changes)),
        files=sorted(set(f["path"] for c in changes for f in c["files"])),
        notes=plan["notes"],
        run=None,
    )
    if changes and module._diff:
        # The text dry-run is the byte-exact patch, whole files rather than one change at a time.
        drc, out, err = module.run_command(base + ["--dry-run"])
        if drc not in (0, 1):
            module.fail_json(msg="tlsmend apply --dry-run exited %d: %s" % (drc, err.strip()), **result)
        result["diff"] = split_patch(out)

    if not changes or module.check_mode:
        module.exit_json(**result)

    write = base + ["--yes", "--format", "json"]
    if not p["validate"]:
        write.append("--no-validate")
    if p["reload"]:
        write.append("--reload")
    rc, out, err = module.run_command(write)
    if rc != 0:
        # Exit 2: nothing half-written; with --reload, the run was rolled back already.
        module.fail_json(msg="tlsmend apply exited %d: %s" % (rc, err.strip() or out.strip()),
                         cmd=write, rc=rc, stderr=err, **result)
    applied = json.loads(out)
    run = applied.get("run")
    result.update(
        run=run["id"] if run else None,
        backup_dir=applied.get("backup_dir"),
        reloaded=applied.get("reloaded", []),
        changed=applied.get("changes_applied", 0) > 0,
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
