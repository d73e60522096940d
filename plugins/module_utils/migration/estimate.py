# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long a wave will take and how long each VM will be down, said before it starts. Pure functions.

The figures come from measurement, nearest first: the reports of earlier waves (each migrated VM's copy rate
and the time its other acting steps took, from the same ESXi host to the same target host, else to the same
target host, else any; for the copy rate, a pilot read of the VM's datastores comes right after the same
pair of hosts), else DEFAULTS, each step counted only where the VM and its target's settings say it happens
(a guest shutdown where VMware Tools run, a conversion where vm_migrate would convert, a boot where the guest
is started and waited for). A VM is down from its power-off to its guest's start on the target:
the steps that act, which wait for a slot. The wave is scheduled as vm_migrate's batch runs it (one job per
target host, its VMs in the wave's order, a slot taken as soon as one frees within the limits), plus what the
earlier waves took beyond their own VMs' schedule (Ansible's start, preflight, the report)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import statistics

MIB = 1024 * 1024
# When no earlier wave says otherwise: one VM's copy over vSphere's HTTPS datastore access (the field's
# figures for one stream are 50-150 MB/s); a guest's shutdown through VMware Tools; virt-v2v-in-place on a
# guest; a guest's boot to where it is waited for; the steps every VM has (power-off, definition, start, the
# marks), and a wave's time beyond its VMs, which a report counts from the role's first task to its report
# (the jobs' start on the KVM hosts, the first VMs' preflight, the report; not Ansible's or the job's start).
DEFAULTS = {"bytes_per_second": 50 * MIB, "shutdown_seconds": 30.0, "conversion_seconds": 180.0, "boot_seconds": 60.0,
            "step_seconds": 5.0, "wave_seconds": 15.0}
# vm_migrate's defaults for the settings that decide which of those steps a VM has
SETTINGS = {"target_power_state": "running", "wait_for": "running", "guest_conversion": "auto"}
ACTING = ("power_off", "copy", "pin_names", "convert", "define", "start", "mark_done")


