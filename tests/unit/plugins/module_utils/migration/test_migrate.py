# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_migrate's pure parts: the target spec and the input checks made before any connection."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import neutral_spec
from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import migrate_vm, with_copy_workers
from ansible_collections.vmshift.virt.plugins.module_utils.migration.migrate import target_spec
from ansible_collections.vmshift.virt.plugins.module_utils.migration.preflight import check_params
from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import TargetHost

SOURCE = neutral_spec(
    "web-01", uuid="4215c1d2-0000-0000-0000-000000000001", sockets=2, cores=2, memory_mib=4096, firmware="efi",
    disks=[{"name": "disk0", "size_bytes": 10, "bus": "scsi", "source": {"vsphere": {"datastore": "ds1", "path": "w/w.vmdk"}}}],
    nics=[{"name": "nic0", "mac": "00:50:56:aa:bb:cc", "network": "vlan-93", "model": "vmxnet3"},
          {"name": "nic1", "mac": "00:50:56:aa:bb:cd", "network": "backup"}],
    source={"vsphere": {"moref": "vm-1", "instance_uuid": "5000", "datacenter": "DC1"}})


def test_target_spec_keeps_identity_and_maps_disks_and_nics():
    spec = target_spec(SOURCE, "web-01", {}, [{"name": "disk0", "boot_order": 1, "volume": "web-01-disk0.qcow2"}],
                       {"vlan-93": {"bridge": "br-vlan93"}, "backup": {"network": "backup-net"}}, "running")
    assert spec["uuid"] == SOURCE["uuid"]
    assert spec["firmware"] == {"type": "efi", "secure_boot": False}
    assert spec["cpu"] == {"sockets": 2, "cores": 2, "threads": 1}
    assert spec["disks"] == [{"name": "disk0", "bus": "virtio", "boot_order": 1, "source": {"volume": "web-01-disk0.qcow2"}}]
    assert spec["nics"] == [{"name": "nic0", "mac": "00:50:56:aa:bb:cc", "model": "virtio", "bridge": "br-vlan93"},
                            {"name": "nic1", "mac": "00:50:56:aa:bb:cd", "model": "virtio", "network": "backup-net"}]
    assert spec["source"] == SOURCE["source"]


def test_overrides_win():
    spec = target_spec(SOURCE, "web-01-kvm", {"memory_mib": 2048, "cpu": {"sockets": 1, "cores": 4}}, [],
                       {"vlan-93": {"bridge": "b"}, "backup": {"bridge": "b"}}, "stopped")
    assert (spec["name"], spec["memory_mib"], spec["cpu"], spec["power_state"]) == ("web-01-kvm", 2048, {"sockets": 1, "cores": 4}, "stopped")


def params(**overrides):
    base = dict(copy_workers=4, chunk_size_mib=64, wait_timeout=300, shutdown_timeout=300, bandwidth_limit_mib=None,
                wait_for="running", serial_log=None, serial_pattern=None,
                overrides={}, network_map={"vlan-93": {"bridge": "br0"}})
    base.update(overrides)
    return base


@pytest.mark.parametrize("given, want", [
    ({"copy_workers": None}, 4),  # one VM: four streams
    ({"copy_workers": None, "vms": [{"name": "a"}], "parallel": 2}, 2),  # two copies at once share them
    ({"copy_workers": None, "vms": [{"name": "a"}], "parallel": 5}, 1),  # at least one each
    ({"copy_workers": 3, "vms": [{"name": "a"}], "parallel": 5}, 3),  # as given
])
def test_copy_streams_are_shared_by_the_copies_running_at_once(given, want):
    assert with_copy_workers(params(**given))["copy_workers"] == want


@pytest.mark.parametrize("bad, message", [
    ({"copy_workers": 0}, "copy_workers must be a positive number"),
    ({"chunk_size_mib": 0}, "chunk_size_mib must be a positive number"),
    ({"bandwidth_limit_mib": 0}, "bandwidth_limit_mib must be 1 or more"),
    ({"network_map": {"vlan-93": "br0"}}, r"network_map\['vlan-93'\] must be \{bridge: <Linux bridge>\}"),
    ({"network_map": {"vlan-93": {"bridge": "br0", "network": "n"}}}, r"network_map\['vlan-93'\] must be"),
    ({"wait_for": "serial", "serial_pattern": "READY"}, "wait_for is serial: set serial_log"),
])
def test_bad_input_names_the_field(bad, message):
    with pytest.raises(InvalidInput, match=message):
        check_params(params(**bad))


