#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nmstate_policy
short_description: Apply bonds, bridges and VLANs to OpenShift nodes as a NodeNetworkConfigurationPolicy and wait for the rollout
version_added: 0.1.0
description:
  - Creates or updates a C(NodeNetworkConfigurationPolicy) (NNCP) of the kubernetes-nmstate operator
    and waits for its rollout. C(Available) is success. C(Degraded) fails the task with each failing
    node's message, read from the C(NodeNetworkConfigurationEnactments); so does an aborted rollout.
  - The desired state is validated first (the nmstate subset in docs/nmstate.md); every problem
    names the interface and the field and says the fix, and nothing is sent when there is one. A
    bond port or VLAN base interface must be defined in the state or exist on at least one node
    the policy selects (from the C(NodeNetworkStates)).
  - Idempotent. The policy's spec is compared with the one on the server and changed with one JSON
    merge patch. A rerun with nothing to change still waits for the rollout and fails if it is Degraded.
  - Check mode sends nothing that writes and shows the diff of the policy and, per selected node,
    the current state of the interfaces the policy names.
  - "O(state=absent) deletes the policy. Deleting an NNCP does B(not) undo what it configured on the
    nodes; set O(remove_interfaces=true) to first apply the same interfaces as C(absent), wait for
    that rollout, then delete."
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.nmstate
  - vmshift.virt.kubernetes
attributes:
  check_mode:
    support: full
    description: Shows the policy diff and the nodes' current state of the named interfaces; writes nothing.
  diff_mode:
    support: full
    description: The policy spec before and after.
options:
  name:
    description: The policy name (cluster scoped).
    type: str
    required: true
  desired_state:
    description:
      - The nmstate desired state (C(interfaces), optional C(routes) and C(dns-resolver)), in the
        upstream YAML schema. Required with O(state=present).
    type: dict
  node_selector:
    description: 'Node labels that select the nodes, for example C({node-role.kubernetes.io/worker: ""}). All nodes when empty.'
    type: dict
    default: {}
  max_unavailable:
    description: How many (or what percentage of) nodes are configured at once, for example V(1) or V(50%).
    type: raw
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  remove_interfaces:
    description: With O(state=absent), apply the policy's interfaces as C(absent) and wait before deleting it.
    type: bool
    default: false
  wait:
    description: Wait for the rollout to end (Available or Degraded).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Bond eth2 and eth3 (balance-alb, miimon 100), bridge br1 on it, on every worker
  vmshift.virt.nmstate_policy:
    name: br1-bond1
    node_selector:
      node-role.kubernetes.io/worker: ""
    max_unavailable: 1
    desired_state:
      interfaces:
        - name: bond1
          type: bond
          state: up
          mtu: 1450
          ipv4: {enabled: false}
          link-aggregation:
            mode: balance-alb
            options: {miimon: "100"}
            port: [eth2, eth3]
        - name: br1
          type: linux-bridge
          state: up
          mtu: 1450
          ipv4: {enabled: false}
          bridge:
            options: {stp: {enabled: false}}
            port: [{name: bond1}]

- name: Undo it on the nodes, then delete the policy
  vmshift.virt.nmstate_policy:
    name: br1-bond1
    state: absent
    remove_interfaces: true
"""

RETURN = r"""
left:
  description:
    - On a failure after this run changed something (the task then says C(changed)), what it made that stays,
      as its actions; nothing is undone, and the last may be the one that failed.
  returned: failure after a change
  type: list
  elements: str
actions:
  description: What was done (create policy, update policy, apply interfaces absent, delete policy).
  returned: always
  type: list
  elements: str
nodes:
  description: The nodes the policy selects.
  returned: when O(state=present)
  type: list
  elements: str
node_state:
  description: In check mode, per node, the current state of the interfaces the policy names.
  returned: check mode
  type: dict
rollout:
  description: The rollout's outcome per node (C(state) Available, Failing, Aborted; C(message)), the policy's conditions and the seconds waited.
  returned: when waited
  type: dict
  sample: {seconds: 3.1, nodes: {worker-0: {state: Available, message: "successfully reconciled"}}, conditions: {Available: "True"}}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KUBERNETES, kubernetes_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.policy import ensure_policy


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        desired_state=dict(type="dict"),
        normalize=dict(type="bool", default=False),
        node_selector=dict(type="dict", default={}),
        max_unavailable=dict(type="raw"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        remove_interfaces=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    run_module(argument_spec, lambda module: ensure_policy(module.params, module.check_mode), libraries=[KUBERNETES],
               required_if=[("state", "present", ("desired_state",))])


if __name__ == "__main__":
    main()