def job_limits(limits, targets):
    """The limits of each target host's job, as the migration_wave role shares the wave's among its targets."""
    return {"parallel": min(limits.get("per_target_host") or limits["parallel"], max(1, limits["parallel"] // targets)),
            "per_source_host": max(1, (limits.get("per_source_host") or limits["parallel"]) // targets)}


def schedule(durations, keys, parallel, per_key):
    """When each of ``durations`` starts, run in order on ``parallel`` slots with at most ``per_key`` of one
    key at once, a slot taken as soon as one frees (as vm_migrate's CopySlots): [start seconds]."""
    starts = [None] * len(durations)
    running = []  # (end, key)
    now = 0.0
    while None in starts:
        running = [(end, key) for end, key in running if end > now]
        for i, start in enumerate(starts):
            if start is not None:
                continue
            if len(running) >= parallel:
                break
            if per_key and sum(1 for dummy, key in running if key == keys[i]) >= per_key:
                continue
            starts[i] = now
            running.append((now + durations[i], keys[i]))
        if None in starts:
            now = min(end for end, dummy in running)
    return starts


def wave_span(vms, limits):
    """The seconds from the first slot taken to the last freed, for ``vms`` [{target, source_host, seconds}];
    each VM's ``start`` (seconds into the span) is set on it."""
    targets = sorted(set(vm["target"] for vm in vms))
    per_job = job_limits(limits, max(1, len(targets)))
    span = 0.0
    for target in targets:
        mine = [vm for vm in vms if vm["target"] == target]
        starts = schedule([vm["seconds"] for vm in mine], [vm.get("source_host") for vm in mine], per_job["parallel"],
                          per_job["per_source_host"])
        for vm, start in zip(mine, starts):
            vm["start"] = round(start, 1)
            span = max(span, start + vm["seconds"])
    return span


def observations(reports):
    """From earlier wave reports ({summary, vms}, as migration_report writes them): each migrated VM's
    {source_host, target, bytes_per_second, other_seconds}, and for each whole wave whose VMs all migrated,
    the seconds it took beyond its VMs' schedule."""
    seen, overheads = [], []
    for report in reports:
        summary = report.get("summary") or {}
        migrated = [vm for vm in report.get("vms") or [] if vm.get("outcome") == "migrated" and vm.get("steps")]
        timed = []
        for vm in migrated:
            steps = dict((s["step"], s.get("seconds") or 0) for s in vm["steps"] if s["step"] in ACTING)
            seen.append({"source_host": vm.get("source_host"), "target": vm.get("target"),
                         "bytes_per_second": vm.get("bytes_per_second"), "other_seconds": sum(steps.values()) - steps.get("copy", 0)})
            timed.append({"target": vm.get("target"), "source_host": vm.get("source_host"), "seconds": sum(steps.values())})
        if summary.get("seconds") and summary.get("limits") and timed and len(timed) == summary.get("vms"):
            overheads.append(max(0.0, summary["seconds"] - wave_span(timed, summary["limits"])))
    return seen, overheads


def _figure(seen, source_host, target, field, pair_only=False):
    """(median of ``field`` over the nearest observations, where it came from), or (None, None). ``pair_only``: only
    observations from the same ESXi host to the same target host."""
    levels = (("%s to %s" % (source_host, target), lambda o: o["source_host"] == source_host and o["target"] == target),
              ("to %s" % target, lambda o: o["target"] == target), ("any host", lambda o: True))
    for where, match in levels[:1] if pair_only else levels:
        values = [o[field] for o in seen if match(o) and o.get(field) is not None]
        if values:
            return statistics.median(values), "earlier waves, %s (%d VMs)" % (where, len(values))
    return None, None


def pilot_disks(wave, reports):
    """{datastore: (datacenter, descriptor path)}: one disk on each datastore of the wave's VMs whose copy rate no
    earlier wave from the same ESXi host to the same target host gives, for a pilot read to sample (pilot_read)."""
    seen, dummy = observations(reports)
    disks = {}
    for vm in wave["vms"]:
        if _figure(seen, vm.get("source_host"), vm["target"], "bytes_per_second", pair_only=True)[0] is None:
            for disk in vm.get("disks") or []:
                disks.setdefault(disk["datastore"], (vm.get("datacenter"), disk["path"]))
    return disks


def _pilot_rate(vm, pilots):
    """(the slowest pilot rate of the datastores ``vm``'s disks are on, where it came from), or (None, None)."""
    rates = [(pilots[d["datastore"]], d["datastore"]) for d in vm.get("disks") or [] if pilots.get(d.get("datastore"))]
    if not rates:
        return None, None
    rate, datastore = min(rates)
    return rate, "a pilot read of datastore %s" % datastore


def default_other_seconds(vm, settings, defaults):
    """A VM's acting steps besides the copy when no earlier wave measured them: ``vm`` as the plan lists it (its
    source's power state, whether VMware Tools run, its guest OS), ``settings`` its target's (vm_migrate's
    target_power_state, wait_for, guest_conversion)."""
    settings = dict(SETTINGS, **dict((k, v) for k, v in (settings or {}).items() if v is not None))
    seconds = defaults["step_seconds"]
    if vm.get("power_state", "poweredOn") == "poweredOn" and vm.get("tools_running", True):
        seconds += defaults["shutdown_seconds"]
    # before inspection only a Windows guest is known to need the conversion that "auto" makes
    windows = (vm.get("guest_id") or "").lower().startswith("win")
    if settings["guest_conversion"] == "always" or (settings["guest_conversion"] == "auto" and windows):
        seconds += defaults["conversion_seconds"]
    if settings["target_power_state"] == "running" and settings["wait_for"] not in ("none", "running"):
        seconds += defaults["boot_seconds"]
    return seconds


def estimate_wave(wave, reports, defaults=None, pilots=None, settings=None):
    """The estimate for ``wave`` (migration_plan's: {wave, vms: [{name, target, source_host, bytes, disks}], limits})
    from earlier ``reports``, else ``pilots`` ({datastore: bytes per second}, pilot reads of the datastores where no
    report says), else ``defaults``, given each target's ``settings`` ({target: vm_migrate's settings}): {wave, seconds,
    span, overhead, bytes, vms: [{name, target, bytes, copy_seconds, downtime_seconds, start, from}], from}."""
    defaults = dict(DEFAULTS, **(defaults or {}))
    seen, overheads = observations(reports)
    vms = []
    for vm in wave["vms"]:
        # the same ESXi host to the same target host, then a pilot read of its datastores, then other reports
        rate, rate_from = _figure(seen, vm.get("source_host"), vm["target"], "bytes_per_second", pair_only=True)
        if rate is None:
            rate, rate_from = _pilot_rate(vm, pilots or {})
        if rate is None:
            rate, rate_from = _figure(seen, vm.get("source_host"), vm["target"], "bytes_per_second")
        other, dummy = _figure(seen, vm.get("source_host"), vm["target"], "other_seconds")
        rate = rate or defaults["bytes_per_second"]
        copy_seconds = (vm.get("bytes") or 0) / float(rate)
        if other is None:
            other = default_other_seconds(vm, (settings or {}).get(vm["target"]), defaults)
        vms.append({"name": vm["name"], "target": vm["target"], "source_host": vm.get("source_host"), "bytes": vm.get("bytes") or 0,
                    "copy_seconds": round(copy_seconds, 1), "downtime_seconds": round(copy_seconds + other, 1),
                    "seconds": copy_seconds + other, "from": rate_from or "defaults"})
    span = wave_span(vms, wave["limits"]) if vms else 0.0
    overhead = statistics.median(overheads) if overheads else defaults["wave_seconds"]
    for vm in vms:
        del vm["seconds"]
    return {"wave": wave["wave"], "seconds": round(span + overhead, 1), "span": round(span, 1), "overhead": round(overhead, 1),
            "bytes": sum(vm["bytes"] for vm in vms), "vms": vms,
            "from": ", ".join(part for part, used in (("earlier waves (%d reports)" % len(reports), seen),
                                                      ("pilot reads of %d datastores" % len(pilots or ()), pilots)) if used)
            or "defaults"}
