# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure builders: retrieved vSphere properties -> VM facts -> the neutral VM spec.

Nothing here talks to a server: the input is what ``VsphereClient.retrieve`` returns, so every
function is unit-tested with pyVmomi data objects built in memory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import neutral_spec

try:
    from pyVmomi import vim
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    vim = None

VM_PROPERTIES = [
    "name", "parent", "resourcePool",
    "config.uuid", "config.instanceUuid", "config.guestId", "config.guestFullName", "config.template",
    "config.hardware.numCPU", "config.hardware.numCoresPerSocket", "config.hardware.memoryMB",
    "config.hardware.device", "config.firmware", "config.bootOptions.efiSecureBootEnabled",
    "config.changeTrackingEnabled", "config.cpuHotAddEnabled", "config.memoryHotAddEnabled",
    "config.annotation", "config.cpuAffinity", "customValue",
    "runtime.powerState", "runtime.host",
    "guest.hostName", "guest.ipAddress", "guest.toolsRunningStatus", "guest.net",
    "snapshot",
]
# The cheap part of a VM, fetched for every VM to apply the filters before the heavy properties.
SUMMARY_PROPERTIES = ["name", "parent", "resourcePool", "runtime.host", "runtime.powerState", "config.template",
                      "customValue"]
# What each filter reads of SUMMARY_PROPERTIES; name and config.template are always read (templates are
# left out unless asked for). Discovery asks only for what the given filters need: with none, the
# summary of 10,000 VMs is two properties each instead of seven.
FILTER_PROPERTIES = {"datacenter": ["parent"], "folder": ["parent"], "cluster": ["runtime.host"], "host": ["runtime.host"],
                     "resource_pool": ["resourcePool"], "power_state": ["runtime.powerState"],
                     "custom_attributes": ["customValue"]}


def summary_properties(filters):
    """The SUMMARY_PROPERTIES the given filters need."""
    wanted = set(["name", "config.template"])
    for key, paths in FILTER_PROPERTIES.items():
        if filters.get(key):
            wanted.update(paths)
    return [p for p in SUMMARY_PROPERTIES if p in wanted]


# The inventory tree around the VMs, fetched in the same collection to resolve placement by id.
TREE_PROPERTIES = {
    "HostSystem": ["name", "parent"],
    "ComputeResource": ["name", "parent"],
    "Datacenter": ["name", "parent"],
    "Folder": ["name", "parent"],
    "ResourcePool": ["name"],
    "Network": ["name"],
    "DistributedVirtualPortgroup": ["config.defaultPortConfig"],
}

_DATASTORE_PATH = re.compile(r"^\[(?P<ds>[^\]]+)\]\s*(?P<path>.*)$")


def split_datastore_path(file_name):
    """'[ds1] vm/vm.vmdk' -> ('ds1', 'vm/vm.vmdk'); a path not on a datastore -> (None, path)."""
    match = _DATASTORE_PATH.match(file_name or "")
    if not match:
        return None, file_name
    return match.group("ds"), match.group("path")


def _moid(ref):
    return ref._moId if ref is not None else None


def port_group_vlan(port_config):
    """The VLAN of a distributed port group: an id, 'trunk', 'pvlan <id>', or None when unknown."""
    vlan = getattr(port_config, "vlan", None)
    if vim is not None and isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec):
        return vlan.vlanId
    if vim is not None and isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec):
        return "trunk"
    if vim is not None and isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.PvlanSpec):
        return "pvlan %s" % vlan.pvlanId
    return None


def plain_tree(objects):
    """The inventory tree without the VMs, as plain data (names, parent ids, port group VLANs):
    cheap to hand to worker processes."""
    return dict((moid, (kind, {"name": props.get("name"), "parent": _moid(props.get("parent")),
                               "vlan": port_group_vlan(props.get("config.defaultPortConfig"))}))
                for moid, (kind, props) in objects.items() if kind != "VirtualMachine")


