#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubevirt_vm
short_description: Create, change, start, stop and remove an OpenShift Virtualization (KubeVirt) VM from the neutral VM spec
version_added: 0.1.0
description:
  - Renders the collection's neutral VM spec (docs/vm_spec.md) to a KubeVirt C(VirtualMachine)
    with C(dataVolumeTemplates), and converges the cluster to it.
  - Idempotent. The fields the spec sets are compared with the VirtualMachine on the server and
    sent as one JSON merge patch when they differ; a rerun reports no change.
  - Power changes go through KubeVirt's C(start), C(stop) and C(restart) subresources, as
    C(virtctl) does; a 409 answer means the VM is already so.
  - Check mode sends nothing that writes. The diff is computed on the client from the object read
    from the server. (A server-side dry run is not used, because a server that ignored the C(dryRun) parameter
    would write, and the client-side comparison covers every field this module sets.)
  - The spec is validated before anything is sent; a name must be a valid RFC 1123 label.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.kubernetes
attributes:
  check_mode:
    support: full
    description: Reads the server, writes nothing, waits for nothing.
  diff_mode:
    support: full
    description: Shows the labels and spec of the VirtualMachine before and after.
options:
  spec:
    description:
      - The VM in the neutral VM spec. C(name) is required; C(memory_mib) too unless O(instancetype) is given.
      - Disks take C(source.url) (an HTTP image, imported by CDI), C(source.registry) (a container
        disk image), C(source.pvc) (C(name), optional C(namespace), cloned) or C(source.blank);
        C(size_bytes) sets the DataVolume's storage request (not needed for C(registry)).
      - NICs take C(network) (a NetworkAttachmentDefinition, C(name) or C(namespace/name), bridge
        binding) or C(pod=true) (the pod network, masquerade binding); C(mac) is kept.
      - C(cloud_init.user_data) and C(cloud_init.network_config) become a C(cloudInitNoCloud) volume.
    type: dict
    required: true
  namespace:
    description: The namespace of the VirtualMachine.
    type: str
    default: default
  state:
    description:
      - V(present) creates or updates the VM and sets its power to the spec's C(power_state).
      - V(started), V(stopped) and V(restarted) set the power as named.
      - V(absent) deletes the VM (its DataVolumes go with it, as owned objects).
    type: str
    choices: [present, absent, started, stopped, restarted]
    default: present
  storage_class:
    description: The storage class of the DataVolumes; the cluster default when not set.
    type: str
  access_mode:
    description: The access mode of the DataVolumes; V(ReadWriteMany) allows live migration.
    type: str
    choices: [ReadWriteOnce, ReadWriteMany]
    default: ReadWriteOnce
  instancetype:
    description:
      - The instancetype that sizes the VM; then the spec's CPU and memory are not rendered.
      - A name (a C(VirtualMachineClusterInstancetype)), or a dict with C(name) and C(kind), as kubevirt.core takes it.
        C(kind) is V(VirtualMachineClusterInstancetype) (the default) or V(VirtualMachineInstancetype) (one in the
        VM's namespace).
    type: raw
  preference:
    description:
      - The preference of the VM.
      - A name (a C(VirtualMachineClusterPreference)), or a dict with C(name) and C(kind), as kubevirt.core takes it.
        C(kind) is V(VirtualMachineClusterPreference) (the default) or V(VirtualMachinePreference) (one in the VM's
        namespace).
    type: raw
  run_strategy:
    description:
      - How KubeVirt keeps the VM running while it should run (its C(spec.runStrategy)); O(state) and the spec's
        C(power_state) say whether it should. A stopped VM is C(Halted), except under V(Manual).
      - V(Always) restarts the VM whenever it stops. V(RerunOnFailure) restarts it only when it fails, so a
        shutdown from inside the guest stays down. V(Manual) leaves it to start and stop requests; this module
        sends them through the subresources.
      - Changing it on an existing VM patches C(spec.runStrategy); a running VM keeps running.
    type: str
    choices: [Always, RerunOnFailure, Manual]
    default: Always
  hidden_fields:
    description:
      - Fields left out of the returned RV(vm), of the diff and of the comparison that decides a change, as
        kubevirt.core's option of that name takes them (keys joined with dots; a key that holds dots, or an index,
        in brackets).
      - For fields that the cluster or its webhooks write, so that a rerun shows no change.
    type: list
    elements: str
    default:
      - metadata.annotations[kubemacpool.io/transaction-timestamp]
      - metadata.managedFields
  wait:
    description:
      - Wait until the VM is C(Ready) (or C(Stopped), or deleted), or has O(wait_condition), up to O(wait_timeout)
        seconds.
    type: bool
    default: true
  wait_condition:
    description:
      - Wait for this status condition of the VirtualMachine instead of C(Ready) or C(Stopped), as kubernetes.core's
        C(k8s) option of that name (for example C(AgentConnected), C(LiveMigratable) or C(DataVolumesReady)).
    type: dict
    suboptions:
      type:
        description: The condition's type.
        type: str
        required: true
      status:
        description: The condition's status.
        type: str
        choices: ["True", "False", "Unknown"]
        default: "True"
      reason:
        description: The condition's reason, when it must be this one.
        type: str
  wait_for_agent:
    description: Also wait for the C(AgentConnected) condition (the guest agent answers).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: A VM from an HTTP image on a VLAN NAD, waiting until Ready
  vmshift.virt.kubevirt_vm:
    namespace: apps
    storage_class: ocs-storagecluster-ceph-rbd-virtualization
    access_mode: ReadWriteMany
    spec:
      name: web-01
      cpu: {sockets: 1, cores: 2}
      memory_mib: 4096
      disks:
        - name: root
          size_bytes: 32212254720
          source: {url: "https://images.example.com/rhel9.qcow2"}
      nics:
        - network: vlan-93
          mac: "00:50:56:aa:bb:cc"
      cloud_init:
        user_data: |
          #cloud-config
          hostname: web-01
      power_state: running

