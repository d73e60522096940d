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
    namespace), and its C(Hook)s - waits for each to be Ready (MTV's validation), then starts a C(Migration) and waits
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
  type:
    description:
      - V(cold) (the source is powered off, then copied), V(warm) (copied with CBT snapshots while the source runs,
        then a short cutover) or V(live) (where the source provider offers it). Written to the Plan's C(spec.type);
        for V(warm), C(spec.warm) is also set, for MTV releases that do not read C(spec.type). Default V(cold).
    type: str
    choices: [cold, warm, live]
  warm:
    description:
      - Deprecated, use O(type). V(true) is O(type=warm), V(false) O(type=cold); refused when it contradicts O(type).
    type: bool
  preserve_static_ips:
    description:
      - Keep each guest's static IP addresses on its new NICs (MTV's C(preserveStaticIPs), done by its guest
        conversion from what VMware Tools reports). On by default here, where MTV's own default is off, since a
        migrated VM that loses its address is the failure users report most.
    type: bool
    default: true
  target_power_state:
    description: The VMs' power state after migration, V(on), V(off), or V(auto) (as the source was; MTV's default).
    type: str
    choices: ['on', 'off', auto]
    default: auto
  migrate_shared_disks:
    description: Copy disks shared by several VMs (once); when false, MTV leaves them for a plan of their own.
    type: bool
    default: true
  skip_guest_conversion:
    description:
      - Copy the disks only, no guest conversion (virt-v2v is not run; the guest must already have virtio drivers
        or run on MTV's compatibility devices).
    type: bool
    default: false
  transfer_network:
    description:
      - The NetworkAttachmentDefinition the disks are copied over, C(namespace/name) (a name alone is looked up in
        O(target_namespace)); the pod network when not set.
    type: str
  hooks:
    description:
      - Run something before the copy (V(pre)) or after the VM is created (V(post)), for every VM of the plan. Each is a
        C(Hook) named C(<name>-<step>); a step no longer listed has its Hook deleted.
      - A hook is either an image running a playbook in the cluster (O(hooks[].image), O(hooks[].playbook)) or an AAP job
        template MTV launches (O(hooks[].aap)).
    type: list
    elements: dict
    default: []
    suboptions:
      step:
        description: V(pre) (MTV's PreHook, before the disks are copied) or V(post) (PostHook, after the VM is created).
        type: str
        choices: [pre, post]
        required: true
      image:
        description: The container image that runs the hook (for example C(quay.io/kubev2v/hook-runner)).
        type: str
      playbook:
        description: The playbook the image runs (its text; it is sent base64-encoded, as MTV takes it).
        type: str
      service_account:
        description: The service account the hook's pod runs as.
        type: str
      deadline:
        description: Seconds the hook may run.
        type: int
      aap:
        description: An AAP job template to launch instead of an image.
        type: dict
        suboptions:
          job_template_id:
            description: The job template's ID.
            type: int
            required: true
          url:
            description: The AAP URL, when not the one configured in MTV (ForkliftController); needs O(hooks[].aap.token_secret).
            type: str
          token_secret:
            description: The Secret (in O(namespace), key C(token)) holding the AAP API token, with O(hooks[].aap.url).
            type: str
          timeout:
            description: Seconds MTV waits for the job.
            type: int
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

- name: Wave 2 warm, disks over the storage network, an AAP job template after each VM is created
  vmshift.virt.mtv_plan:
    name: wave-2
    type: warm
    vms: [{name: erp-db-01}]
    target_namespace: wave2
    transfer_network: wave2/storage-net
    target_power_state: "on"
    network_map: {VM Network: pod}
    storage_map: {ds-gold: ocs-storagecluster-ceph-rbd}
    hooks:
      - {step: post, aap: {job_template_id: 42}}
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

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KUBERNETES, kubernetes_argument_spec
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
        type=dict(type="str", choices=["cold", "warm", "live"]),
        warm=dict(type="bool"),
        preserve_static_ips=dict(type="bool", default=True),
        target_power_state=dict(type="str", choices=["on", "off", "auto"], default="auto"),
        migrate_shared_disks=dict(type="bool", default=True),
        skip_guest_conversion=dict(type="bool", default=False),
        transfer_network=dict(type="str"),
        hooks=dict(type="list", elements="dict", default=[], options=dict(
            step=dict(type="str", choices=["pre", "post"], required=True),
            image=dict(type="str"),
            playbook=dict(type="str"),
            service_account=dict(type="str"),
            deadline=dict(type="int"),
            aap=dict(type="dict", options=dict(
                job_template_id=dict(type="int", required=True),
                url=dict(type="str"),
                token_secret=dict(type="str", no_log=False),
                timeout=dict(type="int"),
            ), required_together=[("url", "token_secret")]),
        ), mutually_exclusive=[("image", "aap"), ("playbook", "aap")], required_one_of=[("image", "aap")]),
        network_map=dict(type="dict", default={}),
        storage_map=dict(type="dict", default={}),
        state=dict(type="str", default="present", choices=["present", "canceled", "absent"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=14400),
    )
    run_module(argument_spec, lambda module: run_mtv(module.params, module.check_mode), libraries=[KUBERNETES])


if __name__ == "__main__":
    main()
