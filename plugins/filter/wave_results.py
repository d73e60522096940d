# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: wave_results
short_description: Pair each VM of a wave with its vmshift.virt.vm_migrate result
version_added: 0.1.0
description:
  - For the VMs of a wave (from vmshift.virt.migration_plan) and the vm_migrate results by moref, the
    entries vmshift.virt.migration_report takes, C({name, target, result}), in the wave's order.
  - A VM whose result says C(not_started) (its job stopped before it, see O(vmshift.virt.vm_migrate#module:max_failed))
    is left out; the migration_wave role reports it as not started.
  - One expression for the whole wave, where a loop over its VMs costs Ansible a task result per VM.
author:
  - vmshift.virt maintainers (@vmshift)
options:
  _input:
    description: The wave's VMs, each with C(name), C(moref) and C(target).
    type: list
    elements: dict
    required: true
  results:
    description: "C({moref: vm_migrate result}) for every VM of the wave."
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Each VM's outcome
  ansible.builtin.set_fact:
    wave_entries: "{{ wave.vms | vmshift.virt.wave_results(results_by_moref) }}"
"""

RETURN = r"""
_value:
  description: "C([{name, target, result}]) for each VM that was started, in the order of the input, with C(source_host) when the plan has it."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def wave_results(vms, results):
    entries = []
    for vm in vms:
        try:
            result = results[vm["moref"]]
            entry = {"name": vm["name"], "target": vm["target"], "result": result}
        except (KeyError, TypeError) as exc:
            raise AnsibleFilterError("wave_results: a VM needs name, moref and target, and a result under its moref "
                                     "(missing %s in %r)" % (exc, vm))
        if vm.get("source_host"):
            entry["source_host"] = vm["source_host"]  # for the estimates of later waves (migration_estimate)
        if not result.get("not_started"):
            entries.append(entry)
    return entries


class FilterModule(object):
    def filters(self):
        return {"wave_results": wave_results}
