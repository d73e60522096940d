# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What inspection makes of a guest's files (the reading itself runs on the real guest with libguestfs in
tests/integration/targets/vm_migrate_real_guest)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.migration import guest, guest_network

IFUPDOWN = """
auto lo
iface lo inet loopback

# the VMware NIC
auto ens192
iface ens192 inet static
    address 10.1.2.3/24
    gateway 10.1.2.1
allow-hotplug ens224
iface ens224 inet dhcp
"""

NM = """[connection]
id=Wired
type=ethernet
interface-name=ens160
[ipv4]
method=manual
address1=192.168.10.5/24,192.168.10.1
"""

NM_BY_MAC = """[connection]
id=Wired
[ethernet]
mac-address=00:50:56:AA:BB:CC
[ipv4]
method=auto
"""

NETPLAN = """network:
  version: 2
  ethernets:
    ens33:
      addresses: [10.0.0.7/24]
      routes:
        - to: default
          via: 10.0.0.1
    ens34:
      match:
        macaddress: "00:50:56:00:00:09"
      dhcp4: true
"""


def test_each_stack_names_its_interfaces_static_or_not_and_bound_to_a_name_or_a_mac():
    found = guest_network.interfaces_of([
        ("ifupdown", "/etc/network/interfaces", IFUPDOWN),
        ("networkmanager", "/etc/NetworkManager/system-connections/a.nmconnection", NM),
        ("networkmanager", "/etc/NetworkManager/system-connections/b.nmconnection", NM_BY_MAC),
        ("ifcfg", "/etc/sysconfig/network-scripts/ifcfg-eth0", 'DEVICE=eth0\nBOOTPROTO=none\nIPADDR="172.16.0.9"\n'),
        ("ifcfg", "/etc/sysconfig/network-scripts/readme", "DEVICE=nothing"),
        ("networkd", "/etc/systemd/network/10-a.network", "[Match]\nName=ens3\n[Network]\nAddress=10.9.9.9/24\n"),
        ("networkd", "/etc/systemd/network/20-any.network", "[Match]\nName=en*\n[Network]\nDHCP=yes\n"),
        ("netplan", "/etc/netplan/50.yaml", NETPLAN),
    ])
    assert [(i["name"], i["stack"], i["static"], i["addresses"], i["mac"]) for i in found] == [
        ("ens192", "ifupdown", True, ["10.1.2.3/24"], None),
        ("ens224", "ifupdown", False, [], None),
        ("ens160", "networkmanager", True, ["192.168.10.5/24"], None),
        (None, "networkmanager", False, [], "00:50:56:AA:BB:CC"),
        ("eth0", "ifcfg", True, ["172.16.0.9"], None),
        ("ens3", "networkd", True, ["10.9.9.9/24"], None),
        ("ens33", "netplan", True, ["10.0.0.7/24"], None),
        ("ens34", "netplan", False, [], "00:50:56:00:00:09"),
    ]


def test_one_nic_and_one_name_is_pinned_more_are_named_as_a_concern():
    ens2 = guest_network.parse_ifupdown(IFUPDOWN.replace("ens192", "ens2").split("allow-hotplug", maxsplit=1)[0])
    assert guest.pins_for(ens2, [{"mac": "00:50:56:01:02:03"}]) == ([{"name": "ens2", "mac": "00:50:56:01:02:03"}], [])
    pins, concerns = guest.pins_for(guest_network.parse_ifupdown(IFUPDOWN), [{"mac": "00:50:56:01:02:03"}, {"mac": "00:50:56:01:02:04"}])
    assert pins == [] and "ens192, ens224 by name and the VM has 2 NICs" in concerns[0]
    assert "which MAC had ens192, ens224 is not known" in concerns[0]
    assert guest.pins_for([{"name": None, "mac": "00:50:56:aa:bb:cc"}], [{"mac": "00:50:56:aa:bb:cc"}]) == ([], [])
    assert guest.link_file({"name": "ens2", "mac": "00:50:56:01:02:03"}) == (
        "[Match]\nMACAddress=00:50:56:01:02:03\n\n[Link]\nName=ens2\n")


def test_with_several_nics_a_name_is_pinned_to_the_nic_vmware_tools_reports_its_static_address_on():
    interfaces = guest_network.parse_ifupdown(IFUPDOWN)  # ens192 static 10.1.2.3/24, ens224 dhcp
    nics = [{"mac": "00:50:56:01:02:03", "ip_addresses": ["10.1.2.3", "fe80::1"]},
            {"mac": "00:50:56:01:02:04", "ip_addresses": ["10.7.7.7"]}]
    pins, concerns = guest.pins_for(interfaces, nics)
    # ens192's address is on one NIC: pinned; ens224 takes DHCP, so no address tells its NIC: named, not guessed
    assert pins == [{"name": "ens192", "mac": "00:50:56:01:02:03"}]
    assert len(concerns) == 1 and "which MAC had ens224 is not known" in concerns[0]
    two = interfaces[:1] + [dict(interfaces[0], name="ens224", addresses=["10.7.7.7/24"])]
    assert guest.pins_for(two, nics) == ([{"name": "ens192", "mac": "00:50:56:01:02:03"},
                                          {"name": "ens224", "mac": "00:50:56:01:02:04"}], [])
    # one address reported on two NICs, or two names on one NIC: not known, so not pinned
    same = [nics[0], dict(nics[1], ip_addresses=["10.1.2.3", "10.7.7.7"])]
    assert guest.pins_for(two, same)[0] == [{"name": "ens224", "mac": "00:50:56:01:02:04"}]
    both = [dict(nics[0], ip_addresses=["10.1.2.3", "10.7.7.7"]), dict(nics[1], ip_addresses=[])]
    pins, concerns = guest.pins_for(two, both)
    assert pins == [] and "which MAC had ens192, ens224 is not known" in concerns[0]


