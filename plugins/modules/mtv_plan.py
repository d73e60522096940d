#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mtv_plan
short_description: Migrate a wave of vSphere VMs to OpenShift Virtualization through MTV (Forklift)
version_added: 0.1.0
description:
  - Makes what an MTV migration needs and runs it - the vSphere provider Secret and C(Provider), a
    C(NetworkMap) and a C(StorageMap), a C(Plan) of the wave's VMs (cold or warm, into a target
    namespace) - waits for each to be Ready (MTV's validation), then starts a C(Migration) and waits
    for it, reporting each VM's pipeline (Initialize, DiskTransfer, ImageConversion,
    VirtualMachineCreation...) and, on failure, each failed VM's reason.
  - A rerun of a plan that succeeded changes nothing. A rerun after a failure starts a new Migration
    of the same plan; MTV migrates the VMs that are not migrated yet.
  - O(state=canceled) cancels the running Migration's unfinished VMs. O(state=absent) deletes the
    Plan, its Migrations and its maps; the Provider and its Secret C(<provider>-vsphere) stay, other
    plans use them.
  - The Secret's content (the vSphere password) is never returned or shown in a diff.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.kubernetes
attributes:
  check_mode:
    support: full
    description: Reports what would be created or changed; writes nothing and starts no Migration.
  diff_mode:
    support: none
    description: Returns no diff (the Secret's content must never show).
options:
  name:
    description: The Plan name (its maps are C(<name>-network) and C(<name>-storage)).
    type: str
    required: true
  namespace:
    description: The namespace MTV runs in.
    type: str
    default: openshift-mtv
  provider:
    description: The vSphere Provider's name.
    type: str
    default: vmware
  vsphere:
    description:
      - The vCenter MTV reads from. C(url) (the SDK URL) or C(hostname) (C(https://<hostname>/sdk) is used),
        C(username), C(password), and C(ca_data) (the PEM CA of vCenter; without it MTV skips TLS verification).
      - C(hostname), C(username) and C(password) default to VMWARE_HOST, VMWARE_USER and VMWARE_PASSWORD.
    type: dict
    default: {}
    suboptions:
      url: {description: The vCenter SDK URL., type: str}
      hostname: {description: The vCenter host., type: str}
      username: {description: The vCenter user., type: str}
      password: {description: The vCenter password., type: str}
      ca_data: {description: The vCenter CA in PEM., type: str}
  vms:
    description: "The wave's VMs, each C({id: <moref>}) or C({name: <name>})."
    type: list
    elements: dict
    default: []
  target_namespace:
    description: Where the VMs are created.
    type: str
    default: default
  warm:
    description: Warm migration (CBT snapshots while the source runs, then a cutover); cold when false.
    type: bool
    default: false
  network_map:
    description: Port group to C(namespace/nad) (a NetworkAttachmentDefinition) or V(pod).
    type: dict
    default: {}
  storage_map:
    description: Datastore to storage class.
    type: dict
    default: {}
  state:
    description: V(present) (migrate), V(canceled) (cancel the running Migration) or V(absent).
    type: str
    choices: [present, canceled, absent]
    default: present
  wait:
    description: Wait for the Migration to end.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each readiness and for the Migration.
    type: int
    default: 14400
"""

EXAMPLES = r"""
- name: Wave 1 to OpenShift Virtualization, VLAN 93 through its NAD
  vmshift.virt.mtv_plan:
    name: wave-1
    vms: [{id: vm-1042}, {id: vm-1043}]
    target_namespace: wave1
    network_map: {vlan-93: wave1/vlan-93}
    storage_map: {ds-gold: ocs-storagecluster-ceph-rbd}
"""

RETURN = r"""
left:
  description:
    - On a failure after this run changed something (the task then says C(changed)), what it made that stays,
      as its actions; nothing is undone, and the last may be the one that failed.
  returned: failure after a change
  type: list
  elements: str
msg:
  description: V(migrated), V(already migrated), V(started) or V(would migrate).
  returned: when O(state=present)
  type: str
actions:
  description: What was created, updated, started or canceled.
  returned: always
  type: list
  elements: str
migration:
  description: The Migration's name.
  returned: when O(state=present)
  type: str
vms:
  description: Each VM's phase, pipeline (name, phase, progress) and error, as MTV reports them.
  returned: when O(state=present)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import kubernetes_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KUBERNETES
from ansible_collections.vmshift.virt.plugins.module_utils.migration.mtv import run_mtv


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", default="openshift-mtv"),
        provider=dict(type="str", default="vmware"),
        vsphere=dict(type="dict", default={}, options=dict(
            url=dict(type="str"),
            hostname=dict(type="str", fallback=(env_fallback, ["VMWARE_HOST"])),
            username=dict(type="str", fallback=(env_fallback, ["VMWARE_USER"])),
            password=dict(type="str", no_log=True, fallback=(env_fallback, ["VMWARE_PASSWORD"])),
            ca_data=dict(type="str"),
        )),
        vms=dict(type="list", elements="dict", default=[]),
        target_namespace=dict(type="str", default="default"),
        warm=dict(type="bool", default=False),
        network_map=dict(type="dict", default={}),
        storage_map=dict(type="dict", default={}),
        state=dict(type="str", default="present", choices=["present", "canceled", "absent"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=14400),
    )
    run_module(argument_spec, lambda module: run_mtv(module.params, module.check_mode), libraries=[KUBERNETES])


if __name__ == "__main__":
    main()