def test_good_input_passes():
    check_params(params())


def test_a_batch_lists_each_vm_once():
    with pytest.raises(InvalidInput, match=r"^vms\[2\] is vms\[0\] again \(moref vm-1\); list each VM once$"):
        migrate_vm(params(vms=[{"moref": "vm-1"}, {"moref": "vm-2"}, {"moref": "vm-1", "overrides": {"name": "b"}}],
                          parallel=2, serial_log=None), check_mode=True)


class Domain:
    """A libvirt domain as TargetHost reads it (its XML read is counted)."""

    def __init__(self, uuid, name, macs, reads):
        self.uuid, self.domain_name, self.macs, self.reads = uuid, name, macs, reads

    def UUIDString(self):
        return self.uuid

    def name(self):
        return self.domain_name

    def XMLDesc(self, flags):
        self.reads.append(self.uuid)
        return "<domain><devices>%s</devices></domain>" % "".join(
            "<interface type='network'><mac address='%s'/></interface>" % mac for mac in self.macs)


class Connection:
    def __init__(self, domains):
        self.domains = domains

    def listAllDomains(self, flags):
        return list(self.domains)


def test_the_host_view_leaves_out_the_own_domain_and_parses_each_domain_once_per_batch():
    reads = []
    conn = Connection([Domain("u1", "web", ["52:54:00:00:00:01"], reads), Domain("u2", "db", [], reads)])
    host = TargetHost()
    assert host.view(conn, None) == (["web", "db"], ["52:54:00:00:00:01"])
    assert host.view(conn, "u1") == (["db"], [])
    conn.domains.append(Domain("u3", "app", ["52:54:00:00:00:03"], reads))  # defined since: seen by the next view
    assert host.view(conn, None) == (["web", "db", "app"], ["52:54:00:00:00:01", "52:54:00:00:00:03"])
    assert reads == ["u1", "u2", "u3"]


def test_a_claim_refuses_what_another_migration_of_the_batch_took_and_takes_nothing_then():
    host = TargetHost()
    assert host.claim("'a' (vm-1)", "uuid-a", "web", ["00:50:56:AA:00:01"]) == []
    assert host.claim("'a' (vm-1)", "uuid-a", "web", ["00:50:56:aa:00:01"]) == []  # its own again: a retry
    assert host.claim("'b' (vm-2)", "uuid-b", "web", ["00:50:56:aa:00:01", "00:50:56:aa:00:02"]) == [
        "the target name 'web' is also that of 'a' (vm-1) in this batch; give one of them overrides.name",
        "MAC 00:50:56:aa:00:01 is also on 'a' (vm-1) in this batch; migrate one of them to another host or change the MAC "
        "in vSphere"]
    assert host.claim("'c' (vm-3)", "uuid-c", "app", ["00:50:56:aa:00:02"]) == []  # b's refusal took nothing
    assert host.claim("'a' again (vm-9)", "uuid-a", "other", []) == [
        "the batch migrates source VM uuid-a also as 'a' (vm-1); list each VM once"]


def test_run_limited_keeps_both_limits_and_fills_a_free_slot_at_once():
    import threading
    import time

    from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import run_limited
    lock = threading.Lock()
    now = {"all": 0, "a": 0, "b": 0}
    peak = {"all": 0, "a": 0, "b": 0}
    long_one_running_at_start = []

    def work(item):
        host, seconds = item
        with lock:
            long_one_running_at_start.append(now["a"] > 0)
            for k in ("all", host):
                now[k] += 1
                peak[k] = max(peak[k], now[k])
        time.sleep(seconds)
        with lock:
            now["all"] -= 1
            now[host] -= 1
        return "%s-%s" % item
    # a long copy from host a; four short ones from host b, at most 2 per host, 2 in all
    items = [("a", 0.6), ("b", 0.05), ("b", 0.05), ("b", 0.05), ("b", 0.05)]
    results = run_limited(items, work, parallel=2, key=lambda item: item[0], per_key=2)
    assert results == ["a-0.6", "b-0.05", "b-0.05", "b-0.05", "b-0.05"]
    assert peak == {"all": 2, "a": 1, "b": 1}
    # no batches: every short one went through the second slot while the long one still ran
    assert long_one_running_at_start == [False, True, True, True, True]


