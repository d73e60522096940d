#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_attachment
short_description: A NetworkAttachmentDefinition that puts VMs on a node bridge, with an optional VLAN
version_added: 0.1.0
description:
  - Creates, updates or removes a Multus C(NetworkAttachmentDefinition) (NAD) for KubeVirt VMs on a
    Linux bridge of the nodes (made by vmshift.virt.nmstate_policy), with the C(cnv-bridge) or
    C(bridge) CNI plugin, an optional VLAN, MAC spoof checking, and the C(tuning) plugin for an MTU.
  - Sets the C(k8s.v1.cni.cncf.io/resourceName) annotation to C(bridge.network.kubevirt.io/<bridge>)
    so VMs are scheduled only on nodes that have the bridge.
  - Idempotent. The CNI config is compared parsed, not as text.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.kubernetes
attributes:
  check_mode:
    support: full
    description: Shows the diff; writes nothing.
  diff_mode:
    support: full
    description: The annotation and the parsed CNI config, before and after.
options:
  name:
    description: The NAD's name; VMs name it in their NICs (C(nics[].network) in the neutral VM spec).
    type: str
    required: true
  namespace:
    description: The namespace of the NAD (that of the VMs, or C(default) for all).
    type: str
    default: default
  bridge:
    description: The Linux bridge on the nodes. Required with O(state=present).
    type: str
  vlan:
    description: The VLAN id (1-4094) the bridge CNI sets on the VM's port; untagged when not set.
    type: int
  cni:
    description: The bridge CNI plugin, V(cnv-bridge) (OpenShift Virtualization) or V(bridge) (upstream).
    type: str
    choices: [cnv-bridge, bridge]
    default: cnv-bridge
  macspoofchk:
    description: Drop frames whose source MAC is not the VM's.
    type: bool
    default: true
  mtu:
    description: The MTU of the VM's interface, through the C(tuning) plugin.
    type: int
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: VLAN 93 on br1, for the VMs of namespace wave1
  vmshift.virt.network_attachment:
    name: vlan-93
    namespace: wave1
    bridge: br1
    vlan: 93
    mtu: 1450
"""

RETURN = r"""
attachment:
  description: The NAD's name, namespace and CNI config.
  returned: when O(state=present)
  type: dict
  sample: {name: vlan-93, namespace: wave1, config: {cniVersion: 0.3.1, name: vlan-93, plugins: [{type: cnv-bridge, bridge: br1, vlan: 93}]}}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KUBERNETES, kubernetes_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.attachment import ensure_attachment


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", default="default"),
        bridge=dict(type="str"),
        vlan=dict(type="int"),
        cni=dict(type="str", default="cnv-bridge", choices=["cnv-bridge", "bridge"]),
        macspoofchk=dict(type="bool", default=True),
        mtu=dict(type="int"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    run_module(argument_spec, lambda module: ensure_attachment(module.params, module.check_mode), libraries=[KUBERNETES])


if __name__ == "__main__":
    main()
