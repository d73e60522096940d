# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kept in meaning with plugins/module_utils/common/argspec.py libvirt_guest_argument_spec():
    # how a domain is run and waited for, shared by libvirt_vm and vm_migrate.
    DOCUMENTATION = r"""
options:
  domain_type:
    description:
      - V(kvm) for hardware virtualisation, V(qemu) for software emulation (TCG), for hosts where
        KVM is not usable.
    type: str
    choices: [kvm, qemu]
    default: kvm
  serial_log:
    description:
      - Log the first serial console to this file on the libvirt host (appended across boots).
      - Needed for O(wait_for=serial); without it the serial console is a pty.
    type: path
  wait_for:
    description:
      - What to wait for after starting the domain, up to O(wait_timeout) seconds.
      - V(running) the domain runs; V(serial) a line matching O(serial_pattern) appears in
        O(serial_log) after this start (the file is read where the module runs, so run it on the
        KVM host); V(ip) a DHCP lease on a libvirt network; V(agent) the guest agent answers with
        an address.
      - Nothing waits in check mode.
    type: str
    choices: [none, running, serial, ip, agent]
    default: running
  serial_pattern:
    description: A regular expression to find on the serial console, for O(wait_for=serial).
    type: str
  wait_timeout:
    description: Seconds to wait for O(wait_for).
    type: int
    default: 300
"""
