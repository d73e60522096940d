# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wave estimate: the schedule vm_migrate's slots make, and the figures taken from earlier wave reports."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.migration.estimate import (
    DEFAULTS,
    estimate_wave,
    job_limits,
    pilot_disks,
    schedule,
)

MIB = 1024 * 1024


def test_schedule_fills_a_free_slot_at_once_and_keeps_the_per_key_limit():
    # two slots; a long VM from host a, then four short ones from host b at most one at a time
    assert schedule([10, 2, 2, 2, 2], ["a", "b", "b", "b", "b"], 2, 1) == [0, 0, 2, 4, 6]
    assert schedule([3, 3, 3], [None] * 3, 1, None) == [0, 3, 6]


def test_the_targets_share_the_limits_as_the_role_shares_them():
    assert job_limits({"parallel": 10, "per_source_host": 4, "per_target_host": 3}, 2) == {"parallel": 3, "per_source_host": 2}
    assert job_limits({"parallel": 1, "per_source_host": None, "per_target_host": None}, 3) == {"parallel": 1, "per_source_host": 1}


def wave(vms, parallel=2):
    return {"wave": 2, "vms": vms, "limits": {"parallel": parallel, "per_source_host": parallel, "per_target_host": parallel}}


def vm(name, size_mib, target="kvm1", host="esx1"):
    return {"name": name, "target": target, "source_host": host, "bytes": size_mib * MIB}


def report(seconds, vms, parallel=2):
    """A wave report as migration_report writes it: each VM copied at its rate, 4 s of other acting steps."""
    out = []
    for name, target, host, size_mib, rate_mib in vms:
        copy = size_mib / float(rate_mib)
        out.append({"name": name, "target": target, "source_host": host, "outcome": "migrated", "bytes": size_mib * MIB,
                    "bytes_per_second": rate_mib * MIB,
                    "steps": [{"step": "preflight", "seconds": 9.0}, {"step": "power_off", "seconds": 1.0},
                              {"step": "copy", "seconds": copy}, {"step": "define", "seconds": 1.0},
                              {"step": "start", "seconds": 2.0}]})
    return {"summary": {"wave": 1, "vms": len(out), "seconds": seconds,
                        "limits": {"parallel": parallel, "per_source_host": parallel, "per_target_host": parallel}}, "vms": out}


def test_without_earlier_waves_the_defaults_say():
    got = estimate_wave(wave([vm("a", 500), vm("b", 500), vm("c", 1000)]), [])
    assert got["from"] == "defaults" and [v["from"] for v in got["vms"]] == ["defaults"] * 3
    assert got["vms"][0]["copy_seconds"] == round(500 * MIB / DEFAULTS["bytes_per_second"], 1) == 10.0
    # a plan that does not say whether Tools run counts the guest shutdown; vm_migrate's defaults start the
    # target and wait only for it to run: no boot, no conversion
    other = DEFAULTS["step_seconds"] + DEFAULTS["shutdown_seconds"]
    assert got["vms"][0]["downtime_seconds"] == 10.0 + other == 45.0
    # a and b at once; c when the first slot frees
    assert [v["start"] for v in got["vms"]] == [0.0, 0.0, 45.0]
    assert got["span"] == 45.0 + 20.0 + other and got["seconds"] == got["span"] + DEFAULTS["wave_seconds"]


def test_without_earlier_waves_a_vm_has_the_steps_its_source_and_target_settings_give():
    plain = dict(vm("plain", 0), power_state="poweredOn", tools_running=True, guest_id="debian12_64Guest")
    no_tools = dict(plain, name="no-tools", tools_running=False)
    off = dict(plain, name="off", power_state="poweredOff")
    windows = dict(plain, name="windows", guest_id="windows2019srv_64Guest")
    booted = dict(plain, name="booted", target="kvm2")
    converted = dict(plain, name="converted", target="kvm3")
    settings = {"kvm1": {"wait_for": "running"}, "kvm2": {"wait_for": "ip"}, "kvm3": {"guest_conversion": "always", "wait_for": None},
                "kvm4": {"target_power_state": "stopped", "wait_for": "ip", "guest_conversion": "never"}}
    got = estimate_wave(wave([plain, no_tools, off, windows, booted, converted, dict(windows, name="kept", target="kvm4")]),
                        [], settings=settings)
    down = dict((v["name"], v["downtime_seconds"]) for v in got["vms"])
    step, shutdown, conversion, boot = (DEFAULTS[k] for k in ("step_seconds", "shutdown_seconds", "conversion_seconds", "boot_seconds"))
    assert down == {"plain": step + shutdown, "no-tools": step, "off": step, "windows": step + shutdown + conversion,
                    "booted": step + shutdown + boot, "converted": step + shutdown + conversion, "kept": step + shutdown}
    # the defaults are the caller's to change
    mine = estimate_wave(wave([no_tools]), [], defaults={"step_seconds": 2.0})
    assert mine["vms"][0]["downtime_seconds"] == 2.0


