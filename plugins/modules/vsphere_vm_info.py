#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_vm_info
short_description: Discover vSphere VMs at scale, with the neutral VM spec
version_added: 0.1.0
description:
  - Returns the VMs of a vCenter or ESXi host with their identity, placement, hardware, disks and
    NICs, and each VM in the collection's neutral VM spec, ready for
    the libvirt and KubeVirt renderers and the migration engine.
  - Retrieves a cheap summary of every VM with one ContainerView and a paged C(RetrievePropertiesEx),
    applies the filters, then retrieves only the properties it uses for the selected VMs, split
    across worker processes on a large estate (see O(workers)), instead of one round trip per VM.
  - Filters are applied to the retrieved VMs; a filter that matches nothing returns an empty list
    and says so in RV(msg).
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.vsphere
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  names:
    description:
      - Only VMs whose name matches one of these shell-style patterns (V(web-*), V(db-0?)).
    type: list
    elements: str
  datacenter:
    description:
      - Only VMs in this datacenter. An unknown datacenter is an error that lists the known ones.
    type: str
  cluster:
    description:
      - Only VMs running on a host of this cluster.
    type: str
  host:
    description:
      - Only VMs running on this ESXi host (its name in vCenter).
    type: str
  folder:
    description:
      - Only VMs in this VM folder or below it, as a path from the datacenter (V(/DC1/vm/web)).
    type: str
  resource_pool:
    description:
      - Only VMs in the resource pool of this name.
    type: str
  custom_attributes:
    description:
      - Only VMs whose custom attributes have all these values (compared as strings).
      - vSphere tags are not read (they live in the vAPI REST service, not the SOAP API).
    type: dict
  power_state:
    description:
      - Only VMs in this power state.
    type: str
    choices: [poweredOn, poweredOff, suspended]
  query:
    description:
      - A JMESPath expression applied to the VM list; the projection is returned in RV(query_result).
      - Needs the jmespath Python library where the module runs.
    type: str
  include_templates:
    description:
      - Also return templates.
    type: bool
    default: false
  guest_inspection:
    description:
      - Read each selected VM's guest from its disks, read-only, while it runs - libguestfs over an C(nbdkit)
        curl export of the datastore files, with this session - and add what it shows as RV(vms[].guest) - the
        same inspection M(vmshift.virt.vm_migrate) runs before a cutover. M(vmshift.virt.migration_assess) turns
        it into concerns (virtio drivers, conversion, interface names).
      - Needs C(guestfish) (libguestfs-tools) and C(nbdkit) with its curl plugin where the module runs. Each VM
        boots one libguestfs appliance - seconds with KVM, most of a minute under TCG - one VM after the other;
        select the VMs with the filters.
    type: bool
    default: false
  workers:
    description:
      - How many processes retrieve and decode the selected VMs' properties in parallel, each over its
        own session. Decoding is CPU-bound, so more workers than CPUs do not help.
      - V(0) picks the number of CPUs (at most 8) when 1000 VMs or more are selected, else 1.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Discover every VM (connection from VMWARE_HOST/USER/PASSWORD, as AAP injects it)
  vmshift.virt.vsphere_vm_info:
  register: estate

- name: Discover the web tier of one datacenter
  vmshift.virt.vsphere_vm_info:
    hostname: vcenter.example.com
    username: "{{ vcenter_user }}"
    password: "{{ vcenter_password }}"
    ca_path: /etc/pki/vcenter-ca.pem
    datacenter: DC1
    names: ["web-*"]
    power_state: poweredOn
  register: web

- name: Names and addresses of the VMs in wave 2 (a custom attribute), projected with JMESPath
  vmshift.virt.vsphere_vm_info:
    custom_attributes: {migration_wave: "2"}
    query: "[].{name: name, ips: ip_addresses}"
  register: wave2

- name: Read the guests of the next wave from their disks, for the assessment
  vmshift.virt.vsphere_vm_info:
    custom_attributes: {migration_wave: "2"}
    guest_inspection: true
  register: wave2_inspected

- name: Show the neutral spec of each VM
  ansible.builtin.debug:
    msg: "{{ web.vms | map(attribute='spec') }}"
"""

RETURN = r"""
count:
  description: How many VMs are returned.
  returned: always
  type: int
  sample: 2
msg:
  description: A one-line summary; says when the filters matched nothing.
  returned: always
  type: str
  sample: 2 VMs found
timings:
  description:
    - Where the time went, for sizing O(workers) on a large estate - the summary and filter phase,
      the detail phase (all workers), and how many workers ran; with O(guest_inspection), the time the
      inspection of all VMs took (C(inspection_seconds)).
  returned: always
  type: dict
  sample: {summary_seconds: 1.2, details_seconds: 6.4, workers: 2}
query_result:
  description: The JMESPath projection of RV(vms), when O(query) is given.
  returned: when O(query) is given
  type: raw
  sample: [{name: web-01, ip: 10.0.0.5}]