class Tree:
    """Names, parents and port group VLANs of the inventory objects, by moref id (from plain_tree)."""

    def __init__(self, objects):
        self.objects = objects

    def name(self, moid):
        entry = self.objects.get(moid)
        return entry[1].get("name") if entry else None

    def kind(self, moid):
        entry = self.objects.get(moid)
        return entry[0] if entry else None

    def vlan(self, moid):
        entry = self.objects.get(moid)
        return entry[1].get("vlan") if entry else None

    def parent(self, moid):
        entry = self.objects.get(moid)
        return entry[1].get("parent") if entry else None

    def ancestors(self, moid):
        """Parent chain from the nearest up to the root: [(moid, kind, name), ...]."""
        chain = []
        current = self.parent(moid)
        while current is not None and len(chain) < 64:
            chain.append((current, self.kind(current), self.name(current)))
            current = self.parent(current)
        return chain


def _controller_type(controller):
    if controller is None:
        return None
    table = (
        ("ParaVirtualSCSIController", "pvscsi"), ("VirtualLsiLogicSASController", "lsilogicsas"),
        ("VirtualLsiLogicController", "lsilogic"), ("VirtualBusLogicController", "buslogic"),
        ("VirtualAHCIController", "sata"), ("VirtualNVMEController", "nvme"), ("VirtualIDEController", "ide"),
    )
    for class_name, label in table:
        if isinstance(controller, getattr(vim.vm.device, class_name)):
            return label
    return type(controller).__name__


def _bus(controller_type):
    if controller_type in ("pvscsi", "lsilogic", "lsilogicsas", "buslogic"):
        return "scsi"
    return controller_type


def disk_facts(devices):
    by_key = dict((d.key, d) for d in devices or ())
    disks = []
    for dev in devices or ():
        if not isinstance(dev, vim.vm.device.VirtualDisk):
            continue
        backing = dev.backing
        datastore, path = split_datastore_path(getattr(backing, "fileName", None))
        controller_type = _controller_type(by_key.get(dev.controllerKey))
        # int(): pyVmomi's `long` is an int subclass that Ansible refuses to store as a host variable.
        capacity = int(dev.capacityInBytes if dev.capacityInBytes is not None else (dev.capacityInKB or 0) * 1024)
        disks.append({
            "label": dev.deviceInfo.label if dev.deviceInfo else "disk %s" % dev.key,
            "key": dev.key,
            "datastore": datastore,
            "path": path,
            "file_name": getattr(backing, "fileName", None),
            "capacity_bytes": capacity,
            "thin": bool(getattr(backing, "thinProvisioned", False)),
            "disk_mode": getattr(backing, "diskMode", None),
            "sharing": getattr(backing, "sharing", None) or "sharingNone",
            "rdm": isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo),
            "controller_type": controller_type,
            "bus": _bus(controller_type),
            "unit_number": dev.unitNumber,
        })
    return disks


def _adapter_type(nic):
    for class_name, label in (("VirtualVmxnet3", "vmxnet3"), ("VirtualE1000e", "e1000e"), ("VirtualE1000", "e1000"),
                              ("VirtualVmxnet2", "vmxnet2"), ("VirtualPCNet32", "pcnet32"),
                              ("VirtualSriovEthernetCard", "sriov")):
        if isinstance(nic, getattr(vim.vm.device, class_name)):
            return label
    return type(nic).__name__


