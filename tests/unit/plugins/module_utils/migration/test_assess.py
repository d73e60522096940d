# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess import assess, assess_vm
from ansible_collections.vmshift.virt.plugins.module_utils.migration.report import html, markdown


def vm(**overrides):
    base = {"name": "web-01", "moref": "vm-1", "guest_id": "rhel9_64Guest", "hostname": "web-01", "ip_address": "10.0.0.5",
            "firmware": "bios", "secure_boot": False, "cbt_enabled": True, "snapshot_count": 0, "cpu": {"count": 2},
            "memory_mib": 4096, "cpu_affinity": [], "devices": {"passthrough": [], "usb": [], "tpm": [], "sriov": []},
            "disks": [{"label": "Hard disk 1", "datastore": "ds1", "capacity_bytes": 10 * 2 ** 30, "rdm": False,
                       "sharing": "sharingNone", "disk_mode": "persistent"}],
            "nics": [{"label": "Network adapter 1", "mac": "00:50:56:aa:bb:cc", "network": "vlan-93"}]}
    base.update(overrides)
    return base


def codes(concerns):
    return [(c["code"], c["severity"]) for c in concerns]


def test_a_clean_vm_has_no_concerns():
    assert assess_vm(vm(), {"type": "libvirt", "network_map": {"vlan-93": "br93"}}) == []


@pytest.mark.parametrize("overrides,expected", [
    ({"devices": {"passthrough": ["PCI device 0"]}}, ("passthrough_device", "critical")),
    ({"devices": {"sriov": ["SR-IOV 1"]}}, ("sriov_nic", "critical")),
    ({"devices": {"usb": ["USB xHCI controller"]}}, ("usb_device", "warning")),
    ({"devices": {"tpm": ["Virtual TPM"]}}, ("vtpm", "warning")),
    ({"disks": [{"label": "d", "datastore": "ds", "capacity_bytes": 1, "rdm": True}]}, ("rdm_disk", "critical")),
    ({"disks": [{"label": "d", "datastore": "ds", "capacity_bytes": 1, "sharing": "sharingMultiWriter"}]}, ("shared_disk", "critical")),
    ({"disks": [{"label": "d", "datastore": "ds", "capacity_bytes": 1, "disk_mode": "independent_persistent"}]},
     ("independent_disk", "warning")),
    ({"disks": [{"label": "d", "datastore": None, "capacity_bytes": 1}]}, ("disk_not_on_datastore", "critical")),
    ({"disks": [{"label": "d", "datastore": "ds", "capacity_bytes": 0}]}, ("invalid_disk_capacity", "critical")),
    ({"snapshot_count": 2}, ("snapshots_present", "warning")),
    ({"cpu_hot_add": True}, ("hot_plug", "info")),
    ({"cpu_affinity": [0, 1]}, ("cpu_affinity", "warning")),
    ({"guest_id": "darwin19_64Guest"}, ("unsupported_guest_os", "critical")),
    ({"guest_id": "otherGuest"}, ("unknown_guest_os", "warning")),
    ({"ip_address": None}, ("no_guest_identity", "warning")),
])
def test_source_rules(overrides, expected):
    assert expected in codes(assess_vm(vm(**overrides)))


def test_warm_migration_needs_cbt_and_dependent_disks():
    concerns = codes(assess_vm(vm(cbt_enabled=False, disks=[
        {"label": "d", "datastore": "ds", "capacity_bytes": 1, "disk_mode": "independent_nonpersistent"}]), None, "warm"))
    assert ("cbt_disabled", "critical") in concerns and ("independent_disk", "critical") in concerns
    assert ("cbt_disabled", "critical") not in codes(assess_vm(vm(cbt_enabled=False), None, "cold"))


@pytest.mark.parametrize("target,overrides,expected", [
    ({"type": "kubevirt"}, {"name": "Web_01"}, "invalid_target_name"),
    ({"type": "libvirt", "max_disks": 1}, {"disks": [{"label": "a", "datastore": "d", "capacity_bytes": 1}] * 2}, "too_many_disks"),
    ({"network_map": {"other": "br0"}}, {}, "unmapped_network"),
    ({"efi_available": False}, {"firmware": "efi"}, "efi_unavailable"),
    ({"secure_boot_available": False}, {"firmware": "efi", "secure_boot": True}, "secure_boot_unavailable"),
    ({"existing_names": ["web-01"]}, {}, "name_collision"),
    ({"existing_names": ["mig-web-01"], "name_prefix": "mig-"}, {}, "name_collision"),
    ({"existing_macs": ["00:50:56:AA:BB:CC"]}, {}, "mac_collision"),
])
def test_target_rules(target, overrides, expected):
    assert (expected, "critical") in codes(assess_vm(vm(**overrides), target))