vms:
  description: The VMs, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "VM name.", type: str, returned: always, sample: web-01}
    moref: {description: "Managed object id.", type: str, returned: always, sample: vm-42}
    uuid: {description: "BIOS UUID.", type: str, returned: always}
    instance_uuid: {description: "vCenter instance UUID.", type: str, returned: always}
    template: {description: "Whether it is a template.", type: bool, returned: always}
    power_state: {description: "poweredOn, poweredOff or suspended.", type: str, returned: always}
    guest_id: {description: "Configured guest OS id.", type: str, returned: always, sample: rhel9_64Guest}
    guest_name: {description: "Configured guest OS name.", type: str, returned: always}
    tools_running_status: {description: "VMware Tools running status.", type: str, returned: always}
    hostname: {description: "Guest host name reported by VMware Tools.", type: str, returned: always}
    ip_address: {description: "Primary guest IP reported by VMware Tools.", type: str, returned: always}
    cpu:
      description: CPU count, cores per socket and sockets.
      type: dict
      returned: always
      sample: {count: 4, cores_per_socket: 2, sockets: 2}
    memory_mib: {description: "Memory in MiB.", type: int, returned: always}
    firmware: {description: "bios or efi.", type: str, returned: always}
    secure_boot: {description: "EFI secure boot enabled.", type: bool, returned: always}
    cbt_enabled: {description: "Changed block tracking enabled.", type: bool, returned: always}
    cpu_hot_add: {description: "CPU hot-add enabled.", type: bool, returned: always}
    memory_hot_add: {description: "Memory hot-add enabled.", type: bool, returned: always}
    annotation: {description: "The VM's notes.", type: str, returned: always}
    snapshot_count: {description: "Number of snapshots.", type: int, returned: always}
    datacenter: {description: "Datacenter name.", type: str, returned: always}
    cluster: {description: "Cluster of the VM's host, null for a standalone host.", type: str, returned: always}
    host: {description: "ESXi host name.", type: str, returned: always}
    folder: {description: "VM folder path from the datacenter.", type: str, returned: always, sample: /DC1/vm/web}
    resource_pool: {description: "Resource pool name.", type: str, returned: always}
    disks:
      description:
        - Virtual disks with label, key, datastore, path, file_name, capacity_bytes, thin,
          disk_mode, sharing, rdm, controller_type, bus and unit_number.
      type: list
      elements: dict
      returned: always
    nics:
      description:
        - NICs with label, key, mac, adapter_type, network (port group name), vlan (of a distributed port
          group; an id, trunk or pvlan <id>; null when not known), connected and ip_addresses (what VMware
          Tools reports on the NIC of that MAC; vm_migrate uses them to tell which MAC had which interface
          name in a guest of several NICs).
      type: list
      elements: dict
      returned: always
    spec:
      description: The VM in the collection's neutral VM spec (see docs/vm_spec.md).
      type: dict
      returned: always
    guest:
      description:
        - What inspection read of the guest (O(guest_inspection)) - C(inspected) (false with a C(reason) when the
          disks could not be read), C(type), C(distro), C(version), C(hostname), C(kernel), C(initramfs),
          C(virtio_block) (whether the initramfs or kernel holds a virtio block driver), C(interfaces) (name,
          stack, static, addresses and mac of each configured interface), C(network_stacks), C(pins) (the
          interface names vm_migrate would pin to MACs), C(concerns) and C(seconds).
      type: dict
      returned: when O(guest_inspection=true)
      sample: {inspected: true, type: linux, distro: debian, version: "12.11", virtio_block: false,
               pins: [{name: ens192, mac: "00:50:56:aa:bb:cc"}]}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import vsphere_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest import inspect_vm, tools_present
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import PYVMOMI
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.discovery import discover_vms


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(
        names=dict(type="list", elements="str"),
        datacenter=dict(type="str"),
        cluster=dict(type="str"),
        host=dict(type="str"),
        folder=dict(type="str"),
        resource_pool=dict(type="str"),
        custom_attributes=dict(type="dict"),
        power_state=dict(type="str", choices=["poweredOn", "poweredOff", "suspended"]),
        query=dict(type="str"),
        include_templates=dict(type="bool", default=False),
        workers=dict(type="int", default=0),
        guest_inspection=dict(type="bool", default=False),
    )
    run_module(argument_spec, discover, libraries=[PYVMOMI], bulk_result=True)


def discover(module):
    if not module.params["guest_inspection"]:
        return discover_vms(module.params)
    if not tools_present():
        raise InvalidInput("guest_inspection is true, but guestfish or nbdkit is not installed on this host; install "
                           "libguestfs-tools and nbdkit, or set guest_inspection: false")
    return discover_vms(module.params, inspect_vm)


if __name__ == "__main__":
    main()