def nic_facts(devices, tree, guest_net=None):
    """Each NIC; ``ip_addresses`` are what VMware Tools reports on the NIC of that MAC (guest.net)."""
    reported = {}
    for entry in guest_net or ():
        if entry.macAddress:
            reported.setdefault(entry.macAddress.lower(), set()).update(entry.ipAddress or ())
    nics = []
    for dev in devices or ():
        if not isinstance(dev, vim.vm.device.VirtualEthernetCard):
            continue
        backing = dev.backing
        network = vlan = None
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
            # A distributed port group's key is its moref id.
            network = tree.name(backing.port.portgroupKey) or backing.port.portgroupKey
            vlan = tree.vlan(backing.port.portgroupKey)
        elif isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
            network = tree.name(_moid(backing.network)) or backing.deviceName
        mac = (dev.macAddress or "").lower() or None
        nics.append({
            "label": dev.deviceInfo.label if dev.deviceInfo else "nic %s" % dev.key,
            "key": dev.key,
            "mac": mac,
            "ip_addresses": sorted(reported.get(mac, ())),
            "adapter_type": _adapter_type(dev),
            "network": network,
            "vlan": vlan,
            "connected": bool(dev.connectable and dev.connectable.connected),
        })
    return nics


def special_devices(devices):
    """Devices a KVM target cannot take as they are (labels), by kind."""
    kinds = {"passthrough": [], "usb": [], "tpm": [], "sriov": []}
    table = (("VirtualPCIPassthrough", "passthrough"), ("VirtualSriovEthernetCard", "sriov"),
             ("VirtualUSBController", "usb"), ("VirtualUSBXHCIController", "usb"), ("VirtualUSB", "usb"),
             ("VirtualTPM", "tpm"))
    for dev in devices or ():
        for class_name, kind in table:
            cls = getattr(vim.vm.device, class_name, None)
            if cls is not None and isinstance(dev, cls):
                kinds[kind].append(dev.deviceInfo.label if dev.deviceInfo else class_name)
                break
    return kinds


def _snapshot_count(snapshot_info):
    count = 0
    stack = list(snapshot_info.rootSnapshotList) if snapshot_info else []
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.childSnapshotList or ())
    return count


def placement(moid, props, tree):
    host = _moid(props.get("runtime.host"))
    compute = tree.parent(host) if host else None
    folders = []
    datacenter = None
    parent = _moid(props.get("parent"))
    chain = [(parent, tree.kind(parent), tree.name(parent))] + tree.ancestors(parent) if parent else []
    for ancestor, kind, name in chain:
        if kind == "Datacenter":
            datacenter = name
            break
        folders.append(name or ancestor)
    return {
        "datacenter": datacenter,
        "cluster": tree.name(compute) if tree.kind(compute) == "ClusterComputeResource" else None,
        "host": tree.name(host),
        "folder": "/" + "/".join([datacenter or ""] + list(reversed(folders))),
        "resource_pool": tree.name(_moid(props.get("resourcePool"))),
    }


def custom_attributes(values, field_names):
    """{attribute name: value} from a VM's customValue and the CustomFieldsManager's definitions."""
    return dict((field_names.get(v.key, str(v.key)), v.value) for v in values or () if hasattr(v, "value"))