def test_virtio_drivers_are_seen_in_the_initramfs_or_the_kernel():
    assert guest.has_virtio_block(["usr/lib/modules/6.1.0-40-amd64/kernel/drivers/block/virtio_blk.ko"], None) is True
    assert guest.has_virtio_block(["usr/lib/modules/6.1.0-40-amd64/kernel/drivers/scsi/vmw_pvscsi.ko"], None) is False
    assert guest.has_virtio_block(None, "CONFIG_VIRTIO_BLK=y\n") is True
    assert guest.has_virtio_block(None, "CONFIG_VIRTIO_BLK=m\n") is None


def test_a_guest_without_virtio_needs_conversion_with_the_reason():
    assert "no virtio block driver" in guest.needs_virtio_drivers(
        {"type": "linux", "virtio_block": False, "initramfs": "/boot/initrd.img-6.1.0-40-amd64"})
    assert guest.needs_virtio_drivers({"type": "linux", "virtio_block": True}) is None
    assert guest.needs_virtio_drivers({"type": "linux", "virtio_block": None}) is None
    assert "Windows" in guest.needs_virtio_drivers({"type": "windows"})


class FakeFiles:
    """A datastore reader with descriptors in memory (the real one is tested against the simulator)."""

    def __init__(self, descriptors):
        self.descriptors = descriptors
        self.closed = False

    def read_text(self, path):
        return self.descriptors[path]

    def close(self):
        self.closed = True


class FakeVsphere:
    def __init__(self, files):
        self.files = files

    def datastore_files(self, datacenter, datastore):
        return self.files


SPLIT = ('# Disk DescriptorFile\ncreateType="twoGbMaxExtentFlat"\nRW 4194304 FLAT "a-s001.vmdk" 0\n'
         'RW 4194304 FLAT "a-s002.vmdk" 0\n')


def test_a_vm_that_cannot_be_read_is_reported_not_inspected_with_the_reason():
    files = FakeFiles({"a/a.vmdk": SPLIT, "b/b.vmdk": "KDMV..."})
    vsphere = FakeVsphere(files)
    facts = {"datacenter": "DC1", "nics": [], "disks": [{"label": "Hard disk 1", "datastore": "ds1", "path": "a/a.vmdk"}]}
    found = guest.inspect_vm(vsphere, facts)
    assert (found["inspected"], found["reason"]) == (False, "a disk of several extents is not inspected")
    assert files.closed
    facts["disks"] = [{"label": "Hard disk 1", "datastore": "ds1", "path": "b/b.vmdk"}]
    found = guest.inspect_vm(vsphere, facts)
    assert not found["inspected"] and "sparse VMDK" in found["reason"]
    facts["disks"] = [{"label": "Hard disk 2", "rdm": True, "datastore": "ds1", "path": "c/c.vmdk"}]
    assert guest.inspect_vm(vsphere, facts) == {"type": None, "inspected": False,
                                                "reason": "disk 'Hard disk 2' is not a virtual disk on a datastore"}


class ScriptedFish(guest.Guestfish):
    """A Guestfish without an appliance: each command answers from ``answers`` and is recorded."""

    def __init__(self, answers):  # pylint: disable=super-init-not-called
        self.answers, self.calls = answers, []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        return self.answers.get(args[0], "")


def test_the_pins_mount_what_the_inspection_found_only_while_the_root_is_the_same_file_system():
    layout = {"root": "/dev/sda1", "uuid": "4f1c", "mounts": [["/boot", "/dev/sda2"], ["/", "/dev/sda1"]]}
    fish = ScriptedFish({"vfs-uuid": "4f1c\n"})
    assert fish.mount_layout(layout)
    assert [c for c in fish.calls if c[0] == "mount"] == [("mount", "/dev/sda1", "/"), ("mount", "/dev/sda2", "/boot")]
    assert not [c for c in fish.calls if c[0] == "inspect-os"]
    # another file system where the root was (the disks changed since): nothing mounted, the caller inspects again
    changed = ScriptedFish({"vfs-uuid": "9e0d\n"})
    assert not changed.mount_layout(layout) and not [c for c in changed.calls if c[0] == "mount"]
    assert not ScriptedFish({}).mount_layout(None) and not ScriptedFish({}).mount_layout(dict(layout, uuid=""))
