# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wave planner: pure and deterministic (same input, same plan).

1. Units: VMs that must move together (same value of the group attribute) form one unit; others are
   units of one. Units are ordered by dependency tier (``order``: e.g. db before app before web),
   then by name.
2. Waves: units are added in that order while the wave stays within ``max_vms_per_wave`` and
   ``max_tib_per_wave``; a higher tier always starts a new wave (dependencies move first).
3. Placement: each VM goes to the target host with the most free memory that still has the vCPUs
   (times the CPU overcommit), the memory (times the memory overcommit) and the storage, and holds
   no VM of the same anti-affinity value. Capacity used by earlier waves stays used. A unit that
   cannot be placed whole is not placed; each of its VMs is listed with the reason.
4. Limits: each wave carries the copies allowed at once (``max_parallel`` in all,
   ``max_parallel_per_source_host`` per ESXi host, ``max_parallel_per_target_host`` per target), which
   the wave role keeps while it runs: a copy starts as soon as one ends, no batches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput

TIB = 1024 ** 4
CONSTRAINT_DEFAULTS = {
    "group_attribute": None, "order_attribute": None, "order": [], "anti_affinity_attribute": None,
    "max_vms_per_wave": 50, "max_tib_per_wave": None, "max_parallel": 5, "max_parallel_per_source_host": 2,
    "max_parallel_per_target_host": 2,
}
TARGET_KEYS = ("name", "type", "cpus", "memory_mib", "storage_bytes", "cpu_overcommit", "memory_overcommit")


def vm_bytes(vm):
    return sum(d.get("capacity_bytes") or 0 for d in vm.get("disks") or [])


def _number(value, least, integer=True):
    """Whether ``value`` is None or a number (an int when ``integer``) of at least ``least``."""
    kinds = (int,) if integer else (int, float)
    return value is None or (isinstance(value, kinds) and not isinstance(value, bool) and value >= least)


def check_inputs(vms, targets, constraints):
    unknown = set(constraints) - set(CONSTRAINT_DEFAULTS)
    if unknown:
        raise InvalidInput("constraints has unknown keys %s; known: %s" % (sorted(unknown), ", ".join(sorted(CONSTRAINT_DEFAULTS))))
    merged = dict(CONSTRAINT_DEFAULTS, **dict((k, v) for k, v in constraints.items() if v is not None))
    for key in ("max_vms_per_wave", "max_parallel", "max_parallel_per_source_host", "max_parallel_per_target_host"):
        if not isinstance(merged[key], int) or merged[key] < 1:
            raise InvalidInput("constraints.%s must be a whole number of 1 or more, not %r" % (key, merged[key]))
    if not _number(merged["max_tib_per_wave"], 0, integer=False) or merged["max_tib_per_wave"] == 0:
        raise InvalidInput("constraints.max_tib_per_wave must be a number above 0 (TiB), not %r" % (merged["max_tib_per_wave"],))
    if not isinstance(merged["order"], list):
        raise InvalidInput("constraints.order must be a list of %s values, first moves first" % (merged["order_attribute"] or "order_attribute"))
    if not targets:
        raise InvalidInput("targets is empty: give at least one KVM host ({name, cpus, memory_mib, storage_bytes}) or a cluster")
    names = set()
    for i, target in enumerate(targets):
        if not isinstance(target, dict) or not target.get("name"):
            raise InvalidInput("targets[%d] needs a name" % i)
        if target["name"] in names:
            raise InvalidInput("targets[%d]: the name '%s' is used twice" % (i, target["name"]))
        names.add(target["name"])
        extra = set(target) - set(TARGET_KEYS)
        if extra:
            raise InvalidInput("targets[%d] '%s' has unknown keys %s; known: %s" % (i, target["name"], sorted(extra), ", ".join(TARGET_KEYS)))
        for key in ("cpus", "memory_mib", "storage_bytes", "cpu_overcommit", "memory_overcommit"):
            if not _number(target.get(key), 0, integer=not key.endswith("overcommit")):
                raise InvalidInput("targets[%d].%s must be %s, not %r; leave it out for no limit"
                                   % (i, key, "a number of 0 or more" if key.endswith("overcommit") else "a whole number of 0 or more",
                                      target[key]))
    seen = set()
    for i, vm in enumerate(vms):
        if not isinstance(vm, dict) or not vm.get("name"):
            raise InvalidInput("vms[%d] has no name; pass the vms list that vsphere_vm_info returns" % i)
        if vm["name"] in seen:
            raise InvalidInput("vms[%d]: '%s' appears twice" % (i, vm["name"]))
        cpu = vm.get("cpu") or {}
        disks = vm.get("disks") or []
        if not isinstance(cpu, dict) or not _number(cpu.get("count"), 1):
            raise InvalidInput("vms[%d].cpu.count of '%s' must be a whole number of 1 or more, not %r"
                               % (i, vm["name"], cpu.get("count") if isinstance(cpu, dict) else cpu))
        if not _number(vm.get("memory_mib"), 0):
            raise InvalidInput("vms[%d].memory_mib of '%s' must be a whole number of MiB, not %r" % (i, vm["name"], vm["memory_mib"]))
        if not isinstance(disks, list) or not all(isinstance(d, dict) and _number(d.get("capacity_bytes"), 0) for d in disks):
            raise InvalidInput("vms[%d].disks of '%s' must be a list of {capacity_bytes: a whole number of bytes}" % (i, vm["name"]))
        seen.add(vm["name"])
    return merged


