# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_migrate's entry point and its batch scheduler: one VM, or several onto this host with bounded
concurrency (``parallel``, ``parallel_per_source_host``), each its own migration (migrate.py), and no more
started once more than ``max_failed`` failed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import state_name
from ansible_collections.vmshift.virt.plugins.module_utils.migration.migrate import run_migration
from ansible_collections.vmshift.virt.plugins.module_utils.migration.preflight import check_params
from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import Batch, CopySlots, NotStarted, Turn
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.source_vm import SourceVm, chosen_vm

# Ranged reads of one host's copies together when copy_workers is not set, shared by the copies of a batch
# running at once (at least one each); why four: docs/design.md, "Copy streams".
COPY_STREAMS = 4
AHEAD = 2  # a batch runs this many times its limits of migrations, the extra ones preparing (shared.CopySlots)


def with_copy_workers(params):
    """``params`` with copy_workers set: as given, else COPY_STREAMS shared by the copies running at once."""
    if params["copy_workers"] is not None:
        return params
    at_once = params["parallel"] if params.get("vms") else 1
    return dict(params, copy_workers=max(1, COPY_STREAMS // max(1, at_once)))


def migrate_vm(params, check_mode):
    params = with_copy_workers(params)
    if params.get("vms"):
        return migrate_many(params, check_mode)
    return run_migration(params, check_mode)


def one_migration(params, check_mode, batch, turn):
    """A migration's result; a failure becomes a failed result (the others go on)."""
    slots = batch.slots
    try:
        try:
            return run_migration(params, check_mode, batch, turn)
        except VmshiftError as exc:
            failure = exc
        if not turn.acted:  # it failed before its slot (CopySlots): reported in its turn
            try:
                with slots.slot(turn.key, turn.order):
                    raise failure
            except NotStarted as stopped:
                return {"changed": False, "not_started": True, "msg": str(stopped)}
            except VmshiftError:
                pass
        return dict(failure.details, failed=True, msg=failure.message, changed=bool(failure.details.get("changed")))
    finally:
        slots.leave(turn.order)  # one that ended without its turn (already migrated, check mode) holds up no other


def run_limited(items, work, parallel, key=None, per_key=None, stop=None, started=None):
    """``work(item)`` for each item on threads: at most ``parallel`` at once and at most ``per_key`` with the
    same ``key(item)``, started in order as the limits allow (no batches: a slot that frees is filled at
    once). Once ``stop(results so far)`` is true nothing more starts. ``started(index, item)`` is called as each
    is started, in order. Returns the results in the order of ``items``, None for an item never started."""
    results = [None] * len(items)
    groups = [key(item) if key else None for item in items]
    pending = list(range(len(items)))
    running = {}
    counts = {}
    with ThreadPoolExecutor(max(1, parallel)) as pool:
        while pending or running:
            stopped = stop is not None and stop([r for r in results if r is not None])
            for index in [] if stopped else list(pending):
                if len(running) >= max(1, parallel):
                    break
                if per_key and counts.get(groups[index], 0) >= per_key:
                    continue
                pending.remove(index)
                counts[groups[index]] = counts.get(groups[index], 0) + 1
                if started is not None:
                    started(index, items[index])
                running[pool.submit(work, items[index])] = index
            if not running:
                break
            done, dummy = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                counts[groups[index]] -= 1
                results[index] = future.result()
    return results


def source_host_of(inventory):
    """key(run) for run_limited: the ESXi host of the run's VM as the inventory knows it (by moref or
    name); a VM given by UUID is its own group (the inventory does not index UUIDs)."""
    by_name = dict((name, moid) for moid, name in inventory["names"].items())

    def key(run):
        moid = run.get("moref") or by_name.get(run.get("name"))
        return inventory["hosts"].get(moid) or ("vm", moid or run.get("uuid"))
    return key


def final_states(uri, results):
    """Each migrated domain's state read again once the whole batch ended (a guest started early in the batch
    may have stopped since): the verification the migration_wave role asserts on, in the same run."""
    domains = [r["domain"] for r in results if r is not None and not r.get("failed") and (r.get("domain") or {}).get("uuid")]
    if not domains:
        return
    try:
        with LibvirtClient(uri) as target:
            for domain in domains:
                domain["state"] = state_name(target.domain(domain["name"]))
    except VmshiftError as exc:
        # the migrations' own results stand; the state is unknown, which the role's check reports
        for domain in domains:
            domain.update(state="unknown", state_error=exc.message)


def migrate_many(params, check_mode):
    """Several VMs onto this host, ``parallel`` at a time and ``parallel_per_source_host`` at a time from one
    ESXi host, each its own migration with its own connections, steps, record and rollback (one process, one
    start-up, for a whole wave on a host). Once more than ``max_failed`` failed, no more start. Fails when
    any failed, with every VM's result in ``results`` (in the order of ``vms``)."""
    for field, least in (("parallel", 1), ("parallel_per_source_host", 1), ("max_failed", 0)):
        if params.get(field) is not None and params[field] < least:
            unset = "" if field == "parallel" else " (unset: no limit)"
            raise InvalidInput("%s must be %d or more, not %s%s" % (field, least, params[field], unset))
    runs = []
    seen = {}
    for i, entry in enumerate(params["vms"]):
        keys = [k for k in ("name", "moref", "uuid") if entry.get(k)]  # one (the argument spec's)
        chosen = (keys[0], entry[keys[0]])
        if chosen in seen:
            raise InvalidInput("vms[%d] is vms[%d] again (%s %s); list each VM once" % (i, seen[chosen], chosen[0], chosen[1]))
        seen[chosen] = i
        runs.append(dict(params, vms=None, name=entry.get("name"), moref=entry.get("moref"), uuid=entry.get("uuid"),
                         overrides=entry.get("overrides") or params["overrides"],
                         serial_log=entry.get("serial_log") or params["serial_log"]))
    for run in runs:
        check_params(run)
    max_failed = params.get("max_failed")
    per_key = params.get("parallel_per_source_host")
    slots = CopySlots(params["parallel"], per_key, max_failed)
    # One login (or one clone of the controller's session, whose ticket is good once) for the whole batch:
    # each migration joins it over connections of its own.
    with VsphereClient.from_params(params) as vsphere:
        inventory = SourceVm.inventory(vsphere)  # one read of the estate for the whole batch
        batch = Batch(slots, inventory=inventory, session=vsphere.shared_session())
        key = source_host_of(inventory)
        turns = [(Turn(i, key(run)), run) for i, run in enumerate(runs)]
        # Twice the limits started: each acting migration has one preparing behind it (CopySlots).
        results = run_limited(turns, lambda item: one_migration(item[1], check_mode, batch, item[0]),
                              AHEAD * params["parallel"], key=lambda item: item[0].key, per_key=per_key and AHEAD * per_key,
                              stop=lambda done: slots.stopped(), started=lambda i, item: slots.join(item[0].order, item[0].key))
    final_states(params["uri"], results)
    failures = sum(1 for r in results if r is not None and r.get("failed"))
    results = [r if r is not None else {"changed": False, "not_started": True, "msg": "not started: %d migrations failed, "
                                        "more than max_failed %d" % (failures, max_failed)} for r in results]
    failed = [(chosen_vm(run), r) for run, r in zip(runs, results) if r.get("failed")]
    changed = any(r.get("changed") for r in results)
    if failed:
        raise OperationFailure("%d of %d migrations failed: %s" % (len(failed), len(runs), "; ".join(
            "%s: %s" % (name, r["msg"]) for name, r in failed)), results=results, changed=changed)
    return {"changed": changed, "results": results, "msg": "%d migrations: %d changed" % (
        len(results), sum(1 for r in results if r.get("changed")))}
