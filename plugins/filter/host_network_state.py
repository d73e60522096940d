# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: host_network_state
short_description: Bonds, bridges and VM networks in a short form, as nmstate desired state and NADs
version_added: 0.1.0
description:
  - Renders the short form the vmshift.virt.host_network role takes into an nmstate desired state
    (for vmshift.virt.nmstate_policy or vmshift.virt.nmstate_apply) and, on a cluster, the
    NetworkAttachmentDefinitions (for vmshift.virt.network_attachment).
  - "A VM network with a VLAN is, on a KVM host, a VLAN interface on the bridge (C(br1.93)) and a bridge
    of the network's name on it; on a cluster, a NAD on the bridge with the VLAN."
author:
  - vmshift.virt maintainers (@vmshift)
options:
  _input:
    description: "C({bonds: [...], bridges: [...], vm_networks: [...]}), see the host_network role."
    type: dict
    required: true
  target:
    description: V(host) (a KVM host) or V(cluster) (OpenShift).
    type: str
    default: host
  state:
    description: V(present), or V(absent) to render every interface absent (top down).
    type: str
    default: present
  namespace:
    description: The namespace for NADs whose VM network names none.
    type: str
    default: default
"""

EXAMPLES = r"""
- name: The issue's layout for a KVM host
  ansible.builtin.set_fact:
    rendered: "{{ layout | vmshift.virt.host_network_state(target='host') }}"
  vars:
    layout:
      bonds: [{name: bond1, mode: balance-alb, miimon: 100, ports: [eth2, eth3], mtu: 1450}]
      bridges: [{name: br1, port: bond1, stp: false, mtu: 1450}]
      vm_networks: [{name: vlan-93, bridge: br1, vlan: 93}]
"""

RETURN = r"""
_value:
  description: C(desired_state), C(attachments) (cluster) and C(vm_bridges) (VM network -> the bridge a libvirt NIC attaches to).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.shorthand import render


def host_network_state(layout, target="host", state="present", namespace="default"):
    if not isinstance(layout, dict):
        raise AnsibleFilterError("host_network_state takes {bonds, bridges, vm_networks}, not %s" % type(layout).__name__)
    unknown = set(layout) - {"bonds", "bridges", "vm_networks"}
    if unknown:
        raise AnsibleFilterError("host_network_state: unknown keys %s (known: bonds, bridges, vm_networks)" % sorted(unknown))
    try:
        return render(layout.get("bonds"), layout.get("bridges"), layout.get("vm_networks"), target, state, namespace)
    except VmshiftError as exc:
        raise AnsibleFilterError(exc.message)


class FilterModule(object):
    def filters(self):
        return {"host_network_state": host_network_state}
