#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_estimate
short_description: Say before a migration wave starts how long it will take and how long each VM will be down
version_added: 0.1.0
description:
  - For a wave of a vmshift.virt.migration_plan plan, the bytes each VM's copy reads, its expected copy time
    and downtime (from the source's power-off to the guest's start on the target), and the wave's expected
    duration given its concurrency limits.
  - The figures come from measurement, nearest first. The reports of earlier waves in O(report_dir)
    (vmshift.virt.migration_report's C(wave-<N>.json)) give each migrated VM's copy rate and the time of
    its other steps, from the same ESXi host to the same target host, else to the same target host, else
    any; and each whole wave's time beyond its VMs' schedule (Ansible's start, preflight, the report).
  - For a VM whose copy rate no report gives, a pilot read samples it. One disk on each of those VMs'
    datastores is read from its start over the same HTTPS datastore access the copy uses, one stream, up to
    O(pilot_mib) MiB or O(pilot_seconds) seconds; a VM's rate is the slowest of its datastores'. The read is
    from the controller, with the controller's vSphere login (the connection options, or the E(VMWARE_*)
    variables of AAP's credential); it writes nothing. Without a vSphere host, with O(pilot_mib=0), or where a
    read fails (a warning says so), O(defaults) say.
  - A pilot is one stream from the controller and a copy is several from the KVM host, so the first wave's
    estimate is a first figure; each wave's report makes the next one's nearer.
  - The wave is scheduled as vm_migrate runs it, one job per target host, its VMs in the wave's order, a
    slot taken as soon as one frees within the limits (shared by the target hosts as the migration_wave role
    shares them).
  - A copy reads each disk's whole size (zero blocks included, left as holes in the target), so a VM's bytes
    are its disks' capacity, as the plan gives them.
  - Runs on the controller (an action plugin); reads files and datastore files, changes nothing.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.vsphere
attributes:
  check_mode:
    support: full
    description: Reads the same files and returns the same estimate.
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
    description: The wave's VMs as the plan lists them, each with C(name), C(target), C(source_host) and C(bytes).
    type: list
    elements: dict
    required: true
  limits:
    description: The wave's limits as the plan gives them (C(parallel), C(per_source_host), C(per_target_host)).
    type: dict
    required: true
  report_dir:
    description: Where the reports of earlier waves are (missing or empty, pilot reads or the defaults are used).
    type: path
    required: true
  pilot_mib:
    description: How much of a disk a pilot read reads, at most, in MiB; V(0) for no pilot read.
    type: int
    default: 64
  pilot_seconds:
    description: How long a pilot read reads, at most.
    type: float
    default: 10
  targets:
    description:
      - Each target host's vm_migrate settings, by target name (the migration_wave role passes its own), of which
        C(target_power_state), C(wait_for) and C(guest_conversion) are read (vm_migrate's defaults where one is
        not given) to count a VM's steps where no earlier wave measured them.
    type: dict
    default: {}
  defaults:
    description:
      - The figures used where no earlier wave gives one.
      - Where no earlier wave gives a VM's other steps, they are O(defaults.step_seconds), plus
        O(defaults.shutdown_seconds) when the source is powered on with VMware Tools running (as the plan says; a
        VM without them is powered off at once), plus O(defaults.conversion_seconds) when its target's
        C(guest_conversion) is V(always), or V(auto) and the guest OS is Windows (a Linux guest is converted only
        when inspection, during the migration, finds no virtio driver), plus O(defaults.boot_seconds) when the
        target is started and waited for beyond V(running) (C(wait_for) V(serial), V(ip) or V(agent)).
    type: dict
    default: {}
    suboptions:
      bytes_per_second:
        description: One VM's copy rate, in bytes per second.
        type: int
        default: 52428800
      shutdown_seconds:
        description: A guest shutdown through VMware Tools.
        type: float
        default: 30
      conversion_seconds:
        description: A guest conversion (C(virt-v2v-in-place)).
        type: float
        default: 180
      boot_seconds:
        description: A guest's boot on the target, to what C(wait_for) waits for.
        type: float
        default: 60
      step_seconds:
        description: The steps every VM has besides its copy (power-off, definition, start, the marks on the source).
        type: float
        default: 5
      wave_seconds:
        description:
          - A wave's time beyond its VMs' schedule, from the migration_wave role's first task to its report (the jobs'
            start on the KVM hosts, the first VMs' preflight, the report).
        type: float
        default: 15
"""

EXAMPLES = r"""
- name: How long will wave 2 take?
  vmshift.virt.migration_estimate:
    wave: 2
    vms: "{{ (plan.waves | selectattr('wave', 'eq', 2) | first).vms }}"
    limits: "{{ (plan.waves | selectattr('wave', 'eq', 2) | first).limits }}"
    report_dir: /var/tmp/migration/reports
  register: estimate

- name: The first wave, its copy rate sampled from its datastores (VMWARE_* from AAP's vCenter credential)
  vmshift.virt.migration_estimate:
    wave: 1
    vms: "{{ plan.waves[0].vms }}"
    limits: "{{ plan.waves[0].limits }}"
    report_dir: /var/tmp/migration/reports
    pilot_mib: 128
  register: first

- name: Say it
  ansible.builtin.debug:
    msg: "about {{ estimate.estimate.seconds }} s; longest downtime {{ estimate.estimate.vms | map(attribute='downtime_seconds') | max }} s"
"""

RETURN = r"""
estimate:
  description: The wave's estimate.
  returned: success
  type: dict
  contains:
    wave:
      description: The wave number.
      type: int
      returned: always
    seconds:
      description: The wave's expected duration, RV(estimate.span) plus RV(estimate.overhead).
      type: float
      returned: always
    span:
      description: From the first VM's power-off to the last VM's start on the target, as scheduled.
      type: float
      returned: always
    overhead:
      description: The wave's time beyond its VMs' schedule.
      type: float
      returned: always
    bytes:
      description: What the copies read.
      type: int
      returned: always
    from:
      description: Where the figures came from, the reports of earlier waves, pilot reads or the defaults.
      type: str
      returned: always
    vms:
      description:
        - Each VM's C(name), C(target), C(source_host), C(bytes), C(copy_seconds), C(downtime_seconds), C(start) (seconds
          into the span) and C(from).
      type: list
      elements: dict
      returned: always
"""
