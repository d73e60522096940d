# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test --venv fetches get-pip.py from a host the lab machines cannot reach, but first looks in
~/.ansible/test/cache/get_pip_<version>.py. tests/run.sh places this file there: it bootstraps pip
with the interpreter's own ensurepip and installs what ansible-test asked for from the package index.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
