#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: libvirt_vm_info
short_description: List libvirt/KVM domains with state, disks, NICs, IPs and the neutral VM spec
version_added: 0.1.0
description:
  - Returns the domains of a libvirt host, each with its state, the fields vmshift.virt manages
    (disks, NICs, firmware, CPU topology, memory), its IP addresses (from DHCP leases or the guest
    agent, when either knows them) and the domain in the neutral VM spec.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.libvirt
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes.
options:
  names:
    description: Only domains whose name matches one of these shell-style patterns.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All domains of a KVM host
  vmshift.virt.libvirt_vm_info:
    uri: qemu+ssh://root@kvm1.example.com/system
  register: kvm1

- name: The web tier's addresses
  ansible.builtin.debug:
    msg: "{{ kvm1.vms | selectattr('name', 'match', 'web-') | map(attribute='ip_addresses') }}"
"""

RETURN = r"""
count:
  description: How many domains are returned.
  returned: always
  type: int
vms:
  description: The domains, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Domain name., type: str, returned: always}
    uuid: {description: Domain UUID., type: str, returned: always}
    state: {description: "running, shutoff, paused, crashed or pmsuspended.", type: str, returned: always}
    autostart: {description: Starts with the host., type: bool, returned: always}
    persistent: {description: Defined (not transient)., type: bool, returned: always}
    disks: {description: "Disks: path, format, bus, boot_order.", type: list, elements: dict, returned: always}
    nics: {description: "NICs: type (bridge or network), source, mac, model.", type: list, elements: dict, returned: always}
    ip_addresses: {description: Guest addresses from DHCP leases or the guest agent., type: list, elements: str, returned: always}
    view: {description: All managed fields of the domain., type: dict, returned: always}
    spec: {description: The domain in the neutral VM spec (docs/vm_spec.md)., type: dict, returned: always}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import libvirt_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LIBVIRT
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.info import list_vms


def main():
    argument_spec = libvirt_argument_spec()
    argument_spec.update(names=dict(type="list", elements="str"))
    run_module(argument_spec, lambda module: list_vms(module.params), libraries=[LIBVIRT])


if __name__ == "__main__":
    main()
