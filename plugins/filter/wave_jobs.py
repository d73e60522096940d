# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: wave_jobs
short_description: Group a wave's VMs by target host as vmshift.virt.vm_migrate's O(vmshift.virt.vm_migrate#module:vms) entries
version_added: 0.1.0
description:
  - For the VMs of a wave (from vmshift.virt.migration_plan) and each target host's settings, the VMs of each
    target host, in the wave's order, as vm_migrate takes them in one run, C({moref}), with C(serial_log) under
    the target's C(serial_log_dir) when it has one.
  - One expression for the whole wave, where a loop over its VMs costs Ansible a task result per VM.
author:
  - vmshift.virt maintainers (@vmshift)
options:
  _input:
    description: The wave's VMs, each with C(name), C(moref) and C(target).
    type: list
    elements: dict
    required: true
  settings:
    description: "C({target: settings}) for every target of the wave; C(serial_log_dir) is the only key read."
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The VMs of each target host
  ansible.builtin.set_fact:
    jobs: "{{ wave.vms | vmshift.virt.wave_jobs(settings_by_target) }}"
"""

RETURN = r"""
_value:
  description: "C({target: [{moref, serial_log}]}), the targets in the order their first VM comes in the wave."
  type: dict
"""

from ansible.errors import AnsibleFilterError


def wave_jobs(vms, settings):
    jobs = {}
    for vm in vms:
        try:
            target = settings[vm["target"]]
            entry = {"moref": vm["moref"]}
            if target.get("serial_log_dir"):
                entry["serial_log"] = "%s/%s.serial" % (target["serial_log_dir"], vm["name"])
        except (KeyError, TypeError) as exc:
            raise AnsibleFilterError("wave_jobs: a VM needs name, moref and a target with settings (missing %s in %r)" % (exc, vm))
        jobs.setdefault(vm["target"], []).append(entry)
    return jobs


class FilterModule(object):
    def filters(self):
        return {"wave_jobs": wave_jobs}
