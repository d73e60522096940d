#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: libvirt_vm
short_description: Create, change, start, stop and remove a libvirt/KVM VM from the neutral VM spec
version_added: 0.1.0
description:
  - Renders the collection's neutral VM spec (docs/vm_spec.md) to libvirt domain XML and converges
    the domain to it on a local or remote libvirt host.
  - Idempotent. The desired XML and the defined XML are compared in a normalised form (only the
    fields this module manages), and the domain is redefined only when they differ. A change to a
    running domain takes effect at its next boot.
  - Every blocker (unknown pool, missing volume or image, a bridge or libvirt network that does not
    exist, a domain of that name with another UUID) is found before anything changes and reported in
    one message.
  - Disks become volumes named C(<name>-<disk name>.qcow2) (or C(.img) for raw) in O(pool), created
    empty or from a local image uploaded through libvirt; existing volumes are used by name. A volume
    that exists already is never overwritten.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.libvirt
  - vmshift.virt.libvirt_guest
attributes:
  check_mode:
    support: full
    description: Reports what would change; creates, defines, starts and waits for nothing.
  diff_mode:
    support: full
    description: Shows the managed view of the domain before and after.
options:
  spec:
    description:
      - The VM in the neutral VM spec. C(name) is required; C(memory_mib) too unless O(state=absent).
      - Disks take C(source.image) (a local image file), C(source.volume) (an existing volume in
        O(pool)) or C(source.blank) with C(size_bytes); C(format) is V(qcow2) (default) or V(raw).
      - NICs take C(bridge) (a Linux bridge on the host) or C(network) (a libvirt network), with
        an optional C(mac) (kept) and C(model) (default V(virtio)).
      - Optional C(uuid); a defined domain with another UUID is never redefined.
    type: dict
    required: true
  state:
    description:
      - V(present) defines the domain and sets its power to the spec's C(power_state)
        (V(running) or V(stopped)).
      - V(started), V(stopped) and V(restarted) define it and set the power as named.
      - Stopping is a graceful ACPI shutdown that falls back to a forced power off after
        O(shutdown_timeout) seconds.
      - V(absent) powers the domain off and undefines it (see O(remove_volumes)).
    type: str
    choices: [present, absent, started, stopped, restarted]
    default: present
  pool:
    description: The storage pool for the VM's volumes.
    type: str
    default: default
  shutdown_timeout:
    description:
      - Seconds to wait for a graceful shutdown before forcing the power off. A domain without ACPI and without a
        guest agent channel is powered off at once (no request can reach its guest); a guest that ignores ACPI
        cannot be told apart, so set V(0) for one to power it off at once.
    type: int
    default: 120
  autostart:
    description: Start the domain when the host boots. Left as it is when not set.
    type: bool
  remove_volumes:
    description:
      - With O(state=absent), also delete the volumes this module created for the spec's disks.
        Volumes named by C(source.volume) are never deleted.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A VM from a base image on a Linux bridge, started, waiting for its console
  vmshift.virt.libvirt_vm:
    uri: qemu:///system
    pool: default
    serial_log: /var/log/libvirt/qemu/web-01.serial.log
    wait_for: serial
    serial_pattern: "login:"
    spec:
      name: web-01
      cpu: {sockets: 1, cores: 2}
      memory_mib: 2048
      disks:
        - name: root
          source: {image: /var/lib/images/rhel9.qcow2}
        - name: data
          size_bytes: 21474836480
          source: {blank: true}
      nics:
        - bridge: br0
          mac: "52:54:00:12:34:56"
      power_state: running

- name: Stop it gracefully (forced off after 60 s)
  vmshift.virt.libvirt_vm:
    spec: {name: web-01}
    state: stopped
    shutdown_timeout: 60

- name: Remove it with its volumes
  vmshift.virt.libvirt_vm:
    spec: {name: web-01, disks: [{name: root}, {name: data}]}
    state: absent
    remove_volumes: true
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
  sample: [create volume web-01-root.qcow2, define domain, start domain]
domain:
  description: The domain after the run.
  returned: always
  type: dict
  contains:
    name: {description: Domain name., type: str, returned: always}
    uuid: {description: Domain UUID; null when it does not exist (yet)., type: str, returned: when not absent}
    state: {description: "running, shutoff, paused, crashed or undefined.", type: str, returned: always}
    view:
      description: The managed fields of the domain (name, type, memory, vCPUs, topology, firmware, disks, NICs).
      type: dict
      returned: when not absent
wait:
  description: What was waited for, what was found (the matching console line, or the addresses) and how long it took.
  returned: when the domain was set to run and O(wait_for) is not V(none), outside check mode
  type: dict
  sample: {for: serial, result: "VMSHIFT-GUEST-READY kernel=6.1.0", seconds: 4.2}
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import libvirt_argument_spec, libvirt_guest_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LIBVIRT
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.service import ensure_vm


def main():
    argument_spec = libvirt_argument_spec()
    argument_spec.update(libvirt_guest_argument_spec())
    argument_spec.update(
        spec=dict(type="dict", required=True),
        state=dict(type="str", default="present", choices=["present", "absent", "started", "stopped", "restarted"]),
        pool=dict(type="str", default="default"),
        shutdown_timeout=dict(type="int", default=120),
        autostart=dict(type="bool"),
        remove_volumes=dict(type="bool", default=False),
    )
    run_module(argument_spec, lambda module: ensure_vm(module.params, module.check_mode), libraries=[LIBVIRT],
               required_if=[("wait_for", "serial", ("serial_log", "serial_pattern"))])


if __name__ == "__main__":
    main()