- name: A VM sized by a namespaced instancetype that stays down after a shutdown from inside the guest
  vmshift.virt.kubevirt_vm:
    namespace: apps
    instancetype: {name: web-medium, kind: VirtualMachineInstancetype}
    preference: rhel.9
    run_strategy: RerunOnFailure
    wait_condition: {type: AgentConnected}
    spec:
      name: web-02
      disks:
        - name: root
          size_bytes: 32212254720
          source: {pvc: {name: rhel9-golden, namespace: images}}
      power_state: running

- name: Stop it
  vmshift.virt.kubevirt_vm:
    namespace: apps
    spec: {name: web-01}
    state: stopped
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
  description: What was done, or would be done in check mode, in order.
  returned: always
  type: list
  elements: str
  sample: [create VirtualMachine]
vm:
  description:
    - The VirtualMachine as the server returns it after the run; in check mode, as it is on the server
      now, or the manifest that would be created when it does not exist yet. Null after deletion.
  returned: always
  type: dict
wait:
  description: The VM's printable status when the wait ended and how long it took; null when nothing waited.
  returned: always
  type: dict
  sample: {printable_status: Running, seconds: 12.0}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KUBERNETES, kubernetes_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.kubevirt.service import ensure_vm


def main():
    argument_spec = kubernetes_argument_spec()
    argument_spec.update(
        spec=dict(type="dict", required=True),
        namespace=dict(type="str", default="default"),
        state=dict(type="str", default="present", choices=["present", "absent", "started", "stopped", "restarted"]),
        storage_class=dict(type="str"),
        access_mode=dict(type="str", default="ReadWriteOnce", choices=["ReadWriteOnce", "ReadWriteMany"]),
        instancetype=dict(type="raw"),
        preference=dict(type="raw"),
        run_strategy=dict(type="str", default="Always", choices=["Always", "RerunOnFailure", "Manual"]),
        hidden_fields=dict(type="list", elements="str", default=["metadata.annotations[kubemacpool.io/transaction-timestamp]",
                                                                 "metadata.managedFields"]),
        wait=dict(type="bool", default=True),
        wait_condition=dict(type="dict", options=dict(
            type=dict(type="str", required=True),
            status=dict(type="str", default="True", choices=["True", "False", "Unknown"]),
            reason=dict(type="str"))),
        wait_for_agent=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    run_module(argument_spec, lambda module: ensure_vm(module.params, module.check_mode), libraries=[KUBERNETES])


if __name__ == "__main__":
    main()
