# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.migration.plan import blocked_by, plan_waves

GIB = 1024 ** 3


def vm(name, host="esx1", cpus=2, mem=4096, gib=10, **attrs):
    return {"name": name, "moref": "vm-" + name, "host": host, "cpu": {"count": cpus}, "memory_mib": mem,
            "disks": [{"capacity_bytes": gib * GIB}], "custom_attributes": attrs}


HOSTS = [{"name": "kvm1", "cpus": 8, "memory_mib": 32768, "storage_bytes": 500 * GIB},
         {"name": "kvm2", "cpus": 8, "memory_mib": 32768, "storage_bytes": 500 * GIB}]


def names(wave):
    return [v["name"] for v in wave["vms"]]


def test_tiers_move_in_order_and_groups_together():
    vms = [vm("web1", tier="web", app="shop"), vm("db1", tier="db", app="shop-db"), vm("app1", tier="app", app="shop"),
           vm("app2", tier="app", app="shop"), vm("db2", tier="db", app="crm-db"), vm("lone")]
    plan = plan_waves(vms, HOSTS, {"group_attribute": "app", "order_attribute": "tier", "order": ["db", "app", "web"]})
    assert [(w["tier"], names(w)) for w in plan["waves"]] == [
        ("db", ["db1", "db2"]), ("app", ["app1", "app2", "web1"]), (None, ["lone"])]


def test_deterministic_and_balanced_by_free_memory():
    vms = [vm("v%02d" % i, mem=8192) for i in range(6)]
    first = plan_waves(vms, HOSTS, {"max_vms_per_wave": 4})
    assert first == plan_waves(list(reversed(vms)), list(reversed(HOSTS)), {"max_vms_per_wave": 4})
    targets = [v["target"] for w in first["waves"] for v in w["vms"]]
    assert targets.count("kvm1") == 3 and targets.count("kvm2") == 3
    assert [len(w["vms"]) for w in first["waves"]] == [4, 2]


def test_capacity_is_used_up_across_waves_and_the_rest_is_listed_with_reasons():
    vms = [vm("v%d" % i, mem=16384) for i in range(5)]
    plan = plan_waves(vms, HOSTS, {"max_vms_per_wave": 2})
    assert plan["summary"]["placed"] == 4
    assert plan["unplaced"][0]["name"] == "v4"
    assert "no target has room: kvm1: 0 MiB left, needs 16384; kvm2: 0 MiB left, needs 16384" == plan["unplaced"][0]["reason"]


def test_a_group_that_cannot_fit_whole_is_not_split():
    vms = [vm("a%d" % i, mem=16384, app="big") for i in range(5)]
    plan = plan_waves(vms, HOSTS, {"group_attribute": "app"})
    assert plan["waves"] == []
    assert [u["name"] for u in plan["unplaced"]] == ["a0", "a1", "a2", "a3", "a4"]
    assert plan["targets"][0]["memory_mib_left"] == 32768  # nothing of the group was kept


def test_anti_affinity_spreads_members():
    vms = [vm("n1", pair="x"), vm("n2", pair="x"), vm("n3", pair="x")]
    plan = plan_waves(vms, HOSTS, {"anti_affinity_attribute": "pair"})
    targets = sorted(v["target"] for w in plan["waves"] for v in w["vms"])
    assert targets == ["kvm1", "kvm2"]
    assert "anti-affinity group 'x'" in plan["unplaced"][0]["reason"]


def test_each_wave_carries_the_copy_limits_for_the_wave_role():
    vms = [vm("s%d" % i, host="esx%d" % (i % 2), mem=1024, gib=1) for i in range(8)]
    plan = plan_waves(vms, HOSTS, {"max_parallel": 3, "max_parallel_per_source_host": 1, "max_parallel_per_target_host": 2})
    assert [w["limits"] for w in plan["waves"]] == [{"parallel": 3, "per_source_host": 1, "per_target_host": 2}]
    assert "batch" not in plan["waves"][0]["vms"][0]


def test_tib_per_wave_and_oversized_groups():
    vms = [vm("d%d" % i, gib=400, app="g" if i < 2 else None) for i in range(3)]
    plan = plan_waves(vms, [{"name": "k", "storage_bytes": 10 * 1024 * GIB}], {"group_attribute": "app", "max_tib_per_wave": 0.5})
    assert [u["name"] for u in plan["unplaced"]] == ["d0", "d1"]
    assert "larger than one wave may be" in plan["unplaced"][0]["reason"]
    assert names(plan["waves"][0]) == ["d2"]


def test_assessment_blocks_are_listed():
    blocked = blocked_by([{"name": "v1", "blocked": True, "concerns": [{"code": "rdm_disk", "severity": "critical"}]},
                          {"name": "v2", "blocked": False, "concerns": []}])
    plan = plan_waves([vm("v1"), vm("v2")], HOSTS, {}, blocked)
    assert plan["unplaced"] == [{"name": "v1", "reason": "blocked by the assessment: rdm_disk"}]
    assert names(plan["waves"][0]) == ["v2"]


@pytest.mark.parametrize("args, message", [
    (([vm("a")], [], {}), "targets is empty"),
    (([vm("a")], HOSTS, {"max_wave": 3}), r"constraints has unknown keys \['max_wave'\]"),
    (([vm("a")], HOSTS, {"max_parallel": 0}), "constraints.max_parallel must be a whole number of 1 or more"),
    (([vm("a"), vm("a")], HOSTS, {}), "vms\\[1\\]: 'a' appears twice"),
    (([vm("a")], [{"name": "k", "ram": 4}], {}), r"targets\[0\] 'k' has unknown keys \['ram'\]"),
])
def test_bad_input(args, message):
    with pytest.raises(InvalidInput, match=message):
        plan_waves(*args)
