# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migration assessment: pure rules from VM facts (vsphere_vm_info) and a target description to
concerns with a severity and a one-line fix. Critical concerns block migration.

The rules cover what Forklift/MTV validates for vSphere sources and what a KVM target adds
(networks mapped, room, firmware, name and MAC collisions). Each rule is a small function so a rule
is easy to find, test and change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest import needs_virtio_drivers, pins_text

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES = (CRITICAL, WARNING, INFO)
RFC1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Guest OS ids (prefixes) that KVM does not run as they are.
UNSUPPORTED_GUESTS = ("darwin", "netware", "solaris", "os2", "dos", "win31", "win95", "win98", "winMe", "winNT",
                      "win2000", "winXP", "winNetStandard", "winNetEnterprise")
DEFAULT_MAX_DISKS = {"libvirt": 28, "kubevirt": 28}
WINDOWS_PREFIX = "win"


# (the kind of device in the facts, the concern's code, its severity, what it is, the fix)
DEVICE_RULES = (
    ("passthrough", "passthrough_device", CRITICAL, "PCI passthrough device '%s'",
     "remove the device from the VM, or plan a device on the target and add it after migration"),
    ("sriov", "sriov_nic", CRITICAL, "SR-IOV NIC '%s'",
     "replace it with a vmxnet3 NIC before migration (SR-IOV is set up on the target separately)"),
    ("usb", "usb_device", WARNING, "USB controller or device '%s'", "USB devices do not move; remove them or reattach on the target"),
    ("tpm", "vtpm", WARNING, "virtual TPM '%s'", "vTPM contents do not move: suspend BitLocker/LUKS TPM binding before migrating"),
)


def concern(code, severity, message, fix):
    return {"code": code, "severity": severity, "message": message, "fix": fix}


def _source_rules(vm, migration_type):
    found = []
    devices = vm.get("devices") or {}
    for kind, code, severity, what, fix in DEVICE_RULES:
        found.extend(concern(code, severity, what % label, fix) for label in devices.get(kind, []))
    for disk in vm.get("disks") or []:
        name = disk.get("label")
        if disk.get("rdm"):
            found.append(concern("rdm_disk", CRITICAL, "disk '%s' is a raw device mapping" % name,
                                 "convert the RDM to a virtual disk (Storage vMotion) or move the LUN separately"))
        if disk.get("sharing") == "sharingMultiWriter":
            found.append(concern("shared_disk", CRITICAL, "disk '%s' is shared (multi-writer)" % name,
                                 "migrate the cluster that shares it as a unit, or detach the shared disk"))
        if (disk.get("disk_mode") or "").startswith("independent"):
            found.append(concern("independent_disk", CRITICAL if migration_type == "warm" else WARNING,
                                 "disk '%s' is independent (%s)" % (name, disk["disk_mode"]),
                                 "set the disk to dependent; independent disks cannot be snapshotted for warm migration"))
        if not disk.get("datastore"):
            found.append(concern("disk_not_on_datastore", CRITICAL, "disk '%s' is not on a datastore" % name,
                                 "move the disk to a datastore the copy can read"))
        if not disk.get("capacity_bytes") or disk["capacity_bytes"] <= 0:
            found.append(concern("invalid_disk_capacity", CRITICAL, "disk '%s' reports no capacity" % name,
                                 "check the disk in vCenter; a disk without a size cannot be copied"))
    if vm.get("snapshot_count"):
        found.append(concern("snapshots_present", WARNING, "%d snapshot(s)" % vm["snapshot_count"],
                             "consolidate or delete snapshots; the copy reads the current state only"))
    if migration_type == "warm" and not vm.get("cbt_enabled"):
        found.append(concern("cbt_disabled", CRITICAL, "changed block tracking is off (needed for warm migration)",
                             "enable CBT (ctkEnabled) and take and delete a snapshot, or migrate cold"))
    if vm.get("cpu_hot_add") or vm.get("memory_hot_add"):
        found.append(concern("hot_plug", INFO, "CPU or memory hot-add is enabled",
                             "the target VM gets the current CPU and memory; hot-plug is set up on the target if needed"))
    if vm.get("cpu_affinity"):
        found.append(concern("cpu_affinity", WARNING, "CPU affinity %s" % vm["cpu_affinity"],
                             "affinity does not carry over; pin vCPUs on the target if the workload needs it"))
    guest = vm.get("guest_id") or ""
    if guest.startswith(UNSUPPORTED_GUESTS):
        found.append(concern("unsupported_guest_os", CRITICAL, "guest OS '%s' does not run on KVM as it is" % guest,
                             "upgrade or replace the guest OS first, or leave this VM on vSphere"))
    elif not guest or guest.startswith("other"):
        found.append(concern("unknown_guest_os", WARNING, "guest OS '%s' is not known" % (guest or "unset"),
                             "set the VM's guest OS in vCenter so conversion and drivers can be chosen"))
    if not vm.get("hostname") or not vm.get("ip_address"):
        found.append(concern("no_guest_identity", WARNING, "VMware Tools reports no host name or IP",
                             "start VMware Tools; without an IP the migrated guest can only be verified by its console"))
    return found