class Host:
    """A target's room, in the units the planner compares."""

    def __init__(self, target):
        self.name = target["name"]
        # A capacity left out is not limited (a cluster whose room the planner is not told, say).
        self.cpus = None if target.get("cpus") is None else target["cpus"] * float(target.get("cpu_overcommit") or 4.0)
        self.memory = None if target.get("memory_mib") is None else target["memory_mib"] * float(target.get("memory_overcommit") or 1.0)
        self.storage = target.get("storage_bytes")
        self.groups = set()
        self.vms = 0

    def fits(self, vm, anti):
        cpus, memory, size = (vm.get("cpu") or {}).get("count") or 1, vm.get("memory_mib") or 0, vm_bytes(vm)
        if anti is not None and anti in self.groups:
            return "holds a VM of anti-affinity group '%s'" % anti
        if self.cpus is not None and cpus > self.cpus:
            return "%d vCPUs left, needs %d" % (self.cpus, cpus)
        if self.memory is not None and memory > self.memory:
            return "%d MiB left, needs %d" % (self.memory, memory)
        if self.storage is not None and size > self.storage:
            return "%.1f GiB left, needs %.1f" % (self.storage / 1024.0 ** 3, size / 1024.0 ** 3)
        return None

    def take(self, vm, anti, sign=1):
        if self.cpus is not None:
            self.cpus -= sign * ((vm.get("cpu") or {}).get("count") or 1)
        if self.memory is not None:
            self.memory -= sign * (vm.get("memory_mib") or 0)
        if self.storage is not None:
            self.storage -= sign * vm_bytes(vm)
        if anti is not None:
            (self.groups.add if sign > 0 else self.groups.discard)(anti)
        self.vms += sign

    def room(self):
        return (self.memory if self.memory is not None else float("inf"), -self.vms)


def attribute(vm, name):
    return (vm.get("custom_attributes") or {}).get(name) if name else None


def units_of(vms, c):
    tiers = list(c["order"] or [])

    def tier(vm):
        value = attribute(vm, c["order_attribute"])
        return tiers.index(value) if value in tiers else len(tiers)
    groups = {}
    for vm in vms:
        key = attribute(vm, c["group_attribute"]) or ("\0" + vm["name"])  # a VM without a group is its own
        groups.setdefault(key, []).append(vm)
    units = []
    for key, members in groups.items():
        members.sort(key=lambda v: v["name"])
        units.append({"key": key, "tier": min(tier(v) for v in members), "vms": members,
                      "bytes": sum(vm_bytes(v) for v in members)})
    units.sort(key=lambda u: (u["tier"], u["vms"][0]["name"]))
    return units


def place_unit(unit, hosts, c):
    """[(vm, host)] for the whole unit, or (None, reasons) with nothing taken."""
    placed = []
    for vm in sorted(unit["vms"], key=lambda v: (-(v.get("memory_mib") or 0), v["name"])):
        anti = attribute(vm, c["anti_affinity_attribute"])
        best, reasons = None, []
        for host in hosts:
            why = host.fits(vm, anti)
            if why:
                reasons.append("%s: %s" % (host.name, why))
            elif best is None or host.room() > best.room():
                best = host
        if best is None:
            for done_vm, host in placed:
                host.take(done_vm, attribute(done_vm, c["anti_affinity_attribute"]), sign=-1)
            return None, "no target has room: " + "; ".join(reasons[:5]) + ("; ..." if len(reasons) > 5 else "")
        best.take(vm, anti)
        placed.append((vm, best))
    return placed, None


