#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_assess
short_description: Assess vSphere VMs for migration to KVM, with a report a person reads
version_added: 0.1.0
description:
  - For each VM from M(vmshift.virt.vsphere_vm_info), lists concerns with a severity
    (critical, warning, info) and a one-line fix. A critical concern blocks the VM's migration.
  - "Source checks: PCI passthrough, SR-IOV, USB, vTPM, RDM, shared (multi-writer) and independent
    disks, snapshots, CBT for warm migration, CPU/memory hot-add, CPU affinity, unsupported or unknown
    guest OS, disks not on a datastore or without a size, no host name or IP from VMware Tools."
  - "Target checks, when O(target) is given: a valid target name (RFC 1123 for KubeVirt), the number
    of disks, every port group mapped, UEFI and secure boot firmware, name and MAC collisions with
    existing VMs, and storage, CPU and memory room (the VMs use the room up in order)."
  - "Guest checks, from inspection when the VM's facts carry it (M(vmshift.virt.vsphere_vm_info) with
    O(vmshift.virt.vsphere_vm_info#module:guest_inspection)), else from the guest OS vSphere reports: whether the
    guest boots on virtio or needs conversion, and whether the conversion can run (C(target.guest_conversion),
    C(target.conversion_available)); a guest not inspected or with no operating system found; the interface
    names the guest configures that M(vmshift.virt.vm_migrate) pins to their MACs, and those it cannot tell."
  - Runs where it is called and talks to nothing; writes the reports only when their content changes.
author:
  - vmshift.virt maintainers (@vmshift)
attributes:
  check_mode:
    support: full
    description: Assesses; writes no report.
  diff_mode:
    support: none
    description: The reports are files a person reads; changed says whether they changed.
options:
  vms:
    description: The VMs, as RV(vmshift.virt.vsphere_vm_info#module:vms) returns them.
    type: list
    elements: dict
    required: true
  target:
    description:
      - What the target offers. Keys (all optional) are C(type) (V(libvirt) or V(kubevirt)),
        C(name_prefix), C(network_map) (port group -> target network; every NIC's port group must be a key),
        C(free_bytes), C(free_cpus), C(free_memory_mib), C(existing_names), C(existing_macs),
        C(efi_available), C(secure_boot_available), C(max_disks), C(guest_conversion) (the
        O(vmshift.virt.vm_migrate#module:guest_conversion) the migration will use; V(auto) when not given) and
        C(conversion_available) (whether C(virt-v2v-in-place) is on the KVM host).
      - Gather them from M(vmshift.virt.libvirt_vm_info) and the pool, or from the cluster.
    type: dict
  migration_type:
    description: V(warm) adds the checks a warm migration needs (CBT on, no independent disks).
    type: str
    choices: [cold, warm]
    default: cold
  report_dir:
    description: Write C(assessment.md) and C(assessment.html) into this existing directory.
    type: path
  report_title:
    description: The reports' title.
    type: str
    default: Migration assessment
  fail_on_critical:
    description: Fail (after writing the reports) when any VM is blocked, naming them; for a gate between waves.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Discover
  vmshift.virt.vsphere_vm_info:
    names: ["app-*"]
  register: estate

- name: Assess for a KVM host, writing the reports
  vmshift.virt.migration_assess:
    vms: "{{ estate.vms }}"
    migration_type: cold
    target:
      type: libvirt
      network_map: {"VM Network": br0, "vlan-93": br93}
      free_bytes: 2199023255552
      existing_names: "{{ kvm.vms | map(attribute='name') }}"
      existing_macs: "{{ kvm.vms | map(attribute='nics') | flatten | map(attribute='mac') }}"
    report_dir: /var/tmp/wave1
  register: assessment

- name: The VMs that can go
  ansible.builtin.debug:
    msg: "{{ assessment.results | rejectattr('blocked') | map(attribute='name') }}"
"""

RETURN = r"""
results:
  description: One entry per VM, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: VM name., type: str, returned: always}
    moref: {description: VM moref., type: str, returned: always}
    blocked: {description: Whether a critical concern blocks the VM., type: bool, returned: always}
    concerns:
      description: "Concerns, critical first: code, severity, message, fix."
      type: list
      elements: dict
      returned: always
      sample: [{code: rdm_disk, severity: critical, message: "disk 'Hard disk 2' is a raw device mapping",
                fix: convert the RDM to a virtual disk (Storage vMotion) or move the LUN separately}]
summary:
  description: Counts of VMs (vms, ready_vms, blocked_vms) and of concerns by severity.
  returned: always
  type: dict
  sample: {vms: 10, ready_vms: 8, blocked_vms: 2, critical: 3, warning: 5, info: 1}
report:
  description: Paths of the Markdown and HTML reports; null without O(report_dir).
  returned: always
  type: dict
  sample: {markdown: /var/tmp/wave1/assessment.md, html: /var/tmp/wave1/assessment.html}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess_service import run_assessment


def main():
    argument_spec = dict(
        vms=dict(type="list", elements="dict", required=True),
        target=dict(type="dict"),
        migration_type=dict(type="str", default="cold", choices=["cold", "warm"]),
        report_dir=dict(type="path"),
        report_title=dict(type="str", default="Migration assessment"),
        fail_on_critical=dict(type="bool", default=False),
    )
    run_module(argument_spec, lambda module: run_assessment(module.params, module.check_mode))


if __name__ == "__main__":
    main()
