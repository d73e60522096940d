# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's real guest (tests/lab/guest/build-debian.sh: Debian 12 with systemd, GRUB on its disk, fstab by
UUID, open-vm-tools, a static address on ens2, an initramfs for VMware-like hardware only) on the real
libvirtd and QEMU. The baseline every migration test stands on: on VMware-like virtual hardware (pvscsi
disk, vmxnet3 NIC) it boots to multi-user and answers ping on its static address from the lab bridge; on
virtio, unconverted, it does not find its root file system, as real VMware guests do not.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time
import uuid

import libvirt
import pytest

ENV = os.environ
GUEST_DIR = os.path.join(ENV.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab"), "guest")
HOST_ADDRESS = "198.18.254.254/24"  # the lab bridge's side of the guest's subnet (RFC 2544 range, local only)


def facts():
    with open(os.path.join(GUEST_DIR, "debian.json")) as f:
        return json.load(f)


def domain_xml(name, disk, serial, hardware):
    """``hardware``: vmware (i440fx, pvscsi, vmxnet3 in PCI slot 2: the NIC is ens2) or virtio."""
    if hardware == "vmware":
        disk_el = "<target dev='sda' bus='scsi'/>"
        extra = "<controller type='scsi' index='0' model='vmpvscsi'/>"
        nic_model = "vmxnet3"
    else:
        disk_el, extra, nic_model = "<target dev='vda' bus='virtio'/>", "", "virtio"
    return """<domain type='%s'><name>%s</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
      <devices>%s<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>%s</disk>
      <interface type='bridge'><source bridge='%s'/><model type='%s'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></interface>
      <serial type='file'><source path='%s'/><target port='0'/></serial></devices></domain>""" % (
        ENV["VMSHIFT_LAB_DOMAIN_TYPE"], name, extra, disk, disk_el, ENV["VMSHIFT_LAB_BRIDGE"], nic_model, serial)


@pytest.fixture
def boot():
    """boot(hardware, wait_for, timeout) -> the serial console's text once it shows wait_for (or the timeout)."""
    conn = libvirt.open(ENV["LIBVIRT_DEFAULT_URI"])
    started, made = [], []
    bridge = ENV["VMSHIFT_LAB_BRIDGE"]
    subprocess.run(["ip", "addr", "replace", HOST_ADDRESS, "dev", bridge], check=True)

    def run(hardware, wait_for, timeout):
        name = "vmshift-real-%s" % uuid.uuid4().hex[:8]
        # Where QEMU (its own user) may read and write: the lab's pool and log directories.
        disk = os.path.join(ENV["VMSHIFT_LAB_DIR"], "pool", name + ".qcow2")
        serial = os.path.join(ENV["VMSHIFT_LAB_DIR"], "log", name + ".serial")
        made.extend([disk, serial])
        # A copy-on-write layer over the cached image: the image itself stays as built.
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", os.path.join(GUEST_DIR, "debian.raw"), disk],
                       check=True)
        started.append(conn.createXML(domain_xml(name, disk, serial, hardware), 0))
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            if os.path.exists(serial):
                with open(serial, errors="replace") as f:
                    text = f.read()
                if wait_for in text:
                    break
            time.sleep(1)
        return text

    yield run
    for dom in started:
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
    conn.close()
    for path in made:
        if os.path.exists(path):
            os.unlink(path)
    subprocess.run(["ip", "addr", "del", HOST_ADDRESS, "dev", bridge], check=False)


def test_the_real_guest_boots_on_vmware_like_hardware_and_answers_on_its_static_address(boot):
    guest = facts()
    text = boot("vmware", "VMSHIFT-FAILED-UNITS", 300)
    line = next((l for l in text.splitlines() if l.startswith(guest["ready_marker"])), None)
    assert line is not None, "the guest did not reach multi-user; serial console ends: %r" % text[-1500:]
    assert line.split()[1:] == [guest["hostname"], guest["machine_id"], guest["address"]]
    ip = guest["address"].split("/")[0]
    ping = subprocess.run(["ping", "-c", "3", "-W", "2", ip], capture_output=True, text=True, check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr


def test_unconverted_on_virtio_it_does_not_find_its_root_file_system(boot):
    guest = facts()
    assert "virtio_blk" not in guest["initramfs_modules"] and "vmw_pvscsi" in guest["initramfs_modules"]
    text = boot("virtio", "Gave up waiting for root file system device", 180)
    assert "Gave up waiting for root file system device" in text, text[-1500:]
    assert guest["ready_marker"] not in text
