# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vsphere
short_description: vSphere VMs as hosts, grouped for migration waves
version_added: 0.1.0
description:
  - Every VM of a vCenter (or those the filters select) becomes a host, with the same two-phase,
    parallel retrieval as M(vmshift.virt.vsphere_vm_info); its facts (including the neutral VM spec)
    are in the host variable C(vmshift_vm).
  - "Default groups: C(datacenter_<name>), C(cluster_<name>), C(folder_<path>), C(power_<state>),
    C(guest_<family>) (linux, windows or other), and C(wave_<value>) from the custom attribute named by
    O(wave_attribute)."
  - C(ansible_host) is the guest IP that VMware Tools reports, when there is one.
  - The inventory file name must end in C(vsphere.yml) or C(vsphere.yaml).
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
    choices: [vmshift.virt.vsphere]
  hostname:
    description: The vCenter Server or ESXi host.
    type: str
    env:
      - name: VMWARE_HOST
  username:
    description: The user to log in as.
    type: str
    env:
      - name: VMWARE_USER
  password:
    description:
      - The user's password. Keep it out of the inventory file - in the environment (as the AAP
        credential injects it) or in a vault.
    type: str
    env:
      - name: VMWARE_PASSWORD
  port:
    description: The HTTPS port.
    type: int
    default: 443
    env:
      - name: VMWARE_PORT
  validate_certs:
    description: Verify the server's TLS certificate (against O(ca_path) or the system store).
    type: bool
    default: true
    env:
      - name: VMWARE_VALIDATE_CERTS
  ca_path:
    description: A PEM file of the CA certificates that sign the server's certificate.
    type: path
    env:
      - name: VMWARE_CA_PATH
  names:
    description: Only VMs whose name matches one of these shell-style patterns.
    type: list
    elements: str
  datacenter:
    description: Only VMs in this datacenter.
    type: str
  cluster:
    description: Only VMs on hosts of this cluster.
    type: str
  host:
    description: Only VMs on this ESXi host.
    type: str
  folder:
    description: Only VMs in this VM folder (a path from the datacenter) or below it.
    type: str
  resource_pool:
    description: Only VMs in the resource pool of this name.
    type: str
  custom_attributes:
    description: Only VMs whose custom attributes have all these values.
    type: dict
  power_state:
    description: Only VMs in this power state.
    type: str
    choices: [poweredOn, poweredOff, suspended]
  include_templates:
    description: Also make hosts of templates.
    type: bool
    default: false
  workers:
    description: Worker processes for the retrieval; V(0) picks the CPU count for 1000 VMs or more.
    type: int
    default: 0
  host_naming:
    description: What names a host.
    type: str
    choices: [name, moref, uuid, instance_uuid]
    default: name
  wave_attribute:
    description: The custom attribute whose value puts a VM in group C(wave_<value>).
    type: str
    default: migration_wave
"""

EXAMPLES = r"""
# inventory/estate.vsphere.yml; the connection comes from the VMWARE_* environment that the AAP
# VMware vCenter credential injects.
plugin: vmshift.virt.vsphere
ca_path: /etc/pki/vcenter-ca.pem
cluster: Prod
keyed_groups:
  - key: vmshift_vm.guest_id
    prefix: os
compose:
  migration_target: "'kvm1' if vmshift_vm.memory_mib < 16384 else 'kvm2'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /var/tmp/vmshift-inventory
"""

import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import without_cycle_collector
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import PYVMOMI
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.discovery import discover_vms
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import FILTERS

PARAMS = ("hostname", "username", "password", "port", "validate_certs", "ca_path", "workers") + FILTERS


def group_name(prefix, value):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)).strip("_").lower())


def guest_family(guest_id):
    guest_id = (guest_id or "").lower()
    if guest_id.startswith("win"):
        return "windows"
    if not guest_id or guest_id.startswith("other"):
        return "other"
    return "linux"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "vmshift.virt.vsphere"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("vsphere.yml", "vsphere.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if not PYVMOMI.present:
            raise AnsibleParserError("the vmshift.virt.vsphere inventory needs the pyvmomi Python library")
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        vms = None
        if use_cache:
            try:
                vms = self._cache[cache_key]
            except KeyError:
                vms = None
        if vms is None:
            params = dict((name, self.get_option(name)) for name in PARAMS)
            try:
                vms = discover_vms(params)["vms"]
            except VmshiftError as exc:
                raise AnsibleParserError(exc.message)
            if self.get_option("cache"):
                self._cache[cache_key] = vms
        with without_cycle_collector():  # 10,000 hosts' variables: many objects, no cycles
            self.populate(vms)

    def populate(self, vms):
        naming = self.get_option("host_naming")
        wave_attribute = self.get_option("wave_attribute")
        strict = self.get_option("strict")
        for vm in vms:
            host = vm.get(naming) or vm["moref"]
            self.inventory.add_host(host)
            self.inventory.set_variable(host, "vmshift_vm", vm)
            if vm.get("ip_address"):
                self.inventory.set_variable(host, "ansible_host", vm["ip_address"])
            groups = [group_name("datacenter", vm["datacenter"]), group_name("power", vm["power_state"]),
                      group_name("guest", guest_family(vm.get("guest_id"))), group_name("folder", vm["folder"])]
            if vm.get("cluster"):
                groups.append(group_name("cluster", vm["cluster"]))
            wave = (vm.get("custom_attributes") or {}).get(wave_attribute)
            if wave:
                groups.append(group_name("wave", wave))
            for group in groups:
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            hostvars = {"vmshift_vm": vm}
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
