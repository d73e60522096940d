#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_migrate
short_description: Migrate a vSphere VM onto a libvirt/KVM host, verified, resumable, rolled back on failure
version_added: 0.1.0
description:
  - Moves one vSphere VM to a libvirt/KVM host. Run it on the KVM host (or a conversion host that
    shares the storage pool's directory) with C(delegate_to); the disks are pulled from the
    datastore straight onto that host, so each added KVM host adds copy bandwidth.
  - "Steps, each recorded in O(work_dir) so a rerun knows where it stands: 1. preflight (read-only):
    the assessment's critical concerns (vmshift.virt.migration_assess rules), target name and MAC
    collisions, unmapped port groups, pool space, firmware, the disk descriptors, all reported in one
    message before anything changes; 2. the source power state is recorded on disk; 3. the source is
    shut down through VMware Tools (up to O(shutdown_timeout)), then powered off; 4. every disk is
    copied and verified; 5. optional guest conversion with C(virt-v2v-in-place); 6. the domain is
    defined from the neutral VM spec (virtio disks and NICs, MACs, BIOS UUID and firmware kept);
    7. it is started as O(target_power_state) asks and waited for (O(wait_for)); 8. it is marked
    done in its libvirt metadata and with a note in the source's custom attribute
    O(source_note_attribute)."
  - "The disk copy reads the VMDK descriptor and its flat extents over the datastore's HTTPS
    C(/folder) endpoint with the vSphere session, in parallel ranged GETs (O(copy_workers) x
    O(chunk_size_mib)), written straight into the volume (raw, or qcow2 with its metadata preallocated
    and the data written in place). All-zero MiB blocks stay holes. Every write is checked for its full
    length, and each chunk's CRC-32 is journaled once its data is on disk (the target flushed). A killed
    copy resumes from the journal on the next run, which checks every journaled chunk against its
    checksum, so a byte damaged in between fails the run, and writes the other chunks whole, zero blocks
    included. Progress (bytes, rate, ETA) is written to C(<work_dir>/<instance uuid>/<disk>.progress.json)
    every second, for a person or an async job to watch."
  - A rerun on a VM already migrated changes nothing. A failed step rolls back what this migration
    made on the target (domain, volumes, partial copies) and powers the source back on if it was on;
    the source is never deleted or reconfigured. The failure names the step and the reason, says
    C(changed=true) once something changed, and lists in C(left) what it could not undo.
  - "One run per source VM at a time. Before anything changes a run takes an exclusive lock on
    C(<work_dir>/<instance uuid>.lock) on its host and claims the source in O(source_note_attribute)
    (V(migrating {owner}), renewed every minute, read back before every step that acts). A second run on
    the same host, or on another host, is refused at once, naming the holder (host, pid, target, name)
    and since when. The attribute is read before the preflight and again right before the claim is
    written: a run whose preflight overlapped a rival's claim, or a migration completed elsewhere, stops
    there without changing anything. The lock of a killed run is free at once; its claim is taken over at
    once on its own host and after 5 minutes without renewal from another, and the result's C(actions)
    says so. A rollback powers the source back on only while the claim is still this run's. A failure that
    could not undo everything leaves V(left {owner, left}) in the attribute: only a rerun on the same host
    (which has the record) may take it over. Setting O(source_note_attribute) to an empty string turns the
    claim off, and with it the protection against a run on another host."
  - "A copy resumed after a kill trusts only a source that did not change: when a disk's copy begins, its
    content ID (CID), CBT changeId and the size and modification time of its files (datastore browser)
    are recorded; a rerun that finds any of them changed, none recorded, or the source VM powered on,
    starts that disk's copy over and says why in C(disks[].restarted) and C(actions)."
  - "The password stays on the controller: with O(vsphere_login=controller) (the default) the task logs in
    to vSphere on the Ansible controller, with the connection options or, as AAP's VMware credential
    injects them, the controller's E(VMWARE_HOST), E(VMWARE_USER), E(VMWARE_PASSWORD) (and E(VMWARE_PORT),
    E(VMWARE_VALIDATE_CERTS), E(VMWARE_CA_PATH)), and hands the KVM host a one-time clone ticket of that
    session (C(AcquireCloneTicket)) in place of the password. The host clones the session with it
    (C(CloneSession)) at once, which spends it; a killed async job leaves only a spent ticket in Ansible's
    module file. The controller logs its session out when the task ends; with C(async) it cannot know when
    the host has cloned it (a logout first would void the ticket), so that session is left to vCenter's
    idle timeout. One run logs in once; all its migrations share the session."
  - Only flat and VMFS disks are copied; sparse and snapshot-delta disks are refused in preflight
    (consolidate snapshots first). Cold migration only.