def test_earlier_waves_give_rates_nearest_first_and_the_waves_own_overhead():
    # wave 1: from esx1 to kvm1 at 100 MiB/s, from esx2 to kvm1 at 20 MiB/s; 2 VMs at once, 10 s each, took 25 s
    earlier = report(25.0, [("x", "kvm1", "esx1", 600, 100), ("y", "kvm1", "esx2", 120, 20)])
    got = estimate_wave(wave([vm("a", 1000, host="esx1"), vm("b", 200, host="esx2"), vm("c", 300, host="esx3")]), [earlier])
    a, b, c = got["vms"]
    assert (a["copy_seconds"], a["downtime_seconds"]) == (10.0, 14.0) and a["from"].startswith("earlier waves, esx1 to kvm1")
    assert (b["copy_seconds"], b["downtime_seconds"]) == (10.0, 14.0) and b["from"].startswith("earlier waves, esx2 to kvm1")
    # an ESXi host never seen: the median of what reached kvm1 (60 MiB/s)
    assert c["copy_seconds"] == 5.0 and c["from"] == "earlier waves, to kvm1 (2 VMs)"
    # wave 1's VMs took 10 s each side by side: its own overhead was 15 s
    assert got["overhead"] == 15.0
    assert got["span"] == 14.0 + 9.0 and got["seconds"] == 38.0


def test_a_wave_with_failures_gives_rates_but_no_overhead():
    earlier = report(500.0, [("x", "kvm1", "esx1", 600, 100)])
    earlier["vms"].append({"name": "z", "target": "kvm1", "outcome": "failed", "steps": [{"step": "copy", "seconds": 1}]})
    earlier["summary"]["vms"] = 2
    got = estimate_wave(wave([vm("a", 100)]), [earlier])
    assert got["vms"][0]["copy_seconds"] == 1.0 and got["overhead"] == DEFAULTS["wave_seconds"]


def on(vm_entry, *datastores):
    return dict(vm_entry, datacenter="DC0", disks=[{"datastore": ds, "path": "%s/%s.vmdk" % (vm_entry["name"], ds)} for ds in datastores])


def test_pilot_reads_give_the_rate_where_no_earlier_wave_does():
    earlier = report(25.0, [("x", "kvm1", "esx1", 600, 100)])
    the_wave = wave([on(vm("a", 1000, host="esx1", target="kvm1"), "ds1"), on(vm("b", 300, target="kvm2"), "ds1", "ds2"),
                     on(vm("c", 200, target="kvm2"), "ds2", "ds3")])
    # a's rate is known from wave 1; b and c go to a host no wave reached: one disk of each of their datastores
    assert pilot_disks(the_wave, [earlier]) == {"ds1": ("DC0", "b/ds1.vmdk"), "ds2": ("DC0", "b/ds2.vmdk"),
                                                "ds3": ("DC0", "c/ds3.vmdk")}
    got = estimate_wave(the_wave, [earlier], pilots={"ds1": 100 * MIB, "ds2": 30 * MIB})
    a, b, c = got["vms"]
    assert a["copy_seconds"] == 10.0 and a["from"].startswith("earlier waves")
    # a VM is as fast as its slowest datastore; one whose datastore had no pilot (ds3 failed) still has ds2's
    assert (b["copy_seconds"], b["from"]) == (10.0, "a pilot read of datastore ds2")
    assert round(c["copy_seconds"]) == 7 and c["from"] == "a pilot read of datastore ds2"
    alone = estimate_wave(wave([on(vm("d", 500), "ds9")]), [], pilots={"ds9": 250 * MIB})
    assert alone["from"] == "pilot reads of 1 datastores" and alone["vms"][0]["copy_seconds"] == 2.0


def test_the_plan_estimates_each_wave_from_the_reports_it_is_given(tmp_path):
    import json

    from ansible_collections.vmshift.virt.plugins.modules.migration_plan import run
    vms = [{"name": "a", "moref": "vm-1", "host": "esx1", "cpu": {"count": 1}, "memory_mib": 1024,
            "disks": [{"capacity_bytes": 600 * MIB}]}]
    params = {"vms": vms, "targets": [{"name": "kvm1", "cpus": 8, "memory_mib": 8192, "storage_bytes": 1 << 40}], "constraints": {},
              "assessment": [], "plan_file": None, "report_dir": None, "fail_on_unplaced": False}
    alone = run(params, False)
    assert alone["waves"][0]["estimate"]["from"] == "defaults"
    assert alone["summary"]["estimated_seconds"] == alone["waves"][0]["estimate"]["seconds"]
    (tmp_path / "wave-1.json").write_text(json.dumps(report(25.0, [("x", "kvm1", "esx1", 600, 100)])))
    learned = run(dict(params, report_dir=str(tmp_path)), False)["waves"][0]["estimate"]
    assert learned["from"] == "earlier waves (1 reports)" and learned["vms"][0]["copy_seconds"] == 6.0
    (tmp_path / "wave-2.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="report_dir %s: a wave report cannot be read" % tmp_path):
        run(dict(params, report_dir=str(tmp_path)), False)