def _target_rules(vm, target):
    found = []
    kind = target.get("type", "libvirt")
    name = target.get("name_prefix", "") + (vm.get("name") or "")
    if kind == "kubevirt" and (len(name) > 63 or not RFC1123.match(name)):
        found.append(concern("invalid_target_name", CRITICAL, "'%s' is not a valid Kubernetes name" % name,
                             "give the VM a target name of lower-case letters, digits and '-' (RFC 1123)"))
    elif kind == "libvirt" and ("/" in name or not name):
        found.append(concern("invalid_target_name", CRITICAL, "'%s' is not a valid libvirt domain name" % name,
                             "give the VM a target name without '/'"))
    max_disks = target.get("max_disks") or DEFAULT_MAX_DISKS.get(kind, 28)
    if len(vm.get("disks") or []) > max_disks:
        found.append(concern("too_many_disks", CRITICAL, "%d disks; the target takes %d" % (len(vm["disks"]), max_disks),
                             "merge or drop disks, or use a SCSI bus on the target"))
    network_map = target.get("network_map")
    if network_map is not None:
        for nic in vm.get("nics") or []:
            if nic.get("network") not in network_map:
                found.append(concern("unmapped_network", CRITICAL,
                                     "NIC '%s' is on port group '%s', which the network map does not map"
                                     % (nic.get("label"), nic.get("network")),
                                     "add '%s' to the network map (a bridge, libvirt network or NAD)" % nic.get("network")))
    firmware = vm.get("firmware")
    if firmware == "efi" and target.get("efi_available") is False:
        found.append(concern("efi_unavailable", CRITICAL, "the VM boots with EFI; the target has no UEFI firmware",
                             "install OVMF (edk2) on the target host"))
    if vm.get("secure_boot") and target.get("secure_boot_available") is False:
        found.append(concern("secure_boot_unavailable", CRITICAL, "the VM uses secure boot; the target cannot",
                             "install OVMF with secure boot (edk2 secboot) on the target"))
    if name in set(target.get("existing_names") or []):
        found.append(concern("name_collision", CRITICAL, "the target already has a VM named '%s'" % name,
                             "rename the target VM (name_prefix) or remove the existing one"))
    existing_macs = set(m.lower() for m in target.get("existing_macs") or [])
    for nic in vm.get("nics") or []:
        if nic.get("mac") and nic["mac"].lower() in existing_macs:
            found.append(concern("mac_collision", CRITICAL, "MAC %s is already used on the target" % nic["mac"],
                                 "find the VM on the target that holds it; two NICs with one MAC break the network"))
    return found


def virtio_lack(vm):
    """Why the guest would not boot on virtio unconverted (or None), and whether inspection said so: from
    inspection (``vm.guest``) when it found an OS, else from the guest OS vSphere reports."""
    seen = vm.get("guest") or {}
    if seen.get("type"):
        return needs_virtio_drivers(seen), True
    if (vm.get("guest_id") or "").startswith(WINDOWS_PREFIX):
        return "a Windows guest has no virtio drivers until it is converted", False
    return None, False


