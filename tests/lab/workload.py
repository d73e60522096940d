# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab helper: change the vSphere simulator's VMs as an estate would be changed, for tests and benchmarks;
above all, a simulator VM whose disk holds real data.

    python workload.py create NAME IMAGE [--mac MAC] [--power on|off] [--host H] [--datastore DS]
                                         [--network PG] [--memory-mib N] [--guest-id ID] [--claim-bytes N]
                                         [--attr NAME=VALUE ...]
    python workload.py delete NAME
    python workload.py power NAME on|off
    python workload.py info NAME
    python workload.py snapshot-create NAME | snapshot-remove NAME
    python workload.py set-attribute NAME ATTRIBUTE VALUE     (defines the custom attribute if needed)
    python workload.py replace-disk NAME IMAGE                 (new content for the disk, same size: as a guest writes)
    python workload.py checksum NAME                           (sha256 of the disk's flat file, read over /folder)
    python workload.py clone-session TICKET                    (prints cloned or refused: is a clone ticket still good?)

``create`` makes the VM (one virtual disk, one NIC with the given MAC) and replaces its disk's
files on the datastore with IMAGE (raw), turned into a VMDK descriptor plus a flat extent by
``qemu-img`` and uploaded with HTTP PUT through the datastore's /folder endpoint, as a real
vCenter takes it. Idempotent: an existing VM of that name is deleted first.

The connection comes from VMWARE_HOST/PORT/USER/PASSWORD and VMWARE_CA_PATH (the lab's env.sh).
"""
import argparse
import hashlib
import json
import re
import os
import ssl
import subprocess
import sys
import tempfile
import time
import http.client
from urllib.parse import quote

from pyVim.connect import Disconnect, SmartConnect, SmartStubAdapter
from pyVmomi import vim


def wait(task):
    while task.info.state not in ("success", "error"):
        time.sleep(0.05)
    if task.info.state == "error":
        sys.exit("task failed: %s" % task.info.error)
    return task.info.result


def find(content, kind, name):
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return next((o for o in view.view if o.name == name), None)
    finally:
        view.Destroy()


def upload(ctx, cookie, datacenter, datastore, path, local):
    conn = http.client.HTTPSConnection(os.environ["VMWARE_HOST"], int(os.environ["VMWARE_PORT"]), context=ctx)
    url = "/folder/%s?dcPath=%s&dsName=%s" % (quote(path), quote(datacenter), quote(datastore))
    with open(local, "rb") as f:
        conn.request("PUT", url, body=f, headers={"Cookie": cookie, "Content-Length": str(os.path.getsize(local)),
                                                  "Content-Type": "application/octet-stream"})
        response = conn.getresponse()
        response.read()
    conn.close()
    if response.status not in (200, 201, 204):
        sys.exit("PUT %s: HTTP %d" % (path, response.status))


def create(si, ctx, args):
    content = si.RetrieveContent()
    old = find(content, vim.VirtualMachine, args.name)
    if old is not None:
        delete_vm(old)
    host = find(content, vim.HostSystem, args.host)
    datacenter = host.parent
    while not isinstance(datacenter, vim.Datacenter):
        datacenter = datacenter.parent
    pool = host.parent.resourcePool
    size = os.path.getsize(args.image)
    disk = vim.vm.device.VirtualDeviceSpec(
        operation="add", fileOperation="create",
        device=vim.vm.device.VirtualDisk(
            key=-2, controllerKey=-1, unitNumber=0, capacityInKB=size // 1024, capacityInBytes=size,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(diskMode="persistent", thinProvisioned=True,
                                                                  fileName="[%s]" % args.datastore)))
    controller = vim.vm.device.VirtualDeviceSpec(
        operation="add", device=vim.vm.device.ParaVirtualSCSIController(key=-1, busNumber=0, sharedBus="noSharing"))
    nic = vim.vm.device.VirtualDeviceSpec(
        operation="add", device=vim.vm.device.VirtualVmxnet3(
            key=-3, addressType="manual", macAddress=args.mac,
            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=args.network)))
    config = vim.vm.ConfigSpec(name=args.name, memoryMB=args.memory_mib, numCPUs=1, guestId=args.guest_id,
                               files=vim.vm.FileInfo(vmPathName="[%s]" % args.datastore),
                               deviceChange=[controller, disk, nic])
    vm = wait(datacenter.vmFolder.CreateVM_Task(config=config, pool=pool, host=host))
    backing = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk)).backing
    ds_path = backing.fileName.split("] ", 1)[1]
    with tempfile.TemporaryDirectory() as tmp:
        descriptor = os.path.join(tmp, os.path.basename(ds_path))
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicFlat",
                        args.image, descriptor], check=True)
        flat = descriptor[:-len(".vmdk")] + "-flat.vmdk"
        if args.claim_bytes:  # a descriptor that claims more than the flat file holds (preflight tests)
            with open(descriptor) as f:
                text = f.read()
            with open(descriptor, "w") as f:
                f.write(re.sub(r"RW \d+ FLAT", "RW %d FLAT" % (args.claim_bytes // 512), text))
        cookie = si._stub.cookie.split(";")[0]
        upload(ctx, cookie, datacenter.name, args.datastore, ds_path[:-len(".vmdk")] + "-flat.vmdk", flat)
        upload(ctx, cookie, datacenter.name, args.datastore, ds_path, descriptor)
    for pair in args.attr or []:
        key, _sep, value = pair.partition("=")
        set_attribute(si.RetrieveContent(), vm, key, value)
    if args.power == "on":
        wait(vm.PowerOnVM_Task())
    print(json.dumps({"name": args.name, "moref": vm._moId, "disk": backing.fileName, "size": size,
                      "instance_uuid": vm.config.instanceUuid, "datacenter": datacenter.name}))


def replace_disk(si, ctx, vm, image):
    """Upload IMAGE (raw, the disk's size) as the flat extent of the VM's disk that ``create`` made."""
    datacenter, datastore, path = flat_file(vm)
    upload(ctx, si._stub.cookie.split(";")[0], datacenter, datastore, path, image)


def flat_file(vm):
    """(datacenter, datastore, path) of the flat extent of the VM's disk that ``create`` made."""
    backing = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk)).backing
    datastore, ds_path = backing.fileName[1:].split("] ", 1)
    datacenter = vm.parent
    while not isinstance(datacenter, vim.Datacenter):
        datacenter = datacenter.parent
    return datacenter.name, datastore, ds_path[:-len(".vmdk")] + "-flat.vmdk"


def checksum(ctx, cookie, vm):
    datacenter, datastore, path = flat_file(vm)
    conn = http.client.HTTPSConnection(os.environ["VMWARE_HOST"], int(os.environ["VMWARE_PORT"]), context=ctx)
    conn.request("GET", "/folder/%s?dcPath=%s&dsName=%s" % (quote(path), quote(datacenter), quote(datastore)),
                 headers={"Cookie": cookie})
    response = conn.getresponse()
    if response.status != 200:
        sys.exit("GET %s: HTTP %d" % (path, response.status))
    digest = hashlib.sha256()
    for block in iter(lambda: response.read(1 << 20), b""):
        digest.update(block)
    conn.close()
    return digest.hexdigest()


def set_attribute(content, vm, name, value):
    """Set a custom attribute, defining it first if needed."""
    manager = content.customFieldsManager
    field = next((f for f in manager.field if f.name == name), None) or manager.AddCustomFieldDef(
        name=name, moType=vim.VirtualMachine)
    manager.SetField(entity=vm, key=field.key, value=value)


def delete_vm(vm):
    """Delete from the simulator (the helper's own test VMs only)."""
    if vm.runtime.powerState == "poweredOn":
        wait(vm.PowerOffVM_Task())
    wait(vm.Destroy_Task())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["create", "delete", "power", "info", "snapshot-create", "snapshot-remove",
                                           "set-attribute", "replace-disk", "clone-session", "checksum"])
    parser.add_argument("name")
    parser.add_argument("args", nargs="*", help="create, replace-disk: IMAGE; power: on|off; set-attribute: NAME VALUE")
    parser.add_argument("--mac", default="00:50:56:00:00:01")
    parser.add_argument("--power", default="on", choices=["on", "off"])
    parser.add_argument("--host", default="DC0_H0")
    parser.add_argument("--datastore", default="LocalDS_0")
    parser.add_argument("--network", default="VM Network")
    parser.add_argument("--memory-mib", type=int, default=256)
    parser.add_argument("--guest-id", default="debian12_64Guest")
    parser.add_argument("--claim-bytes", type=int, help="the disk size the descriptor claims")
    parser.add_argument("--attr", action="append", help="a custom attribute, NAME=VALUE (repeatable)")
    args = parser.parse_args()
    ctx = ssl.create_default_context(cafile=os.environ["VMWARE_CA_PATH"])
    if args.action == "clone-session":
        si = vim.ServiceInstance("ServiceInstance", SmartStubAdapter(
            host=os.environ["VMWARE_HOST"], port=int(os.environ["VMWARE_PORT"]), sslContext=ctx))
        try:
            si.content.sessionManager.CloneSession(args.name)
        except vim.fault.InvalidLogin:
            print("refused")
            return
        print("cloned")
        Disconnect(si)
        return
    si = SmartConnect(host=os.environ["VMWARE_HOST"], port=int(os.environ["VMWARE_PORT"]),
                      user=os.environ["VMWARE_USER"], pwd=os.environ["VMWARE_PASSWORD"], sslContext=ctx)
    try:
        if args.action == "create":
            args.image = args.args[0]
            create(si, ctx, args)
            return
        content = si.RetrieveContent()
        vm = find(content, vim.VirtualMachine, args.name)
        if args.action == "delete":
            if vm is not None:
                delete_vm(vm)
            return
        if vm is None:
            sys.exit("no VM %s" % args.name)
        if args.action == "power":
            if args.args == ["on"] and vm.runtime.powerState != "poweredOn":
                wait(vm.PowerOnVM_Task())
            elif args.args == ["off"] and vm.runtime.powerState != "poweredOff":
                wait(vm.PowerOffVM_Task())
        elif args.action == "snapshot-create":
            wait(vm.CreateSnapshot_Task("vmshift-test", "", False, False))
        elif args.action == "snapshot-remove":
            wait(vm.RemoveAllSnapshots_Task())
        elif args.action == "set-attribute":
            set_attribute(content, vm, args.args[0], args.args[1])
        elif args.action == "replace-disk":
            replace_disk(si, ctx, vm, args.args[0])
        elif args.action == "checksum":
            print(checksum(ctx, si._stub.cookie.split(";")[0], vm))
        else:
            values = dict((f.key, f.name) for f in content.customFieldsManager.field)
            print(json.dumps({"name": vm.name, "power_state": str(vm.runtime.powerState),
                              "instance_uuid": vm.config.instanceUuid,
                              "attributes": dict((values.get(v.key), v.value) for v in vm.customValue),
                              "disks": [d.backing.fileName for d in vm.config.hardware.device
                                        if isinstance(d, vim.vm.device.VirtualDisk)]}))
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main()
