# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import neutral_spec
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import (
    domain_view,
    render_domain,
    render_volume,
    settle,
    validate_spec,
    views_differ,
)

DISKS = [{"path": "/pool/web-root.qcow2", "format": "qcow2", "bus": "virtio", "boot_order": 1},
         {"path": "/pool/web-data.img", "format": "raw", "bus": "scsi", "boot_order": None}]


def spec(**overrides):
    base = neutral_spec("web-01", sockets=2, cores=2, memory_mib=4096,
                        nics=[{"name": "nic0", "bridge": "br0", "mac": "52:54:00:AA:BB:CC"},
                              {"name": "nic1", "network": "default"}])
    base.update(overrides)
    return base


def test_render_then_view_round_trips_the_managed_fields():
    view = domain_view(render_domain(spec(), "kvm", DISKS, serial_log="/var/log/web.serial"))
    assert view["name"] == "web-01" and view["type"] == "kvm"
    assert (view["memory_mib"], view["vcpus"]) == (4096, 4)
    assert view["topology"] == {"sockets": 2, "cores": 2, "threads": 1}
    assert view["firmware"] == "bios" and view["secure_boot"] is False
    assert view["disks"] == [
        {"path": "/pool/web-root.qcow2", "format": "qcow2", "bus": "virtio", "boot_order": 1},
        {"path": "/pool/web-data.img", "format": "raw", "bus": "scsi", "boot_order": None}]
    assert view["nics"] == [
        {"type": "bridge", "source": "br0", "mac": "52:54:00:aa:bb:cc", "model": "virtio"},
        {"type": "network", "source": "default", "mac": None, "model": "virtio"}]
    assert view["serial_log"] == "/var/log/web.serial"


def test_efi_secure_boot_rendered():
    xml = render_domain(spec(firmware={"type": "efi", "secure_boot": True}), "kvm", DISKS)
    view = domain_view(xml)
    assert (view["firmware"], view["secure_boot"]) == ("efi", True)
    assert "<smm state=\"on\"" in xml


def test_defined_xml_with_libvirt_defaults_is_not_a_difference():
    desired = domain_view(render_domain(spec(), "qemu", DISKS))
    # What libvirt gives back: KiB, a machine type, generated MAC, addresses, controllers, emulator.
    defined = """<domain type='qemu'><name>web-01</name><uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>
      <memory unit='KiB'>4194304</memory><currentMemory unit='KiB'>4194304</currentMemory><vcpu placement='static'>4</vcpu>
      <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><cpu><topology sockets='2' dies='1' cores='2' threads='1'/></cpu>
      <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='/pool/web-root.qcow2'/>
          <target dev='vda' bus='virtio'/><boot order='1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
        <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/pool/web-data.img'/><target dev='sda' bus='scsi'/></disk>
        <controller type='usb' index='0'/>
        <interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/><model type='virtio'/></interface>
        <interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/><model type='virtio'/></interface>
        <serial type='pty'><target port='0'/></serial></devices></domain>"""
    assert not views_differ(desired, domain_view(defined))
    # and a check-mode diff shows no change of what the spec leaves to libvirt (machine type, CPU mode, MAC)
    current = dict(domain_view(defined), cpu_mode="custom", memory_mib=2048)
    after = settle(desired, current)
    assert [k for k in after if after[k] != current[k]] == ["memory_mib"]


@pytest.mark.parametrize("change", [
    {"memory_mib": 8192},
    {"cpu": {"sockets": 1, "cores": 4, "threads": 1}},
    {"firmware": {"type": "efi", "secure_boot": False}},
    {"nics": [{"name": "nic0", "bridge": "br1", "mac": "52:54:00:aa:bb:cc"}, {"name": "nic1", "network": "default"}]},
    {"machine": "q35"},
])
def test_a_real_change_is_detected(change):
    current = domain_view(render_domain(spec(), "kvm", DISKS))
    assert views_differ(domain_view(render_domain(spec(**change), "kvm", DISKS)), current)