def _guest_rules(vm, target):
    """Will the guest boot on virtio, and will its network come up: what inspection (``vm.guest``, as
    vm_migrate and vsphere_vm_info's guest_inspection return it) read of the disks, weighed against the
    conversion the target does (``guest_conversion``, default auto; ``conversion_available``: whether
    virt-v2v-in-place is on the KVM host, None when not known)."""
    found = []
    guest = vm.get("guest") or {}
    conversion = target.get("guest_conversion") or "auto"
    available = target.get("conversion_available")
    lacks, inspected = virtio_lack(vm)
    if conversion == "always" and available is False:
        found.append(concern("conversion_unavailable", CRITICAL, "guest_conversion is always, but virt-v2v-in-place is "
                             "not installed on the KVM host", "install virt-v2v and nbdkit there, or set guest_conversion: never"))
    if lacks and conversion == "auto" and available is False:
        found.append(concern("guest_needs_conversion", CRITICAL, "the guest would not boot on virtio: %s" % lacks,
                             "install virt-v2v and nbdkit on the KVM host so that it is converted"))
    elif lacks and conversion == "never" and inspected and guest["type"] == "linux":
        # (inspection does not look for a Windows guest's drivers: never is trusted for Windows)
        found.append(concern("guest_needs_conversion", CRITICAL, "the guest would not boot on virtio: %s (inspection)"
                             % lacks, "set guest_conversion: auto to convert it, or add the virtio drivers to the guest first"))
    elif lacks and conversion != "never":
        found.append(concern("guest_converted", INFO, "the guest is converted with virt-v2v-in-place: %s" % lacks,
                             "nothing to do; the KVM host needs virt-v2v and nbdkit"))
    if guest.get("inspected") is False:
        found.append(concern("guest_not_inspected", WARNING, "the guest's disks were not read: %s" % guest.get("reason"),
                             "without inspection the guest OS vSphere reports decides the conversion and no interface "
                             "name is pinned; install libguestfs-tools and nbdkit where the inspection runs"))
    elif guest.get("inspected") and not guest.get("type"):
        found.append(concern("guest_os_not_found", WARNING, "inspection found no operating system: %s" % guest.get("reason"),
                             "an encrypted or unusual root cannot be converted or pinned; give the guest virtio drivers "
                             "and migrate it with guest_conversion: never"))
    if guest.get("pins"):
        found.append(concern("interface_names_pinned", INFO, "the guest configures %s by name" % ", ".join(
            p["name"] for p in guest["pins"]), "nothing to do; vm_migrate will %s in the guest" % pins_text(guest["pins"])))
    for text in guest.get("concerns") or []:
        found.append(concern("interface_names_unknown", WARNING, text.split("; ", 1)[0], text.split("; ", 1)[-1]))
    return found


def assess_vm(vm, target=None, migration_type="cold"):
    """Concerns for one VM, critical first."""
    concerns = _source_rules(vm, migration_type) + _guest_rules(vm, target or {}) + (
        _target_rules(vm, target) if target else [])
    concerns.sort(key=lambda c: SEVERITIES.index(c["severity"]))
    return concerns


def _capacity_rules(results, vms, target):
    """Capacity is a property of the whole set: the VMs that fit, in order, use up the room."""
    free_bytes = target.get("free_bytes")
    free_cpus = target.get("free_cpus")
    free_memory = target.get("free_memory_mib")
    for result, vm in zip(results, vms):
        if result["blocked"]:
            continue
        need_bytes = sum(d.get("capacity_bytes") or 0 for d in vm.get("disks") or [])
        need_cpus = (vm.get("cpu") or {}).get("count") or 1
        need_memory = vm.get("memory_mib") or 0
        for free, need, code, what, fix in (
                (free_bytes, need_bytes, "storage_space", "bytes of storage", "add storage or move VMs to a later wave"),
                (free_cpus, need_cpus, "cpu_capacity", "vCPUs", "add a host or move VMs to a later wave"),
                (free_memory, need_memory, "memory_capacity", "MiB of memory", "add a host or move VMs to a later wave")):
            if free is not None and need > free:
                result["concerns"].insert(0, concern(code, CRITICAL, "needs %d %s; %d left on the target after the VMs "
                                                     "before it" % (need, what, free), fix))
                result["blocked"] = True
        if not result["blocked"]:
            free_bytes = None if free_bytes is None else free_bytes - need_bytes
            free_cpus = None if free_cpus is None else free_cpus - need_cpus
            free_memory = None if free_memory is None else free_memory - need_memory


def assess(vms, target=None, migration_type="cold"):
    """Results per VM and a summary."""
    results = []
    for vm in vms:
        concerns = assess_vm(vm, target, migration_type)
        results.append({"name": vm.get("name"), "moref": vm.get("moref"), "concerns": concerns,
                        "blocked": any(c["severity"] == CRITICAL for c in concerns)})
    if target:
        _capacity_rules(results, vms, target)
    summary = dict((s, sum(1 for r in results for c in r["concerns"] if c["severity"] == s)) for s in SEVERITIES)
    summary.update(vms=len(results), blocked_vms=sum(1 for r in results if r["blocked"]),
                   ready_vms=sum(1 for r in results if not r["blocked"]))
    return results, summary
