#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nmstate_apply
short_description: Apply bonds, bridges and VLANs to a KVM host with nmstate, rolled back if the host loses its network
version_added: 0.1.0
description:
  - Applies an nmstate desired state on the host the module runs on with C(nmstatectl), under a
    NetworkManager checkpoint. After the change it pings the default gateway(s) and O(probe_targets);
    when all answer it commits, otherwise it rolls back and fails with each probe's result, so a bad
    change does not cut the host off.
  - The desired state is validated first (the nmstate subset in docs/nmstate.md, against the
    host's current interfaces); nothing is applied when there is a problem.
  - Idempotent. The current state (C(nmstatectl show)) is compared with the desired one for the
    fields the desired state sets; nothing is applied when they agree.
  - A checkpoint left by a run that was killed between apply and commit is rolled back first.
    NetworkManager also rolls a checkpoint back by itself after O(checkpoint_timeout) seconds.
author:
  - vmshift.virt maintainers (@vmshift)
requirements:
  - nmstate (C(nmstatectl)) and NetworkManager on the host
  - ping (iputils) for the probes
extends_documentation_fragment:
  - vmshift.virt.nmstate
attributes:
  check_mode:
    support: full
    description: Reads the current state and shows the diff; never touches the host.
  diff_mode:
    support: full
    description: Per interface, the current and desired values of the fields the desired state sets.
options:
  desired_state:
    description: The nmstate desired state (C(interfaces), optional C(routes) and C(dns-resolver)).
    type: dict
    required: true
  probe_gateway:
    description: Ping the default gateway(s) found after the change.
    type: bool
    default: true
  probe_targets:
    description: More addresses that must answer a ping after the change (a DNS server, the storage network).
    type: list
    elements: str
    default: []
  probe_timeout:
    description: Seconds the probes may take in all (links take a moment to come up).
    type: int
    default: 30
  checkpoint_timeout:
    description: Seconds after which NetworkManager rolls the change back by itself if it was not committed.
    type: int
    default: 90
  nmstatectl:
    description: The nmstatectl command.
    type: path
    default: nmstatectl
  state_dir:
    description: Where the module notes an open checkpoint, to roll it back if the run is killed.
    type: path
    default: /var/lib/vmshift/nmstate
"""

EXAMPLES = r"""
- name: Bridge br1 on bond1 (balance-alb over eth2 and eth3), the host address moved to br1
  vmshift.virt.nmstate_apply:
    probe_targets: [192.0.2.53]
    desired_state:
      interfaces:
        - name: bond1
          type: bond
          state: up
          ipv4: {enabled: false}
          link-aggregation: {mode: balance-alb, options: {miimon: 100}, port: [eth2, eth3]}
        - name: br1
          type: linux-bridge
          state: up
          ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.10, prefix-length: 24}]}
          bridge: {options: {stp: {enabled: false}}, port: [{name: bond1}]}
      routes:
        config:
          - {destination: 0.0.0.0/0, next-hop-address: 192.0.2.1, next-hop-interface: br1}
"""

RETURN = r"""
left:
  description:
    - On a failure after this run changed something (the task then says C(changed)), what it made that stays,
      as its actions; nothing is undone, and the last may be the one that failed. Empty when nmstate rolled the change back.
  returned: failure after a change
  type: list
  elements: str
actions:
  description: What was done, in order (stale checkpoint rolled back, apply, commit or roll back).
  returned: always
  type: list
  elements: str
probes:
  description: Each probe after the change, with C(target), C(ok) and C(seconds).
  returned: always
  type: list
  elements: dict
  sample: [{target: 192.0.2.1, ok: true, seconds: 0.0}]
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.host import apply_host_network


def main():
    argument_spec = dict(
        desired_state=dict(type="dict", required=True),
        normalize=dict(type="bool", default=False),
        probe_gateway=dict(type="bool", default=True),
        probe_targets=dict(type="list", elements="str", default=[]),
        probe_timeout=dict(type="int", default=30),
        checkpoint_timeout=dict(type="int", default=90),
        nmstatectl=dict(type="path", default="nmstatectl"),
        state_dir=dict(type="path", default="/var/lib/vmshift/nmstate"),
    )
    run_module(argument_spec, lambda module: apply_host_network(module.params, module.check_mode))


if __name__ == "__main__":
    main()
