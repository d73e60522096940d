# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast reader against pyVmomi's own SOAP deserializer, on the same answer: a PropertyCollector result
serialized by pyVmomi (no server), read both ways, and the facts built from each compared."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import io

from pyVmomi import SoapAdapter, SoapStubAdapter, VmomiSupport, vim, vmodl

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import vm_facts
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import fast_reader
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.fast_reader import read_answer

from ansible_collections.vmshift.virt.tests.unit.plugins.module_utils.vsphere.test_vm_facts import estate

PC = vmodl.query.PropertyCollector
INFO = PC._GetMethodInfo("RetrievePropertiesEx")
STUB = SoapStubAdapter(host="vcenter.invalid", version=VmomiSupport.newestVersions.GetName("vim"))


def snapshot_tree():
    def node(name, children=()):
        return vim.vm.SnapshotTree(name=name, snapshot=vim.vm.Snapshot("snapshot-" + name), childSnapshotList=list(children),
                                   vm=vim.VirtualMachine("vm-42"), id=ord(name), description="", state="poweredOff", quiesced=False,
                                   createTime=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    return vim.vm.SnapshotInfo(rootSnapshotList=[node("a", [node("b"), node("c", [node("d")])])])


ARRAYS = {"config.hardware.device": vim.vm.device.VirtualDevice.Array, "customValue": vim.CustomFieldsManager.Value.Array,
          "guest.net": vim.vm.GuestInfo.NicInfo.Array}


def answer(objects):
    """The SOAP answer (bytes) a server gives for these {moid: (kind, props)}."""
    result = PC.RetrieveResult(token="page-2", objects=[
        PC.ObjectContent(obj=getattr(vim, kind)(moid), propSet=[
            vmodl.DynamicProperty(name=k, val=ARRAYS[k](v) if k in ARRAYS else v) for k, v in props.items()])
        for moid, (kind, props) in objects.items()])
    returnval = SoapAdapter.Serialize(result, VmomiSupport.Object(name="returnval", type=INFO.result, version=STUB.version,
                                                                  flags=0), STUB.version)
    return (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25">' + returnval +
            b'</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')


def as_objects(result):
    return dict((item.obj._moId, (item.obj._wsdlName, dict((p.name, p.val) for p in item.propSet))) for item in result.objects)


def rich_estate():
    objects = estate()
    props = objects["vm-42"][1]
    props["config.hardware.device"][0].sharedBus = "noSharing"  # fields a server always sends
    props["snapshot"] = snapshot_tree()
    props["config.cpuAffinity"] = vim.vm.AffinityInfo(affinitySet=[0, 2])
    props["config.changeTrackingEnabled"] = True
    props["config.hardware.device"] = props["config.hardware.device"] + [
        vim.vm.device.VirtualPCIPassthrough(key=13000, deviceInfo=vim.Description(label="PCI device 0", summary="")),
        vim.vm.device.VirtualUSBXHCIController(key=14000, deviceInfo=vim.Description(label="USB xHCI controller", summary="")),
        vim.vm.device.VirtualTPM(key=11000, deviceInfo=vim.Description(label="Virtual TPM", summary="")),
    ]
    return objects


def test_the_facts_read_fast_are_the_facts_pyvmomi_reads():
    data = answer(rich_estate())
    slow = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(io.BytesIO(data), INFO.result)
    fast = read_answer(data, STUB, INFO.result)
    assert fast.token == slow.token == "page-2"
    want = vm_facts.build_vms(as_objects(slow), {101: "wave"})
    got = vm_facts.build_vms(as_objects(fast), {101: "wave"})
    assert got == want
    web = got[1]
    assert (web["name"], web["snapshot_count"], web["cpu_affinity"], web["cbt_enabled"]) == ("web-01", 4, [0, 2], True)
    assert web["devices"] == {"passthrough": ["PCI device 0"], "usb": ["USB xHCI controller"], "tpm": ["Virtual TPM"], "sriov": []}
    assert [d["rdm"] for d in web["disks"]] == [False, True]
    assert [(n["network"], n["vlan"]) for n in web["nics"]] == [("vlan-93", 93), ("VM Network", None)]
    assert web["custom_attributes"] == {"wave": "1"}


def test_values_keep_their_types():
    fast = as_objects(read_answer(answer(rich_estate()), STUB, INFO.result))
    props = fast["vm-42"][1]
    root = props["snapshot"].rootSnapshotList[0]
    assert isinstance(root, vim.vm.SnapshotTree) and root.snapshot._moId == "snapshot-a"
    assert root.createTime == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=root.createTime.tzinfo)
    assert isinstance(props["runtime.host"], vim.HostSystem) and props["runtime.host"]._moId == "host-11"
    assert props["config.hardware.numCPU"] == 4 and props["config.bootOptions.efiSecureBootEnabled"] is True
    assert props["guest.net"][0].ipAddress == ["10.0.0.5", "fe80::1"]
    disk = [d for d in props["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)][0]
    assert disk.capacityInKB == 0 and disk.capacityInBytes == 10 * 2 ** 30 and disk.backing.thinProvisioned is True


def same(got, want):
    """Whether two values read from one answer are equal, field by field for pyVmomi objects."""
    if isinstance(want, VmomiSupport.DataObject):
        return type(got) is type(want) and all(same(getattr(got, p.name), getattr(want, p.name)) for p in want._GetPropertyList())
    if isinstance(want, VmomiSupport.ManagedObject):
        return type(got) is type(want) and got._moId == want._moId
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    return got == want


def test_every_field_is_what_pyvmomi_reads_also_those_not_sent():
    data = answer(rich_estate())
    slow = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(io.BytesIO(data), INFO.result)
    fast = read_answer(data, STUB, INFO.result)
    assert same(fast, slow)
    assert not same(fast.objects[0].propSet[0], slow.objects[1].propSet[0])  # the comparison can fail


def test_an_answer_without_a_return_value_is_none():
    data = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b'<RetrievePropertiesExResponse xmlns="urn:vim25"></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')
    assert read_answer(data, STUB, INFO.result) is None


class Collector:
    """A PropertyCollector as pyVmomi gives it, on a stub whose internals are not all there: its method answers
    with ``data`` read by pyVmomi's own deserializer (what the call would do against a server)."""

    def __init__(self, data, stub):
        self._stub = stub
        self.data = data

    @staticmethod
    def _GetMethodInfo(method):
        return PC._GetMethodInfo(method)

    def RetrievePropertiesEx(self, *args):
        return SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(io.BytesIO(self.data), INFO.result)


def test_a_pyvmomi_without_the_internals_gives_the_same_facts_through_its_own_deserializer(monkeypatch):
    monkeypatch.setattr(fast_reader, "FALLBACK", [])

    class OlderStub:  # a stub of a pyVmomi that serializes requests some other way
        version = STUB.version
    data = answer(rich_estate())
    got = fast_reader.retrieve_properties(Collector(data, OlderStub()), "RetrievePropertiesEx", [])
    assert vm_facts.build_vms(as_objects(got), {101: "wave"}) == vm_facts.build_vms(
        as_objects(read_answer(data, STUB, INFO.result)), {101: "wave"})
    assert fast_reader.FALLBACK == ["pyVmomi lacks stub.SerializeRequest, stub.GetConnection, stub.ReturnConnection, "
                                    "stub.DropConnections, stub.cookie, stub.versionId, stub.path"]
    assert fast_reader.fallback().startswith("vSphere answers are read with pyVmomi's own deserializer")


def test_the_type_registry_is_checked_too(monkeypatch):
    monkeypatch.setattr(fast_reader, "FALLBACK", [])
    monkeypatch.delattr(VmomiSupport, "F_OPTIONAL")
    assert fast_reader.unsupported(Collector(b"", STUB)) == "pyVmomi lacks VmomiSupport.F_OPTIONAL"
    monkeypatch.undo()
    assert fast_reader.unsupported(Collector(b"", STUB)) is None and fast_reader.fallback() is None