def test_disk_targets_per_bus():
    xml = render_domain(spec(), "kvm", DISKS + [{"path": "/p/c", "format": "raw", "bus": "virtio"}])
    assert "dev=\"vda\"" in xml and "dev=\"vdb\"" in xml and "dev=\"sda\"" in xml
    assert "virtio-scsi" in xml


@pytest.mark.parametrize("bad,message", [
    ({"memory_mib": None}, "spec.memory_mib is required"),
    ({"name": ""}, "spec.name is required"),
    ({"cpu": {"sockets": 0}}, "spec.cpu.sockets must be a whole number of at least 1"),
    ({"firmware": {"type": "bios", "secure_boot": True}}, "secure_boot needs spec.firmware.type: efi"),
    ({"disks": [{"name": "d", "size_bytes": 1, "source": {"image": "/x.qcow2"}}]}, "either cloned from an image or sized"),
    ({"disks": [{"name": "d", "source": {"blank": True}}]}, "a blank disk needs size_bytes"),
    ({"disks": [{"name": "d", "source": {}}]}, "exactly one of image, url, volume or blank"),
    ({"disks": [{"name": "d", "source": {"vsphere": {}}}]}, "copied by the migration engine"),
    ({"disks": [{"name": "d", "source": {"volume": "v"}}, {"name": "d", "source": {"volume": "w"}}]}, "two disks are named d"),
    ({"nics": [{"bridge": "br0", "network": "default"}]}, "exactly one of bridge"),
])
def test_bad_specs_name_field_and_fix(bad, message):
    with pytest.raises(InvalidInput) as err:
        validate_spec(spec(**bad))
    assert message in str(err.value)


def test_secure_boot_picks_q35_and_accepts_the_versioned_machine():
    desired = domain_view(render_domain(spec(firmware={"type": "efi", "secure_boot": True}), "kvm", DISKS))
    assert desired["machine"] == "q35"
    current = dict(desired, machine="pc-q35-7.2")
    assert not views_differ(desired, current)
    assert views_differ(desired, dict(desired, machine="pc-i440fx-7.2"))


def test_cpu_mode_rendered_and_compared():
    view = domain_view(render_domain(spec(cpu={"sockets": 1, "cores": 2, "threads": 1, "mode": "host-model"}), "kvm", DISKS))
    assert view["cpu_mode"] == "host-model"
    # no preference under qemu: whatever libvirt fills in is accepted
    qemu = domain_view(render_domain(spec(), "qemu", DISKS))
    assert qemu["cpu_mode"] is None and not views_differ(qemu, dict(qemu, cpu_mode="custom"))
    with pytest.raises(InvalidInput, match="spec.cpu.mode must be"):
        validate_spec(spec(cpu={"mode": "turbo"}))


def test_cloud_init_seed_is_a_cdrom_in_the_view():
    view = domain_view(render_domain(spec(), "kvm", DISKS, cloud_init_iso="/pool/web-01-cidata-abc.iso"))
    assert view["cloud_init_iso"] == "/pool/web-01-cidata-abc.iso"
    assert len(view["disks"]) == 2  # the CD-ROM is not a disk


def test_a_domain_without_acpi_or_a_guest_agent_cannot_be_asked_to_shut_down():
    from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import can_shut_down
    assert can_shut_down("<domain><features><acpi/></features><devices/></domain>")
    assert can_shut_down("<domain><devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
                         "</channel></devices></domain>")
    assert not can_shut_down("<domain><features><apic/></features><devices><channel type='pty'><target type='virtio' "
                             "name='org.libguestfs.channel.0'/></channel></devices></domain>")


def test_volume_xml_holds_any_name_libvirt_takes():
    vol = ET.fromstring(render_volume("r&d <web>-disk0.qcow2", 10737418240, "qcow2"))
    assert vol.findtext("name") == "r&d <web>-disk0.qcow2"
    assert (vol.find("capacity").get("unit"), vol.findtext("capacity")) == ("bytes", "10737418240")
    assert vol.find("target/format").get("type") == "qcow2"
