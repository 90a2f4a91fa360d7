# -*- coding: utf-8 -*-
# A test-only callback: records every task result per host and the recap's counters into the
# JSON file named by TLSMEND_RECORD, so that run.sh can check them (ansible-core ships no JSON
# stdout callback; ansible.posix.json would be one more collection to install).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _record(self, result, status):
        name = result._task.name or result._task.get_name()
        entry = None
        for t in self.tasks:
            if t["task"]["name"] == name:
                entry = t
        if entry is None or result._host.get_name() in entry["hosts"]:
            entry = dict(task=dict(name=name), hosts={})
            self.tasks.append(entry)
        r = dict(result._result)
        r["_status"] = status
        entry["hosts"][result._host.get_name()] = r

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("TLSMEND_RECORD")
        if not path:
            return
        hosts = sorted(stats.processed.keys())
        doc = dict(
            plays=[dict(tasks=self.tasks)],
            stats=dict((h, stats.summarize(h)) for h in hosts),
        )
        with open(path, "w") as f:
            json.dump(doc, f, default=str)
