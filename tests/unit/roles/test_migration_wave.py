# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration_wave role names a target's vm_migrate options in three places: the list the settings are
checked against (vars/main.yml, the one list), the job task that passes each one on (tasks/jobs.yml: an
Ansible task names its options one by one) and the role's documentation (meta/argument_specs.yml). A key in
the list but not in the task would be accepted and dropped; these tests keep the three the same."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import re

import yaml

from ansible_collections.vmshift.virt.plugins.modules.vm_migrate import DOCUMENTATION

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "migration_wave")
ROLE_OWN = {"delegate_to", "serial_log_dir"}


def load(*path):
    with open(os.path.join(ROLE, *path)) as f:
        return yaml.safe_load(f)


def vm_migrate_options():
    """vm_migrate's documented options, its own and those of the fragments it extends."""
    doc = yaml.safe_load(DOCUMENTATION)
    options = set(doc["options"])
    for fragment in doc["extends_documentation_fragment"]:
        module = importlib.import_module("ansible_collections.vmshift.virt.plugins.doc_fragments." + fragment.split(".")[-1])
        options.update(yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"])
    return options


def test_every_target_option_the_role_accepts_is_passed_to_vm_migrate_and_no_other():
    accepted = set(load("vars", "main.yml")["migration_wave_target_options"])
    job = next(t for t in load("tasks", "jobs.yml") if "vmshift.virt.vm_migrate" in t)["vmshift.virt.vm_migrate"]
    passed = set(k for k, v in job.items() if re.match(r"\{\{ _target\.%s \| default\(omit\) \}\}$" % k, str(v)))
    assert passed == accepted - ROLE_OWN
    assert passed <= vm_migrate_options()


def test_the_role_documents_the_target_options_it_accepts():
    """ansible-doc's list for migration_wave_targets is the accepted one (vars/main.yml), so neither can drift."""
    accepted = set(load("vars", "main.yml")["migration_wave_target_options"])
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    documented = set(re.findall(r"C\((\w+)\)", " ".join(options["migration_wave_targets"]["description"])))
    assert documented == accepted