def test_run_limited_holds_back_a_host_at_its_limit_but_not_the_others():
    from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import run_limited
    import threading
    import time
    lock = threading.Lock()
    now = {}
    peak = {}

    def work(host):
        with lock:
            now[host] = now.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), now[host])
        time.sleep(0.02)
        with lock:
            now[host] -= 1
        return host
    items = ["a", "a", "a", "b", "b", "c"]
    assert run_limited(items, work, parallel=4, key=lambda h: h, per_key=1) == items
    assert peak == {"a": 1, "b": 1, "c": 1}


def test_run_limited_starts_nothing_more_once_stop_says_so():
    from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import run_limited
    results = run_limited([1, 2, 3, 4], lambda item: {"failed": item <= 2}, parallel=1,
                          stop=lambda done: sum(1 for r in done if r["failed"]) > 1)
    assert results == [{"failed": True}, {"failed": True}, None, None]


def test_copy_slots_let_migrations_prepare_ahead_but_act_within_the_limits():
    import threading
    import time

    from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import run_limited
    from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import CopySlots
    slots = CopySlots(parallel=2, per_key=1)
    lock = threading.Lock()
    now, peak, prepared = {"all": 0}, {"all": 0}, []

    def work(item):
        host, name = item
        with lock:
            prepared.append(name)  # the part before acting: lock, preflight, claim and its settle
        with slots.slot(host):
            with lock:
                for k in ("all", host):
                    now[k] = now.get(k, 0) + 1
                    peak[k] = max(peak.get(k, 0), now[k])
            time.sleep(0.05)
            with lock:
                now["all"] -= 1
                now[host] -= 1
        return name
    items = [("a", 1), ("a", 2), ("b", 3), ("b", 4), ("c", 5), ("c", 6)]
    assert run_limited(items, work, parallel=4, key=lambda item: item[0], per_key=2) == [1, 2, 3, 4, 5, 6]
    assert peak == {"all": 2, "a": 1, "b": 1, "c": 1}


def test_copy_slots_start_no_waiting_migration_once_too_many_failed():
    import threading
    import time

    from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import CopySlots, NotStarted
    slots = CopySlots(parallel=1, max_failed=0)
    outcome = []

    def waiting():
        try:
            with slots.slot("a"):
                outcome.append("acted")
        except NotStarted as exc:
            outcome.append(str(exc))
    waiter = threading.Thread(target=waiting)
    with pytest.raises(RuntimeError):
        with slots.slot("a"):  # the one acting fails, while another waits for its slot
            waiter.start()
            time.sleep(0.05)
            raise RuntimeError("the copy failed")
    waiter.join(5)
    assert outcome == ["not started: 1 migrations failed, more than max_failed 0"]
    with pytest.raises(NotStarted):  # and none that comes later
        with slots.slot("b"):
            pass
    assert CopySlots().busy("any") is False  # one migration alone: no limit


def test_copy_slots_go_in_the_order_the_migrations_started_as_far_as_the_limits_allow():
    import threading
    import time

    from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import CopySlots
    slots = CopySlots(parallel=1, per_key=1)
    log = []
    for order, key in ((0, "a"), (1, "b"), (2, "a"), (3, "c")):
        slots.join(order, key)

    def act(key, order):
        with slots.slot(key, order):
            log.append(order)
    later = threading.Thread(target=act, args=("b", 1))
    later.start()
    time.sleep(0.05)
    assert log == []  # prepared first, but the migration started before it still prepares
    act("a", 0)
    later.join(5)
    assert log == [0, 1]
    slots.leave(2)  # ended without acting (already migrated): the one after it does not wait for it
    act("c", 3)
    assert log == [0, 1, 3]