author:
  - vmshift.virt maintainers (@vmshift)
extends_documentation_fragment:
  - vmshift.virt.vsphere
  - vmshift.virt.libvirt
  - vmshift.virt.libvirt_guest
attributes:
  check_mode:
    support: full
    description: Runs the read-only preflight and reports the steps it would take; changes nothing anywhere.
  diff_mode:
    support: partial
    description: The target domain and the actions, after; nothing before (the domain does not exist).
options:
  vsphere_login:
    description:
      - Where the vSphere login happens. V(controller) logs in on the Ansible controller and sends the host a
        one-time clone ticket, so the password never reaches the host (O(ca_path) is then read on the controller
        and on the host). V(host) sends the credentials to the host, which logs in itself; for a controller that
        cannot reach vSphere.
    type: str
    choices: [controller, host]
    default: controller
  session_ticket:
    description:
      - A vSphere clone ticket (C(SessionManager.AcquireCloneTicket)) to clone a session with, in place of
        O(username) and O(password). Set by the task itself with O(vsphere_login=controller); give it only
        from a tool of your own that acquires tickets. Good once. Never logged or returned.
    type: str
  name:
    description: The source VM's name (unique on the vCenter). Exactly one of O(name), O(moref), O(uuid), O(vms).
    type: str
  moref:
    description: The source VM's managed object id, for example V(vm-42).
    type: str
  uuid:
    description: The source VM's instance UUID or BIOS UUID.
    type: str
  vms:
    description:
      - Several VMs onto this host in one run, each C({name|moref|uuid, overrides, serial_log}), each VM listed
        once; the other options apply to all. They start in the order given, O(parallel) at a time (a slot
        that frees is taken at once), each with its own steps, record and rollback; one failing does not
        stop the others unless O(max_failed) says so. The task fails when any failed, with every VM's result
        in RV(results). The migration_wave role runs a whole wave on a target host this way (one start-up
        and one task).
      - Within the batch, a VM's preflight also refuses a target name or MAC that another VM of the batch
        has taken (the first to pass its preflight keeps it), so two VMs never write the same volumes.
    type: list
    elements: dict
    suboptions:
      name:
        description: The source VM's name. Exactly one of O(vms[].name), O(vms[].moref), O(vms[].uuid).
        type: str
      moref:
        description: The source VM's managed object id.
        type: str
      uuid:
        description: The source VM's instance UUID or BIOS UUID.
        type: str
      overrides:
        description: This VM's target values, in place of O(overrides) (not merged with it).
        type: dict
        suboptions:
          name:
            description: The domain name, and the prefix of its volumes' names.
            type: str
          cpu:
            description: C(sockets), C(cores), C(threads).
            type: dict
          memory_mib:
            description: Memory in MiB.
            type: int
          firmware:
            description: C(type) (V(bios) or V(efi)) and C(secure_boot).
            type: dict
          machine:
            description: The machine type, for example V(q35).
            type: str
      serial_log:
        description: This VM's console log file, in place of O(serial_log).
        type: path
  parallel:
    description:
      - With O(vms), how many migrations act at once (power off the source, copy, convert, define, start).
      - As many more prepare behind them (the host lock, the preflight, the claim on the source and the second
        it must settle), so a migration is ready to act when a slot frees.
    type: int
    default: 4
  parallel_per_source_host:
    description:
      - With O(vms), how many migrations at once may read from the same ESXi host (unset, no limit besides
        O(parallel)). Applies to VMs given by name or moref; each VM given by UUID counts on its own.
    type: int
  max_failed:
    description:
      - With O(vms), once more than this many migrations failed, start no more; the rest are in RV(results)
        with C(not_started). Unset, all are tried.
    type: int
  pool:
    description: The libvirt storage pool (a directory pool on the host running the module) for the disks.
    type: str
    default: default
  disk_format:
    description: The target volumes' format. Volumes are named C(<name>-disk<N>.qcow2), or C(.img) for raw.
    type: str
    choices: [qcow2, raw]
    default: qcow2
  network_map:
    description:
      - "Port group (standard or distributed) -> C({bridge: <Linux bridge>}) or C({network: <libvirt network>})."
      - Every port group of the VM's NICs must be mapped; an unmapped one is refused in preflight.
    type: dict
    default: {}
  overrides:
    description:
      - Target values instead of the source's, in the neutral VM spec's keys (docs/vm_spec.md); checked as
        M(vmshift.virt.libvirt_vm) checks a spec, before any connection.
    type: dict
    default: {}
    suboptions:
      name:
        description: The domain name, and the prefix of its volumes' names.
        type: str
      cpu:
        description: C(sockets), C(cores), C(threads).
        type: dict
      memory_mib:
        description: Memory in MiB.
        type: int
      firmware:
        description: C(type) (V(bios) or V(efi)) and C(secure_boot).
        type: dict
      machine:
        description: The machine type, for example V(q35).
        type: str
  target_power_state:
    description: The target domain's power state at the end. The source stays powered off either way.
    type: str
    choices: [running, stopped]
    default: running
  guest_conversion:
    description:
      - V(always) runs C(virt-v2v-in-place) on the copied disks (virtio drivers in, VMware Tools out);
        refused in preflight when it is not installed on the host.
      - V(auto) converts a guest that would not boot on virtio as it is - a Linux guest whose initramfs has no
        virtio block driver (as inspection shows for an initramfs built for VMware hardware only, dracut
        hostonly or initramfs-tools C(MODULES=dep)), or a Windows guest - and nothing else. Such a guest is
        refused in preflight when C(virt-v2v-in-place) is not installed. Without inspection only Windows
        guests (by the guest OS vSphere reports) are converted.
      - V(never) converts nothing; a guest that inspection shows would not boot on virtio is refused in
        preflight, with the reason.
    type: str
    choices: [auto, always, never]
    default: auto
  guest_inspection:
    description:
      - Read the guest on the source disks before anything changes, over the same HTTPS datastore access the
        copy uses (libguestfs's C(guestfish) over an C(nbdkit) curl export, read-only, while the source may
        still run) - OS, distribution and version, host name, whether the initramfs has virtio drivers, the
        network stack and which interface names its configuration uses. The result's C(guest) holds it.
      - An interface configured by name (C(ens192) on VMware) gets another name on KVM's hardware, so its
        static address never comes up. When the VM has one NIC and the guest names one interface, that name is
        pinned to the NIC's MAC with a systemd C(.link) file written into the copied disk before the conversion
        (which puts it in the initramfs too). More NICs than that are named in C(guest.concerns).
      - V(auto) inspects when C(guestfish) and C(nbdkit) are on the host and goes on without when the guest
        cannot be read (the reason in C(guest.reason)); V(always) fails preflight instead; V(never) skips it.
      - Under TCG (no nested KVM) set E(LIBGUESTFS_BACKEND_SETTINGS=force_tcg) for the module.
    type: str
    choices: [auto, always, never]
    default: auto
  shutdown_timeout:
    description: Seconds to wait for the source's guest shutdown before powering it off.
    type: int
    default: 300
  copy_workers:
    description:
      - Parallel ranged reads per disk.
      - When not set, 4 for one VM; with O(vms), 4 shared by the O(parallel) copies running at once (at least 1
        each), as several copies already keep the host busy and more streams only add contention.
    type: int
  chunk_size_mib:
    description: The unit of copy, checksum and resume, in MiB (each copy thread holds one chunk in memory).
    type: int
    default: 16
  bandwidth_limit_mib:
    description: At most this many MiB/s read from the datastore (all workers together); no limit when not set.
    type: int
  work_dir:
    description: Where the migration's record, copy journals and progress live on the host running the module.
    type: path
    default: /var/lib/vmshift/migrations
  lock_timeout:
    description:
      - Seconds to wait for another run that migrates the same VM on this host (it holds the VM's lock in
        O(work_dir)) to end, before refusing the VM. V(0) refuses at once.
      - A run whose controller died (an AAP job canceled, its node lost) goes on to its end on the host. A rerun
        that waits for it then finds the VM migrated and reports that run's steps, or takes over what it left.
        The two never act at once.
      - Nothing waits in check mode.
    type: int
    default: 0
  source_note_attribute:
    description:
      - The source VM's custom attribute (defined if missing) that holds the claim of the run migrating it,
        then where and when it was migrated. An empty value leaves the source without a note and without
        a claim (a run on another KVM host is then not refused).
    type: str
    default: vmshift.migrated
  rollback:
    description:
      - Remove what this migration made on the target and restore the source's power state when a
        step fails. V(false) leaves everything for inspection (the source stays powered off).
    type: bool
    default: true
  progress_interval:
    description:
      - How often, in seconds, each migration writes how far it is (its step; during the copy, the bytes copied,
        the rate and the seconds left) into its claim in O(source_note_attribute), where vCenter shows it and
        O(progress) reads it. At most 60 (the claim's lease is renewed at least that often); V(0) writes none.
    type: int
    default: 30
  progress:
    description:
      - Say, while this task runs, how far the migrations of the VMs in O(progress.vms) are, one line per VM whose
        state changed every O(progress_interval) seconds, read from their claims with the controller's vSphere
        login (O(vsphere_login=controller)); the migrations may run in this task or in other jobs (the
        migration_wave role gives the whole wave to the job it runs in the foreground). When this task's own
        migrations end, it goes on while another job's migration of one of those VMs holds its claim, and
        never into the last two intervals of the task's C(timeout).
      - Handled on the controller; not with C(async) or in check mode.
    type: dict
    suboptions:
      vms:
        description: The VMs to follow, each C({name, moref, target}).
        type: list
        elements: dict
        required: true
      wave:
        description: The wave number, said with each line.
        type: int
      page:
        description:
          - A file on the controller for a live HTML page of the progress, rewritten at each poll and refreshed by the
            browser (the migration_wave role uses the wave's report, which replaces it when the wave ends).
        type: path
notes:
  - Tested against govmomi's vSphere simulator (its datastore C(/folder) endpoint) and a real
    libvirt daemon with QEMU; inspection (libguestfs, nbdkit) and C(virt-v2v-in-place) run for real on a
    Debian 12 guest built as on VMware, which then boots on virtio and answers on its static address.
    Windows and RHEL-family guests are not tested.
"""

EXAMPLES = r"""
- name: Migrate web-01 onto the KVM host, on bridge br-vlan93
  vmshift.virt.vm_migrate:
    name: web-01
    pool: vms
    network_map:
      vlan-93: {bridge: br-vlan93}
    wait_for: ip
  delegate_to: kvm01.example.com

- name: Three VMs onto the same host, two at a time, one at a time per ESXi host, none more after a failure
  vmshift.virt.vm_migrate:
    vms: [{moref: vm-1042}, {moref: vm-1043}, {name: web-03, overrides: {name: web-03-kvm}}]
    parallel: 2
    parallel_per_source_host: 1
    max_failed: 0
    network_map:
      vlan-93: {bridge: br-vlan93}
  delegate_to: kvm01.example.com

- name: Preview (check mode) what a migration would do
  vmshift.virt.vm_migrate:
    moref: vm-1042
    network_map:
      VM Network: {network: default}
  check_mode: true
  delegate_to: kvm01.example.com

- name: A long copy as an async job, limited to 200 MiB/s
  vmshift.virt.vm_migrate:
    name: db-01
    disk_format: raw
    bandwidth_limit_mib: 200
    network_map:
      db-net: {bridge: br-db}
  async: 14400
  poll: 30
  delegate_to: kvm02.example.com
"""

RETURN = r"""
msg:
  description: V(migrated), V(already migrated (<time>)) or V(would migrate).
  returned: always
  type: str
actions:
  description: What was done, or would be in check mode, in order.
  returned: always
  type: list
  elements: str
  sample: ["power off source VM (guest shutdown)", "copy [ds1] web-01/web-01.vmdk to web-01-disk0.qcow2",
           "define domain", "start domain"]
steps:
  description:
    - Each step that ran, with its start (epoch seconds) and its duration in seconds.
    - For a VM found already migrated, the steps of the run that migrated it, from its record in O(work_dir) (so a
      run whose controller died before it reported is still reported by the next); empty without that record.
  returned: always
  type: list
  elements: dict
  sample: [{step: preflight, seconds: 0.4}, {step: copy, seconds: 12.1}, {step: define, seconds: 0.2}]
guest:
  description:
    - What inspection read of the guest before anything changed (O(guest_inspection)); null when it did not run.
  returned: always
  type: dict
  contains:
    inspected:
      description: Whether the guest could be read; when not, C(reason) says why.
      type: bool
      returned: always
    type:
      description: C(linux), C(windows), or null when no OS was found.
      type: str
      returned: always
    distro:
      description: The distribution (libguestfs's name, for example C(debian) or C(rhel)).
      type: str
      returned: when inspected
    version: {description: Major and minor version., type: str, returned: when inspected}
    hostname: {description: The host name in the guest's configuration., type: str, returned: when inspected}
    virtio_block:
      description: Whether the initramfs (or the kernel) has a virtio block driver; null when it could not be read.
      type: bool
      returned: for a Linux guest
    interfaces:
      description: Each interface the network configuration sets up (name, stack, static, addresses, mac, file).
      type: list
      elements: dict
      returned: for a Linux guest
    pins:
      description: The interface names pinned to MACs in the migrated guest (name, mac).
      type: list
      elements: dict
      returned: for a Linux guest
    concerns: {description: What could not be kept (names that could not be pinned)., type: list, elements: str, returned: for a Linux guest}
    layout:
      description:
        - The guest's file systems as inspection found them (C(root) device, its C(uuid), C(mounts) as mount point and
          device); the pin step mounts them so on the copy, without inspecting again, while the root's UUID is the same.
      type: dict
      returned: when inspected
    seconds: {description: How long inspection took (before the source was powered off)., type: float, returned: always}
  sample: {inspected: true, type: linux, distro: debian, version: "12.0", hostname: web01, virtio_block: false,
           interfaces: [{name: ens192, stack: ifupdown, static: true, addresses: [10.0.0.5/24], mac: null}],
           pins: [{name: ens192, mac: "00:50:56:aa:bb:cc"}], concerns: [], seconds: 21.4}
disks:
  description: Each copied disk (for a VM found already migrated, those of the run that migrated it, as for RV(steps)).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Disk name in the neutral spec., type: str, returned: always}
    source: {description: The VMDK read., type: str, returned: always}
    volume: {description: The target volume in the pool., type: str, returned: always}
    size_bytes: {description: Virtual size., type: int, returned: always}
    copied_bytes: {description: Bytes read in this run (less than the size when resumed)., type: int, returned: always}
    written_bytes:
      description: Bytes written; zero blocks of a new file are left as holes (a resumed copy writes its chunks whole).
      type: int
      returned: always
    seconds: {description: Copy time., type: float, returned: always}
    bytes_per_second: {description: Copy rate., type: int, returned: always}
    cpu_seconds: {description: "CPU time of the copy: its worker threads reading, checksumming and writing.", type: float, returned: always}
    checksum:
      description: SHA-256 over the chunks' CRC-32 values in order (the journal's checksums); the same source and chunk size give the same value.
      type: str
      returned: always
    restarted:
      description: Why a copy an earlier run began was started over (the source changed or ran since), else null.
      type: str
      returned: when the disk was copied in this run
domain:
  description:
    - The target domain (name, uuid, state); C(uuid) is null in check mode for a VM not migrated yet.
    - With O(vms), C(state) is read again once the last migration of the run ended (V(undefined) if the domain
      is gone by then; V(unknown) with the reason in C(state_error) if the host could not be read).
  returned: always
  type: dict
source:
  description: The source VM (name, moref, instance_uuid) and its power state before the migration.
  returned: always
  type: dict
wait:
  description: What was waited for on the target and what was found.
  returned: when the target was started and O(wait_for) is not V(none)
  type: dict
results:
  description:
    - With O(vms), each VM's result (the keys above, and C(failed) with C(msg) for a VM that failed), in the order
      of O(vms); a VM that O(max_failed) kept from starting has C(not_started=true) and C(msg).
  returned: when O(vms) is given
  type: list
  elements: dict
failed_step:
  description: On failure, the step that failed.
  returned: failure
  type: str
rollback:
  description: On failure, what the rollback did (C(actions)) and anything it could not undo (C(left)).
  returned: failure
  type: dict
left:
  description: On failure, what is left on the target or the source that this run changed (empty when all was undone).
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import (
    libvirt_argument_spec,
    libvirt_guest_argument_spec,
    vsphere_argument_spec,
)
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LIBVIRT
from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import migrate_vm
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import PYVMOMI


OVERRIDES = dict(name=dict(type="str"), cpu=dict(type="dict"), memory_mib=dict(type="int"), firmware=dict(type="dict"),
                 machine=dict(type="str"))


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(libvirt_argument_spec())
    argument_spec.update(libvirt_guest_argument_spec())
    argument_spec.update(
        vsphere_login=dict(type="str", default="controller", choices=["controller", "host"]),
        session_ticket=dict(type="str", no_log=True),
        name=dict(type="str"),
        moref=dict(type="str"),
        uuid=dict(type="str"),
        vms=dict(type="list", elements="dict", options=dict(
            name=dict(type="str"), moref=dict(type="str"), uuid=dict(type="str"),
            overrides=dict(type="dict", options=OVERRIDES), serial_log=dict(type="path"),
        ), mutually_exclusive=[("name", "moref", "uuid")], required_one_of=[("name", "moref", "uuid")]),
        parallel=dict(type="int", default=4),
        parallel_per_source_host=dict(type="int"),
        max_failed=dict(type="int"),
        pool=dict(type="str", default="default"),
        disk_format=dict(type="str", default="qcow2", choices=["qcow2", "raw"]),
        network_map=dict(type="dict", default={}),
        overrides=dict(type="dict", default={}, options=OVERRIDES),
        target_power_state=dict(type="str", default="running", choices=["running", "stopped"]),
        guest_conversion=dict(type="str", default="auto", choices=["auto", "always", "never"]),
        guest_inspection=dict(type="str", default="auto", choices=["auto", "always", "never"]),
        shutdown_timeout=dict(type="int", default=300),
        copy_workers=dict(type="int"),
        chunk_size_mib=dict(type="int", default=16),
        bandwidth_limit_mib=dict(type="int"),
        work_dir=dict(type="path", default="/var/lib/vmshift/migrations"),
        source_note_attribute=dict(type="str", default="vmshift.migrated"),
        lock_timeout=dict(type="int", default=0),
        rollback=dict(type="bool", default=True),
        progress_interval=dict(type="int", default=30),
        # the controller's (see plugins/action/vm_migrate.py): declared so that it is documented and checked
        progress=dict(type="dict", options=dict(vms=dict(type="list", elements="dict", required=True), wave=dict(type="int"),
                                                page=dict(type="path"))),
    )
    run_module(argument_spec, lambda module: migrate_vm(module.params, module.check_mode), libraries=[PYVMOMI, LIBVIRT],
               required_one_of=[("name", "moref", "uuid", "vms")], mutually_exclusive=[("name", "moref", "uuid", "vms")])


if __name__ == "__main__":
    main()
