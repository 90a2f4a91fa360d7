# -*- coding: utf-8 -*-
"""Runs the tlsmend binary and reads its JSON documents (docs/json.md, schema_version 1).

Shared by the apply, audit and rollback modules: building the command line from module
options, running it, and turning its exit code and JSON into a module result or a failure
that says what went wrong and where.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

SCHEMA_VERSION = 1

SEVERITIES = ["info", "low", "medium", "high"]

# Options shared by audit and apply (tlsmend's `Target` arguments).
TARGET_SPEC = dict(
    binary=dict(type="str", default="tlsmend"),
    root=dict(type="path"),
    profile=dict(type="str", default="intermediate", choices=["modern", "intermediate", "old"]),
    servers=dict(type="list", elements="str", default=[], choices=["apache", "courier", "postfix", "openldap"]),
    tls_library=dict(type="str", choices=["gnutls", "openssl"]),
    postfix_version=dict(type="str"),
)
# `with` is a Python keyword: it cannot be a keyword argument above.
TARGET_SPEC["with"] = dict(type="list", elements="str", default=[])


def binary(module):
    """The tlsmend executable: a path as given, else looked up on PATH."""
    name = module.params["binary"]
    if "/" in name:
        return name
    return module.get_bin_path(name, required=True)


def global_args(module):
    args = [binary(module)]
    if module.params.get("root"):
        args += ["--root", module.params["root"]]
    return args


def target_args(module):
    p = module.params
    args = ["--profile", p["profile"]]
    for s in p["servers"]:
        args += ["--server", s]
    for r in p["with"]:
        args += ["--with", r]
    if p.get("tls_library"):
        args += ["--tls-library", p["tls_library"]]
    if p.get("postfix_version"):
        args += ["--postfix-version", p["postfix_version"]]
    return args


def run_json(module, args, ok_codes=(0,), command=None):
    """Runs tlsmend, fails the task on an unexpected exit code or a document it cannot read.

    Returns the document.
    """
    rc, out, err = module.run_command(args)
    if rc not in ok_codes:
        module.fail_json(
            msg="tlsmend exited %d: %s" % (rc, (err or out).strip() or "no message"),
            cmd=args, rc=rc, stdout=out, stderr=err,
        )
    try:
        doc = json.loads(out)
    except ValueError as e:
        module.fail_json(
            msg="tlsmend printed something that is not JSON (%s); is %s an older tlsmend without --format json?"
            % (e, args[0]),
            cmd=args, rc=rc, stdout=out, stderr=err,
        )
    if doc.get("schema_version") != SCHEMA_VERSION or (command and doc.get("command") != command):
        module.fail_json(
            msg="tlsmend printed schema_version %r command %r; this collection reads schema_version %d command %r"
            % (doc.get("schema_version"), doc.get("command"), SCHEMA_VERSION, command),
            cmd=args, rc=rc,
        )
    return doc


def blocked(findings):
    """Findings tlsmend reports but will not fix, with its reason."""
    return [f for f in findings if not f.get("fixable") and f.get("blocked")]


def split_patch(text):
    """Splits the text `apply --dry-run` patch into one Ansible diff per file.

    The patch names each file with `--- FILE` / `+++ FILE` headers; Ansible's callback prints
    `prepared` as it is, under the headers given.
    """
    diffs = []
    cur = None
    lines = text.splitlines(True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            cur = dict(
                before_header=line[4:].rstrip("\n"),
                after_header=lines[i + 1][4:].rstrip("\n"),
                prepared="",
            )
            diffs.append(cur)
            cur["prepared"] += line + lines[i + 1]
            i += 2
            continue
        if cur is not None:
            cur["prepared"] += line
        i += 1
    return diffs
