# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure builders, fed with pyVmomi data objects built in memory (no server)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from pyVmomi import VmomiSupport, vim

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import vm_facts


def ref(kind, moid):
    return getattr(vim, kind)(moid)


def devices():
    ctrl = vim.vm.device.ParaVirtualSCSIController(key=1000, busNumber=0)
    disk_backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName="[ds1] web-01/web-01.vmdk", thinProvisioned=True, diskMode="persistent", sharing="sharingNone")
    # As the SOAP decoder gives it: pyVmomi's own long type.
    disk = vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, capacityInBytes=VmomiSupport.long(10 * 2 ** 30),
                                     backing=disk_backing, deviceInfo=vim.Description(label="Hard disk 1", summary=""))
    rdm = vim.vm.device.VirtualDisk(
        key=2001, controllerKey=1000, unitNumber=1, capacityInKB=1024,
        backing=vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo(fileName="[ds1] web-01/rdm.vmdk",
                                                                        diskMode="independent_persistent"),
        deviceInfo=vim.Description(label="Hard disk 2", summary=""))
    nic_dvs = vim.vm.device.VirtualVmxnet3(
        key=4000, macAddress="00:50:56:AA:BB:CC", deviceInfo=vim.Description(label="Network adapter 1", summary=""),
        backing=vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
            port=vim.dvs.PortConnection(portgroupKey="dvportgroup-7", switchUuid="x")),
        connectable=vim.vm.device.VirtualDevice.ConnectInfo(connected=True, startConnected=True, allowGuestControl=True))
    nic_std = vim.vm.device.VirtualE1000e(
        key=4001, macAddress="00:50:56:00:00:01", deviceInfo=vim.Description(label="Network adapter 2", summary=""),
        backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network", network=ref("Network", "network-3")))
    return [ctrl, disk, rdm, nic_dvs, nic_std]


def estate():
    objects = {
        "datacenter-1": ("Datacenter", {"name": "DC1", "parent": ref("Folder", "group-d1")}),
        "group-d1": ("Folder", {"name": "Datacenters"}),
        "group-v2": ("Folder", {"name": "vm", "parent": ref("Datacenter", "datacenter-1")}),
        "group-v9": ("Folder", {"name": "web", "parent": ref("Folder", "group-v2")}),
        "domain-c5": ("ClusterComputeResource", {"name": "Prod", "parent": ref("Folder", "group-h3")}),
        "host-11": ("HostSystem", {"name": "esx1.example.com", "parent": ref("ClusterComputeResource", "domain-c5")}),
        "host-12": ("HostSystem", {"name": "esx2.example.com", "parent": ref("ComputeResource", "domain-s6")}),
        "domain-s6": ("ComputeResource", {"name": "esx2.example.com"}),
        "resgroup-4": ("ResourcePool", {"name": "Resources"}),
        "dvportgroup-7": ("DistributedVirtualPortgroup", {"name": "vlan-93", "config.defaultPortConfig":
                          vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
                              vlan=vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(vlanId=93))}),
        "network-3": ("Network", {"name": "VM Network"}),
        "vm-42": ("VirtualMachine", {
            "name": "web-01", "parent": ref("Folder", "group-v9"), "resourcePool": ref("ResourcePool", "resgroup-4"),
            "config.uuid": "4200-bios", "config.instanceUuid": "5000-inst", "config.guestId": "rhel9_64Guest",
            "config.hardware.numCPU": 4, "config.hardware.numCoresPerSocket": 2, "config.hardware.memoryMB": 8192,
            "config.hardware.device": devices(), "config.firmware": "efi",
            "config.bootOptions.efiSecureBootEnabled": True, "runtime.powerState": "poweredOn",
            "runtime.host": ref("HostSystem", "host-11"), "guest.ipAddress": "10.0.0.5",
            "customValue": [vim.CustomFieldsManager.StringValue(key=101, value="1")],
            "guest.net": [vim.vm.GuestInfo.NicInfo(macAddress="00:50:56:aa:bb:cc", ipAddress=["10.0.0.5", "fe80::1"]),
                          vim.vm.GuestInfo.NicInfo(ipAddress=["192.168.1.5"])],
        }),
        "vm-43": ("VirtualMachine", {
            "name": "db-01", "parent": ref("Folder", "group-v2"), "runtime.powerState": "poweredOff",
            "runtime.host": ref("HostSystem", "host-12"), "config.hardware.numCPU": 2,
        }),
    }
    return objects


