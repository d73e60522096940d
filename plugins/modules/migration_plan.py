#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_plan
short_description: Plan migration waves with a target placement per VM
version_added: 0.1.0
description:
  - From the VMs (the C(vms) of vmshift.virt.vsphere_vm_info), the targets (KVM hosts with their
    capacity, or a cluster) and the constraints, computes waves, a target per VM and the limits on
    copies at once that the wave role keeps. Pure and deterministic; runs on the controller's data only.
  - VMs that share the value of the C(group_attribute) custom attribute move in the same wave. Tiers
    of C(order_attribute) listed in C(order) move in that order (each tier starts a new wave). Waves
    hold at most C(max_vms_per_wave) VMs and C(max_tib_per_wave) TiB (all in O(constraints)).
  - Each VM goes to the target with the most free memory that has room (vCPUs times the CPU
    overcommit, memory times the memory overcommit, storage) and no VM of the same anti-affinity
    value. Room used by earlier waves stays used.
  - Every VM that cannot be placed is listed in RV(unplaced) with the reason; VMs the assessment
    blocks (O(assessment)) are listed there too.
author:
  - vmshift.virt maintainers (@vmshift)
attributes:
  check_mode:
    support: full
    description: Computes the plan; O(plan_file) is not written.
  diff_mode:
    support: none
    description: Returns no diff.
options:
  vms:
    description: The VMs, as vmshift.virt.vsphere_vm_info returns them (name, host, cpu, memory_mib, disks, custom_attributes).
    type: list
    elements: dict
    required: true
  targets:
    description:
      - KVM hosts, each C({name, cpus, memory_mib, storage_bytes}) with optional C(cpu_overcommit)
        (default 4.0) and C(memory_overcommit) (default 1.0); a capacity left out is not limited.
      - "Or a cluster, C({name, type: kubevirt}), optionally with the same capacity keys."
    type: list
    elements: dict
    required: true
  constraints:
    description:
      - C(group_attribute), C(order_attribute) with C(order) (a list of values, first moves first),
        C(anti_affinity_attribute) (custom attribute names), C(max_vms_per_wave) (default 50),
        C(max_tib_per_wave), C(max_parallel) (copies at once in a wave, default 5),
        C(max_parallel_per_source_host) and C(max_parallel_per_target_host) (default 2 each).
    type: dict
    default: {}
  assessment:
    description: The C(results) of vmshift.virt.migration_assess; blocked VMs are left out of the waves.
    type: list
    elements: dict
    default: []
  plan_file:
    description: Write the plan as JSON here (only when its content changes).
    type: path
  report_dir:
    description:
      - Where the reports of earlier waves are (vmshift.virt.migration_report's), from which each wave's
        C(estimate) in RV(waves) is made as vmshift.virt.migration_estimate makes it; unset or empty, its defaults say.
    type: path
  fail_on_unplaced:
    description:
      - Fail when any VM cannot be placed (RV(unplaced) not empty), naming each with its reason; the plan is
        still returned and O(plan_file) is not written. V(false) returns the plan and its RV(unplaced) list.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Two hosts, databases first, apps together, at most 20 VMs per wave
  vmshift.virt.migration_plan:
    vms: "{{ estate.vms }}"
    assessment: "{{ assessed.results }}"
    targets:
      - {name: kvm01, cpus: 64, memory_mib: 524288, storage_bytes: 10995116277760}
      - {name: kvm02, cpus: 64, memory_mib: 524288, storage_bytes: 10995116277760}
    constraints:
      group_attribute: app
      order_attribute: tier
      order: [db, app, web]
      anti_affinity_attribute: cluster_member
      max_vms_per_wave: 20
      max_parallel: 5
    plan_file: /var/tmp/migration/plan.json
  register: plan
"""

RETURN = r"""
waves:
  description:
    - The waves in order; each with C(wave), C(tier), C(bytes), C(vms) and C(limits) (copies at once -
      C(parallel), C(per_source_host), C(per_target_host) - from the constraints).
    - Each VM has name, moref, uuid, source_host, target, bytes, cpus, memory_mib and group.
    - Each wave's C(estimate) is vmshift.virt.migration_estimate's for it (its duration, each VM's copy time and
      downtime), from the reports in O(report_dir), else the defaults.
  returned: always
  type: list
  elements: dict
unplaced:
  description: VMs not in any wave, each with C(name) and C(reason).
  returned: always
  type: list
  elements: dict
targets:
  description: Each target's VM count and room left after all waves.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts (vms, placed, unplaced, waves), bytes, and C(estimated_seconds), the waves' estimates added up.
  returned: always
  type: dict
"""

import json
import os

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess_service import write_if_changed
from ansible_collections.vmshift.virt.plugins.module_utils.migration.estimate import estimate_wave
from ansible_collections.vmshift.virt.plugins.module_utils.migration.plan import blocked_by, plan_waves
from ansible_collections.vmshift.virt.plugins.module_utils.migration.wave_report import read_wave_reports


def run(params, check_mode):
    plan = plan_waves(params["vms"], params["targets"], params["constraints"], blocked_by(params["assessment"]))
    plan["changed"] = False
    reports = list(read_wave_reports(params["report_dir"]).values()) if params["report_dir"] else []
    for wave in plan["waves"]:
        wave["estimate"] = estimate_wave(wave, reports)
    plan["summary"]["estimated_seconds"] = round(sum(wave["estimate"]["seconds"] for wave in plan["waves"]), 1)
    if params["fail_on_unplaced"] and plan["unplaced"]:
        raise OperationFailure("%d VM(s) cannot be placed: %s" % (len(plan["unplaced"]), "; ".join(
            "%s (%s)" % (u["name"], u["reason"]) for u in plan["unplaced"])), **plan)
    if params["plan_file"]:
        if not os.path.isdir(os.path.dirname(os.path.abspath(params["plan_file"]))):
            raise InvalidInput("plan_file '%s': its directory does not exist; create it first" % params["plan_file"])
        plan["changed"] = write_if_changed(params["plan_file"], json.dumps(plan, indent=1, sort_keys=True) + "\n", check_mode)
    return plan


def main():
    run_module(dict(
        vms=dict(type="list", elements="dict", required=True),
        targets=dict(type="list", elements="dict", required=True),
        constraints=dict(type="dict", default={}),
        assessment=dict(type="list", elements="dict", default=[]),
        plan_file=dict(type="path"),
        report_dir=dict(type="path"),
        fail_on_unplaced=dict(type="bool", default=False),
    ), lambda module: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