def plan_waves(vms, targets, constraints=None, blocked=None):
    """{waves: [...], unplaced: [...], targets: [...], summary: {...}}."""
    c = check_inputs(vms, targets, constraints or {})
    blocked = blocked or {}
    unplaced = [{"name": name, "reason": reason} for name, reason in sorted(blocked.items())]
    hosts = [Host(t) for t in sorted(targets, key=lambda t: t["name"])]
    max_bytes = c["max_tib_per_wave"] * TIB if c["max_tib_per_wave"] else None
    waves = []
    current = None
    for unit in units_of([v for v in vms if v["name"] not in blocked], c):
        size = len(unit["vms"])
        if size > c["max_vms_per_wave"] or (max_bytes is not None and unit["bytes"] > max_bytes):
            why = "the group '%s' (%d VMs, %.2f TiB) is larger than one wave may be" % (
                unit["key"].lstrip("\0"), size, unit["bytes"] / float(TIB))
            unplaced.extend({"name": v["name"], "reason": why} for v in unit["vms"])
            continue
        placed, why = place_unit(unit, hosts, c)
        if placed is None:
            unplaced.extend({"name": v["name"], "reason": why} for v in unit["vms"])
            continue
        if (current is None or current["tier"] != unit["tier"] or len(current["vms"]) + size > c["max_vms_per_wave"]
                or (max_bytes is not None and current["bytes"] + unit["bytes"] > max_bytes)):
            current = {"wave": len(waves) + 1, "tier": unit["tier"], "vms": [], "bytes": 0}
            waves.append(current)
        for vm, host in sorted(placed, key=lambda p: p[0]["name"]):
            current["vms"].append({
                "name": vm["name"], "moref": vm.get("moref"), "uuid": vm.get("instance_uuid"), "source_host": vm.get("host"),
                "target": host.name, "bytes": vm_bytes(vm), "cpus": (vm.get("cpu") or {}).get("count") or 1,
                # where the estimate's pilot read samples the source's rate when no earlier wave gives one
                "datacenter": vm.get("datacenter"), "disks": [{"datastore": d["datastore"], "path": d["path"]}
                                                              for d in vm.get("disks") or [] if d.get("datastore") and d.get("path")],
                "memory_mib": vm.get("memory_mib") or 0, "group": None if unit["key"].startswith("\0") else unit["key"],
                # which steps the estimate counts for it before a wave has measured them (a guest shutdown, a conversion)
                "power_state": vm.get("power_state"), "tools_running": vm.get("tools_running_status") == "guestToolsRunning",
                "guest_id": vm.get("guest_id")})
        current["bytes"] += unit["bytes"]
    limits = {"parallel": c["max_parallel"], "per_source_host": c["max_parallel_per_source_host"],
              "per_target_host": c["max_parallel_per_target_host"]}
    for wave in waves:
        wave["limits"] = dict(limits)  # copies at once, which the wave role keeps while it runs the wave
        wave["tier"] = (c["order"][wave["tier"]] if wave["tier"] < len(c["order"] or []) else None)
    unplaced.sort(key=lambda u: u["name"])
    return {
        "waves": waves,
        "unplaced": unplaced,
        "targets": [{"name": h.name, "vms": h.vms, "cpus_left": h.cpus, "memory_mib_left": h.memory,
                     "storage_bytes_left": h.storage} for h in hosts],
        "summary": {"vms": len(vms), "placed": sum(len(w["vms"]) for w in waves), "unplaced": len(unplaced),
                    "waves": len(waves), "bytes": sum(w["bytes"] for w in waves)},
        "constraints": c,
    }


def blocked_by(assessment):
    """{name: reason} for the VMs an assessment (migration_assess results) blocks."""
    out = {}
    for result in assessment or []:
        if result.get("blocked"):
            codes = [c["code"] for c in result.get("concerns") or [] if c.get("severity") == "critical"]
            out[result["name"]] = "blocked by the assessment: %s" % ", ".join(codes)
    return out