def vm_facts(moid, props, tree, field_names=None):
    """One VM's facts, documented in the RETURN of vsphere_vm_info."""
    devices = props.get("config.hardware.device")
    cpus = props.get("config.hardware.numCPU") or 1
    cores = props.get("config.hardware.numCoresPerSocket") or 1
    facts = {
        "name": props.get("name"),
        "moref": moid,
        "uuid": props.get("config.uuid"),
        "instance_uuid": props.get("config.instanceUuid"),
        "template": bool(props.get("config.template")),
        "power_state": props.get("runtime.powerState"),
        "guest_id": props.get("config.guestId"),
        "guest_name": props.get("config.guestFullName"),
        "tools_running_status": props.get("guest.toolsRunningStatus"),
        "hostname": props.get("guest.hostName"),
        "ip_address": props.get("guest.ipAddress"),
        "ip_addresses": sorted(set(ip for nic in props.get("guest.net") or () for ip in nic.ipAddress or ())),
        "cpu": {"count": cpus, "cores_per_socket": cores, "sockets": max(cpus // cores, 1)},
        "memory_mib": props.get("config.hardware.memoryMB"),
        "firmware": props.get("config.firmware") or "bios",
        "secure_boot": bool(props.get("config.bootOptions.efiSecureBootEnabled")),
        "cbt_enabled": bool(props.get("config.changeTrackingEnabled")),
        "cpu_hot_add": bool(props.get("config.cpuHotAddEnabled")),
        "memory_hot_add": bool(props.get("config.memoryHotAddEnabled")),
        "annotation": props.get("config.annotation") or "",
        "snapshot_count": _snapshot_count(props.get("snapshot")),
        "cpu_affinity": list((props.get("config.cpuAffinity") or vim.vm.AffinityInfo()).affinitySet or []),
        "devices": special_devices(devices),
        "custom_attributes": custom_attributes(props.get("customValue"), field_names or {}),
        "disks": disk_facts(devices),
        "nics": nic_facts(devices, tree, props.get("guest.net")),
    }
    facts.update(placement(moid, props, tree))
    facts["spec"] = neutral_spec(
        name=facts["name"], uuid=facts["uuid"], sockets=facts["cpu"]["sockets"], cores=cores, memory_mib=facts["memory_mib"],
        firmware="efi" if facts["firmware"] == "efi" else "bios", secure_boot=facts["secure_boot"],
        disks=[{"name": "disk%d" % i, "size_bytes": d["capacity_bytes"],
                "source": {"vsphere": {"datastore": d["datastore"], "path": d["path"]}}}
               for i, d in enumerate(facts["disks"])],
        nics=[{"name": "nic%d" % i, "mac": n["mac"], "network": n["network"]} for i, n in enumerate(facts["nics"])],
        power_state="running" if facts["power_state"] == "poweredOn" else "stopped",
        guest_os=facts["guest_id"],
        source={"vsphere": {"moref": moid, "instance_uuid": facts["instance_uuid"], "datacenter": facts["datacenter"]}},
    )
    return facts


FILTERS = ("names", "datacenter", "cluster", "host", "folder", "resource_pool", "power_state", "custom_attributes",
           "include_templates")


def summary_facts(moid, props, tree, field_names=None):
    """What the filters look at, from SUMMARY_PROPERTIES alone."""
    facts = {"name": props.get("name"), "moref": moid, "template": bool(props.get("config.template")),
             "power_state": props.get("runtime.powerState"),
             "custom_attributes": custom_attributes(props.get("customValue"), field_names or {})}
    facts.update(placement(moid, props, tree))
    return facts


def matches(facts, filters):
    """Whether a VM's (summary) facts pass the filters; ``names`` are shell-style globs, ``folder``
    includes its subfolders, ``custom_attributes`` must all be equal (as strings)."""
    if filters.get("names") and not any(fnmatch.fnmatchcase(facts["name"] or "", p) for p in filters["names"]):
        return False
    for key in ("datacenter", "cluster", "host", "resource_pool", "power_state"):
        if filters.get(key) and facts[key] != filters[key]:
            return False
    folder = (filters.get("folder") or "").rstrip("/")
    if folder and facts["folder"] != folder and not facts["folder"].startswith(folder + "/"):
        return False
    for key, value in (filters.get("custom_attributes") or {}).items():
        if facts["custom_attributes"].get(key) != str(value):
            return False
    return True


def select(objects, tree, filters, field_names=None):
    """The moref ids of the VMs the filters select, from summary (or full) properties."""
    selected = []
    for moid, (kind, props) in objects.items():
        if kind != "VirtualMachine":
            continue
        summary = summary_facts(moid, props, tree, field_names)
        if summary["template"] and not filters.get("include_templates"):
            continue
        if matches(summary, filters):
            selected.append(moid)
    return selected


def build_vms(objects, field_names=None, **filters):
    """All selected VM facts from one retrieval that holds full properties, sorted by name then moref."""
    tree = Tree(plain_tree(objects))
    result = [vm_facts(moid, objects[moid][1], tree, field_names) for moid in select(objects, tree, filters, field_names)]
    result.sort(key=lambda f: (f["name"] or "", f["moref"]))
    return result


def names_of(objects, kind):
    return sorted(set(props.get("name") for k, props in objects.values() if k == kind))
