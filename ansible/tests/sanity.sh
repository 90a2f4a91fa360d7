#!/usr/bin/env bash
# ansible-test sanity on the tlsmend.tlsmend collection. Needs ansible-test (ansible-core) on
# PATH, python3 with ensurepip (Debian: python3-venv) and PyPI: ansible-test builds one
# virtual environment per test and pip-installs that test's pinned tools into it.
#
# ansible-test runs pip with a scrubbed environment (HOME and PATH only), so PIP_* settings
# (a CA bundle, a mirror) are lost; this script runs it with a private HOME whose pip.conf
# carries them, and seeds ansible-test's pip bootstrap with a stand-in that takes pip from
# ensurepip instead of downloading get-pip.py from ci-files.testing.ansible.com.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
coll="$repo/ansible/collections/ansible_collections/tlsmend/tlsmend"
home=${TLSMEND_ANSIBLE_TEST_HOME:-/tmp/tlsmend-ansible-test-home}
mkdir -p "$home/.config/pip" "$home/.ansible/test/cache"
{
    echo "[global]"
    [ -n "${PIP_CERT:-}" ] && echo "cert = $PIP_CERT"
    [ -n "${PIP_INDEX_URL:-}" ] && echo "index-url = $PIP_INDEX_URL"
    [ -n "${PIP_FIND_LINKS:-}" ] && echo "find-links = $PIP_FIND_LINKS"
    echo "disable-pip-version-check = true"
} >"$home/.config/pip/pip.conf"
# The pip version ansible-test bootstraps names the cached script it looks for.
ansible_python=$(head -1 "$(command -v ansible-test)" | sed 's/^#!//')
pip_version=$("$ansible_python" -c '
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3.11", path="/usr/bin/python3"))["pip"])')
cp "$repo/ansible/tests/get_pip_shim.py" "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
# Every sanity test of ansible-core 2.17; shellcheck needs its binary (Debian: shellcheck).
skip=()
command -v shellcheck >/dev/null || skip+=(--skip-test shellcheck)
cd "$coll"
HOME="$home" ansible-test sanity --requirements --python 3.11 ${skip[@]+"${skip[@]}"} "$@"
