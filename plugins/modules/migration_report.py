#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_report
short_description: Write a migration wave's report (JSON and HTML) and the summary across waves
version_added: 0.1.0
description:
  - From each VM's vmshift.virt.vm_migrate result, writes C(wave-<N>.json) and C(wave-<N>.html) in
    O(report_dir) (each VM's outcome, step timings, bytes copied, throughput, downtime from the source's
    power-off to the guest's start on the target, failures with the failed step, reason and rollback), then
    C(summary.json) and C(summary.html) over every wave report in that directory, each wave's estimate beside
    what it took.
  - The HTML report draws a timeline as inline SVG (no script, nothing fetched) with one row per VM, its steps
    as bars on one time axis, a failed step marked where it failed, the VM's downtime, and the copy rate of
    the wave over time.
  - Files are written only when their content changes. Module invocations and connection details
    are never copied into a report.
  - Runs on the controller (an action plugin, no module run on a host), so O(report_dir) is a directory of
    the machine running Ansible, whatever host the task is for.
author:
  - vmshift.virt maintainers (@vmshift)
attributes:
  check_mode:
    support: full
    description: Computes the reports and says whether they would change; writes nothing.
  diff_mode:
    support: none
    description: Returns no diff.
  action:
    support: full
    description: Runs on the controller as an action plugin.
options:
  wave:
    description: The wave number.
    type: int
    required: true
  vms:
    description:
      - One entry per VM of the wave, C({name, target, result}), where C(result) is what
        vmshift.virt.vm_migrate returned (or is left out when the VM was never started, with an
        optional C(reason)).
    type: list
    elements: dict
    required: true
  seconds:
    description: The wave's wall time, for its throughput.
    type: float
  report_dir:
    description: Where the reports go (created if missing).
    type: path
    required: true
  limits:
    description:
      - The limits the wave ran with (migration_plan's C(limits) of the wave), kept in the report so that
        vmshift.virt.migration_estimate can tell the wave's own overhead from its VMs' schedule.
    type: dict
  estimate:
    description:
      - vmshift.virt.migration_estimate's C(estimate) for the wave, made before it; the report shows it beside
        what the wave took (its seconds, and each VM's downtime).
    type: dict
"""

EXAMPLES = r"""
- name: Report wave 1
  vmshift.virt.migration_report:
    wave: 1
    vms: "{{ wave_entries }}"
    seconds: 842.5
    report_dir: /var/tmp/migration/reports
"""

RETURN = r"""
summary:
  description: This wave's counts (migrated, already migrated, failed, not started), bytes, seconds and the failed VMs.
  returned: always
  type: dict
overall:
  description: The same across every wave report in O(report_dir).
  returned: always
  type: dict
vms:
  description: Each VM's outcome as written to the report.
  returned: always
  type: list
  elements: dict
paths:
  description: The files written.
  returned: always
  type: dict
"""
