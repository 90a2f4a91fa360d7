# Stands in for ansible-test's get-pip bootstrap script (downloaded from
# ci-files.testing.ansible.com) where that host cannot be reached: pip comes from the
# interpreter's own ensurepip wheel, then pip installs what ansible-test asked for (from PyPI).
import importlib
import os
import runpy
import sys

import ensurepip

# ensurepip switches pip's configuration off (PIP_CONFIG_FILE=/dev/null) for its own run.
saved = dict(os.environ)
ensurepip.bootstrap(upgrade=False)
os.environ.clear()
os.environ.update(saved)
importlib.invalidate_caches()
sys.argv = ["pip", "install"] + sys.argv[1:]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