# A Debian guest as inspection reads it from VMware (initramfs for pvscsi only, static address on ens192 by name).
DEBIAN = {"inspected": True, "type": "linux", "distro": "debian", "virtio_block": False,
          "initramfs": "/boot/initrd.img-6.1.0-40-amd64", "pins": [{"name": "ens192", "mac": "00:50:56:aa:bb:cc"}]}


@pytest.mark.parametrize("guest,target,expected", [
    (DEBIAN, {}, [("guest_converted", "info"), ("interface_names_pinned", "info")]),
    (DEBIAN, {"conversion_available": False}, [("guest_needs_conversion", "critical"), ("interface_names_pinned", "info")]),
    (DEBIAN, {"guest_conversion": "never"}, [("guest_needs_conversion", "critical"), ("interface_names_pinned", "info")]),
    (dict(DEBIAN, virtio_block=True, pins=[]), {"guest_conversion": "always", "conversion_available": False},
     [("conversion_unavailable", "critical")]),
    (dict(DEBIAN, virtio_block=True, pins=[]), {"guest_conversion": "never"}, []),
    ({"inspected": False, "type": None, "reason": "nbdkit: 401"}, {}, [("guest_not_inspected", "warning")]),
    ({"inspected": True, "type": None, "reason": "no operating system found on the disks"}, {},
     [("guest_os_not_found", "warning")]),
    (dict(DEBIAN, virtio_block=True, pins=[], concerns=[
        "the guest configures ens192, ens224 by name and the VM has 2 NICs: which MAC had ens224 is not known (VMware "
        "Tools reports no NIC with its static address); pin each name to its MAC in the guest"]), {},
     [("interface_names_unknown", "warning")]),
])
def test_guest_rules_from_inspection(guest, target, expected):
    concerns = assess_vm(vm(guest=guest), dict(target, network_map={"vlan-93": "br93"}))
    assert codes(concerns) == expected
    for c in concerns:
        assert c["message"] and c["fix"] and c["message"] != c["fix"]


def test_without_inspection_the_guest_os_vsphere_reports_decides():
    # a Windows guest lacks virtio drivers: converted by default, refused where no converter is
    assert codes(assess_vm(vm(guest_id="windows2019srv_64Guest"))) == [("guest_converted", "info")]
    assert codes(assess_vm(vm(guest_id="windows2019srv_64Guest"), {"conversion_available": False})) == [
        ("guest_needs_conversion", "critical")]
    # never is trusted for Windows: inspection does not look for its drivers
    assert codes(assess_vm(vm(guest_id="windows2019srv_64Guest"), {"guest_conversion": "never"})) == []


def test_capacity_is_used_up_in_order_and_blocked_vms_take_none():
    vms = [vm(name="a", disks=[{"label": "d", "datastore": "ds", "capacity_bytes": 60}]),
           vm(name="b", devices={"passthrough": ["gpu"]}, disks=[{"label": "d", "datastore": "ds", "capacity_bytes": 30}]),
           vm(name="c", disks=[{"label": "d", "datastore": "ds", "capacity_bytes": 30}]),
           vm(name="d", disks=[{"label": "d", "datastore": "ds", "capacity_bytes": 20}])]
    results, summary = assess(vms, {"free_bytes": 100})
    assert [r["blocked"] for r in results] == [False, True, False, True]
    assert results[3]["concerns"][0]["code"] == "storage_space"
    assert "needs 20 bytes of storage; 10 left" in results[3]["concerns"][0]["message"]
    assert summary["vms"] == 4 and summary["blocked_vms"] == 2 and summary["ready_vms"] == 2


def test_reports_show_counts_and_every_concern_escaped():
    results, summary = assess([vm(name="<b>web|01</b>", snapshot_count=1), vm(name="db-01")])
    md = markdown(results, summary, "Wave 1")
    assert md.startswith("# Wave 1")
    assert "2 VMs: 2 ready, 0 blocked. Concerns: 0 critical, 1 warning, 0 info." in md
    assert "web\\|01" in md and "No concerns." in md
    page = html(results, summary, "Wave 1")
    assert "&lt;b&gt;web|01&lt;/b&gt;" in page and "<b>web" not in page
    assert "1 snapshot(s)" in page
