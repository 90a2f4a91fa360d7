#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: audit
short_description: Report the TLS findings of Apache, Postfix, Courier and OpenLDAP with tlsmend
description:
  - Runs C(tlsmend audit --format json) and returns its findings. Read-only, never C(changed).
  - Fails the task only when a finding is at or above O(fail_on).
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
    description: Mozilla profile to audit against.
    type: str
    default: intermediate
    choices: [modern, intermediate, old]
  servers:
    description: Only these servers (C(--server)); default every server found.
    type: list
    elements: str
    default: []
    choices: [apache, courier, postfix, openldap]
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
    description: The Postfix version to audit for (for example C(3.7)), when tlsmend cannot read it.
    type: str
  fail_on:
    description:
      - Fail the task when a finding (not waived) is at or above this severity.
      - V(never) only reports.
    type: str
    default: never
    choices: [never, info, low, medium, high]
attributes:
  check_mode:
    description: The audit is read-only; it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
seealso:
  - module: tlsmend.tlsmend.apply
"""

EXAMPLES = r"""
- name: Fail the host when a high finding remains
  tlsmend.tlsmend.audit:
    fail_on: high

- name: Audit Postfix only, for a report
  tlsmend.tlsmend.audit:
    servers: [postfix]
  register: audit

- name: Show the rules that fire
  ansible.builtin.debug:
    msg: "{{ audit.findings | map(attribute='rule') | list }}"
"""

RETURN = r"""
findings:
  description: The findings as tlsmend's JSON gives them (docs/json.md).
  returned: always
  type: list
  elements: dict
blocked:
  description: The findings tlsmend reports but would not fix, each with its reason in C(blocked).
  returned: always
  type: list
  elements: dict
summary:
  description: tlsmend's summary (counts per severity).
  returned: always
  type: dict
at_or_above:
  description: The findings at or above O(fail_on) (empty when O(fail_on=never)).
  returned: always
  type: list
  elements: dict
notes:
  description: tlsmend's notes.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsmend.tlsmend.plugins.module_utils.tlsmend import (
    SEVERITIES,
    TARGET_SPEC,
    blocked,
    global_args,
    run_json,
    target_args,
)


def main():
    spec = dict(TARGET_SPEC)
    spec.update(fail_on=dict(type="str", default="never", choices=["never"] + SEVERITIES))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    args = global_args(module) + ["audit"] + target_args(module) + ["--format", "json"]
    # Exit 0: nothing found; 1: findings; 2: error.
    doc = run_json(module, args, ok_codes=(0, 1), command="audit")
    findings = doc["findings"]
    fail_on = module.params["fail_on"]
    above = []
    if fail_on != "never":
        floor = SEVERITIES.index(fail_on)
        above = [f for f in findings
                 if "waived" not in f and f.get("severity") in SEVERITIES and SEVERITIES.index(f["severity"]) >= floor]
    result = dict(
        changed=False,
        findings=findings,
        blocked=blocked(findings),
        summary=doc.get("summary", {}),
        notes=doc.get("notes", []),
        at_or_above=above,
    )
    if above:
        module.fail_json(
            msg="%d finding(s) at or above %s: %s" % (
                len(above), fail_on, ", ".join(sorted(set("%s (%s)" % (f["rule"], f["file"]) for f in above)))),
            **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