def test_vm_facts_identity_placement_and_hardware():
    vms = vm_facts.build_vms(estate())
    assert [v["name"] for v in vms] == ["db-01", "web-01"]
    web = vms[1]
    assert web["moref"] == "vm-42"
    assert (web["datacenter"], web["cluster"], web["host"]) == ("DC1", "Prod", "esx1.example.com")
    assert web["folder"] == "/DC1/vm/web"
    assert web["cpu"] == {"count": 4, "cores_per_socket": 2, "sockets": 2}
    assert (web["firmware"], web["secure_boot"]) == ("efi", True)
    db = vms[0]
    assert db["cluster"] is None and db["host"] == "esx2.example.com" and db["folder"] == "/DC1/vm"


def test_disks_and_nics():
    web = vm_facts.build_vms(estate(), names=["web-*"])[0]
    disk, rdm = web["disks"]
    assert (disk["datastore"], disk["path"], disk["capacity_bytes"]) == ("ds1", "web-01/web-01.vmdk", 10 * 2 ** 30)
    assert (disk["thin"], disk["rdm"], disk["controller_type"], disk["bus"]) == (True, False, "pvscsi", "scsi")
    assert rdm["rdm"] is True and rdm["capacity_bytes"] == 1024 * 1024
    assert not isinstance(disk["capacity_bytes"], VmomiSupport.long)  # Ansible stores no pyVmomi long as a host variable
    dvs, std = web["nics"]
    assert (dvs["mac"], dvs["network"], dvs["adapter_type"], dvs["connected"], dvs["vlan"]) == (
        "00:50:56:aa:bb:cc", "vlan-93", "vmxnet3", True, 93)
    assert std["vlan"] is None
    # each NIC's addresses, as VMware Tools reports them on its MAC (one entry names no MAC: no NIC has it)
    assert (dvs["ip_addresses"], std["ip_addresses"]) == (["10.0.0.5", "fe80::1"], [])
    assert web["ip_addresses"] == ["10.0.0.5", "192.168.1.5", "fe80::1"]
    assert web["custom_attributes"] == {"101": "1"}  # no field definitions given: the key stands in
    assert (std["network"], std["adapter_type"]) == ("VM Network", "e1000e")


def test_neutral_spec_from_vm():
    spec = vm_facts.build_vms(estate(), names=["web-01"])[0]["spec"]
    assert spec["name"] == "web-01"
    assert spec["cpu"] == {"sockets": 2, "cores": 2, "threads": 1}
    assert spec["memory_mib"] == 8192
    assert spec["firmware"] == {"type": "efi", "secure_boot": True}
    assert spec["power_state"] == "running"
    assert [d["boot_order"] for d in spec["disks"]] == [1, None]
    assert spec["disks"][0]["source"] == {"vsphere": {"datastore": "ds1", "path": "web-01/web-01.vmdk"}}
    assert [(n["mac"], n["network"], n["model"]) for n in spec["nics"]] == [
        ("00:50:56:aa:bb:cc", "vlan-93", "virtio"), ("00:50:56:00:00:01", "VM Network", "virtio")]
    assert spec["source"]["vsphere"]["moref"] == "vm-42"


@pytest.mark.parametrize("filters,expected", [
    ({"names": ["web-*"]}, ["web-01"]),
    ({"names": ["nothing*"]}, []),
    ({"cluster": "Prod"}, ["web-01"]),
    ({"power_state": "poweredOff"}, ["db-01"]),
    ({"datacenter": "DC1", "names": ["*-01"]}, ["db-01", "web-01"]),
    ({"host": "esx2.example.com"}, ["db-01"]),
    ({"folder": "/DC1/vm"}, ["db-01", "web-01"]),
    ({"folder": "/DC1/vm/web/"}, ["web-01"]),
    ({"resource_pool": "Resources"}, ["web-01"]),
    ({"custom_attributes": {"migration_wave": 1}}, ["web-01"]),
    ({"custom_attributes": {"migration_wave": "2"}}, []),
])
def test_filters(filters, expected):
    assert [v["name"] for v in vm_facts.build_vms(estate(), {101: "migration_wave"}, **filters)] == expected


def test_split_datastore_path():
    assert vm_facts.split_datastore_path("[ds 1] a/b.vmdk") == ("ds 1", "a/b.vmdk")
    assert vm_facts.split_datastore_path("/vmfs/volumes/x.vmdk") == (None, "/vmfs/volumes/x.vmdk")


def test_summary_reads_only_what_the_filters_need():
    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import SUMMARY_PROPERTIES, summary_properties
    assert summary_properties({}) == ["name", "config.template"]
    assert summary_properties({"cluster": "c1", "power_state": "poweredOn", "names": ["web-*"]}) == [
        "name", "runtime.host", "runtime.powerState", "config.template"]
    every = dict((key, "x") for key in ("datacenter", "folder", "cluster", "host", "resource_pool", "power_state", "custom_attributes"))
    assert summary_properties(every) == SUMMARY_PROPERTIES
