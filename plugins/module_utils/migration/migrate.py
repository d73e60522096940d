# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One vSphere VM onto a libvirt/KVM host, step by step, each step recorded so a rerun knows where it stands,
and everything this migration made rolled back when a step fails.

Steps: preflight (read-only, preflight.py: every blocker) -> claim the source (guard.py: one run per VM) -> in a
batch, wait for a slot to act (shared.CopySlots) -> record the source power state -> power the source off ->
record each disk's change markers (a resumed copy whose source changed starts over: record.py) -> copy and
verify every disk -> pin NIC names and convert the guest (when needed) -> define the domain -> start it and
wait -> mark it done (domain metadata and the note on the source). The source is never deleted or
reconfigured; the domain is defined and powered through the libvirt target layer (libvirt/target.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
from contextlib import contextmanager

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import Conflict, OperationFailure, VmshiftError, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.waiter import Waiter
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient, libvirt_error
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import render_domain
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import (
    RUNNING_STATES, converge_definition, mark_migration, migration_mark, pool_dir, serial_offset, start, state_name, undefine,
    wait_for_guest)
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import MIB, Journal, transfer
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_image import run_tool
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import HostLock, SourceClaim, new_owner
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest import pins_text, write_pins
from ansible_collections.vmshift.virt.plugins.module_utils.migration.preflight import check_params, check_target, inspect_guest, plan_disks
from ansible_collections.vmshift.virt.plugins.module_utils.migration.record import Record, restart_changed_copies
from ansible_collections.vmshift.virt.plugins.module_utils.migration.shared import Batch, NotStarted, Turn
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import disk_reader
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.source_vm import SourceVm, chosen_vm


def target_spec(source_spec, name, overrides, disks, network_map, power_state):
    """The neutral spec the target domain is defined from: the source's, with its disks as the copied
    volumes, its NICs mapped (MACs kept), the BIOS UUID kept, and the user's overrides."""
    spec = dict(source_spec, name=name, power_state=power_state, cloud_init=None)
    for key in ("cpu", "memory_mib", "firmware", "machine"):
        if overrides.get(key) is not None:
            spec[key] = overrides[key]
    spec["disks"] = [{"name": d["name"], "bus": "virtio", "boot_order": d.get("boot_order"), "source": {"volume": d["volume"]}}
                     for d in disks]
    spec["nics"] = [dict({"name": n["name"], "mac": n["mac"], "model": "virtio"}, **network_map[n["network"]])
                    for n in source_spec.get("nics") or []]
    return spec


def rendered_disks(disks, fmt):
    """The copied disks as the domain renderer takes them; the first boots when the source named none."""
    default_boot = not any(d.get("boot_order") for d in disks)
    return [{"path": d["path"], "format": fmt, "bus": "virtio", "boot_order": d.get("boot_order") or (1 if default_boot and i == 0 else None)}
            for i, d in enumerate(disks)]


class Steps(list):
    """A migration's steps as its result shows them: [{step, started (epoch seconds), seconds, failed (when it
    raised)}]."""

    @contextmanager
    def step(self, name):
        """Time the step and record it; mark it failed when it raises."""
        began = time.time()
        entry = {"step": name, "started": round(began, 2), "seconds": None}
        self.append(entry)
        try:
            yield
        except Exception:
            entry["failed"] = True
            raise
        finally:
            entry["seconds"] = round(time.time() - began, 2)


def status_of(steps, acted, disks):
    """How far a migration is, as its claim's renewals carry it: its step ("waiting for a slot" once the
    preflight passed), and during the copy the bytes copied of all its disks, their rate and the seconds left."""
    step = steps[-1]["step"] if steps else "preflight"
    if steps and step == "preflight" and steps[-1]["seconds"] is not None and not acted:
        step = "waiting for a slot"
    out = {"step": step}
    if step == "copy":
        done, total, rate = 0, 0, 0
        for disk in disks:
            total += disk["size"]
            try:
                with open(disk["progress"], encoding="utf-8") as f:
                    copied = json.load(f)
            except (OSError, ValueError):  # not begun, or being replaced this instant
                copied = {"bytes_done": disk["size"] if disk["present"] else 0}
            done += copied.get("bytes_done") or 0
            if (copied.get("bytes_done") or 0) < disk["size"]:
                rate += copied.get("bytes_per_second") or 0
        out.update(done=done, total=total, rate=rate, eta=int((total - done) / rate) if rate else None)
    return out


def run_migration(params, check_mode, batch=None, turn=None):
    """Migrate the VM ``params`` names (vm_migrate's options), as one of ``batch`` (shared.Batch) in its ``turn``
    (shared.Turn), or alone: connect, find the source, hold this host's lock on it, and run the Migration."""
    batch = batch or Batch()
    check_params(params)
    try:
        with VsphereClient.from_params(params, batch.session) as vsphere:
            source = SourceVm.find(vsphere, params, batch.inventory)
            name = params["overrides"].get("name") or source.facts["name"]
            key = source.facts["instance_uuid"] or source.facts["moref"]
            with LibvirtClient(params["uri"]) as target:
                owner = new_owner(params["uri"], name)
                lock = HostLock(params["work_dir"], key)
                lock.acquire(owner, check_mode, params.get("lock_timeout") or 0)
                try:
                    claim = SourceClaim(source, params["source_note_attribute"], owner, renew_every=params.get("progress_interval"))
                    migration = Migration(params, check_mode, vsphere, source, target, name,
                                          Record(os.path.join(params["work_dir"], key)), claim, batch, turn or Turn())
                    if params.get("progress_interval"):
                        claim.status = lambda: status_of(migration.steps, migration.turn.acted, migration.planned_disks)
                    return migration.run(lock.previous)
                finally:
                    lock.release()
    except OSError as exc:
        # A file of the host's before anything changed (the record, the pool directory): the changing steps
        # turn theirs into a rolled-back failure in Migration.act.
        raise OperationFailure(failed_to("migrate", "VM", chosen_vm(params), str(exc)))


class Migration:
    """One source VM (``source``: SourceVm) onto ``target`` (LibvirtClient) as ``name``, once this host's lock on
    the source is held; ``record`` is its record on disk, ``claim`` its claim on the source in vCenter."""

    def __init__(self, params, check_mode, vsphere, source, target, name, record, claim, batch, turn):
        self.params = params
        self.check_mode = check_mode
        self.vsphere = vsphere
        self.source = source
        self.target = target
        self.name = name
        self.record = record
        self.claim = claim
        self.batch = batch
        self.turn = turn
        self.guest = None  # what inspection read of the guest (guest.inspect_source), when it ran
        self.actions = []
        self.steps = Steps()
        self.disks = []
        self.planned_disks = []  # what the preflight planned, for status()

    def run(self, previous_owner):
        facts = self.source.facts
        self.record.load()
        dom = self.target.domain(self.name)
        mark = migration_mark(dom) if dom is not None else None
        ours = mark is not None and mark["source"] == facts["instance_uuid"]
        if ours and mark["completed"]:
            if self.record.data.get("completed") == mark["completed"] and self.record.data.get("steps"):
                # the run that migrated it, from its record: a run whose controller died never reported it
                self.steps.extend(self.record.data["steps"])
                self.disks = list((self.record.data.get("disks") or {}).values())
            return self.result(dom, changed=False, msg="already migrated (%s)" % mark["completed"])
        dom = dom if ours else None
        blocker = self.claim.blocker(previous_owner)
        if blocker:
            raise Conflict(failed_to("migrate", "VM", facts["name"], blocker))
        if self.claim.taken_over:
            self.actions.append(self.claim.taken_over)
        pool = self.target.pool(self.params["pool"])
        files = {}

        def files_for(datastore):
            if datastore not in files:
                files[datastore] = self.vsphere.datastore_files(facts["datacenter"], datastore)
            return files[datastore]
        try:
            with self.steps.step("preflight"):
                disks = self.planned_disks = plan_disks(facts["spec"]["disks"], self.name, self.params["disk_format"], files_for,
                                                        pool_dir(pool)[1], self.record.directory)
                # on a resume too: the source may have changed, and its disks read as well off as on
                self.guest = inspect_guest(self.params["guest_inspection"], self.vsphere, disks, facts)
                convert = check_target(self.params, facts, self.name, self.guest, self.target, self.batch.host,
                                       self.record.data.get("created", {}).get("files", []), dom, pool, disks)
            if self.check_mode:
                self.actions.extend(self.planned(disks, convert))
                return self.result(None, changed=True, msg="would migrate")
            return self.migrate(dom, pool, disks, convert)
        finally:
            for reader in files.values():
                reader.close()

    def migrate(self, dom, pool, disks, convert):
        self.claim.take()
        self.claim.confirm()  # before anything changes: a rival's claim written at the same moment shows by now
        try:
            with self.batch.slots.slot(self.turn.key, self.turn.order):
                self.turn.acted = True
                return self.act(dom, pool, disks, convert)
        except NotStarted as stopped:
            self.claim.release(self.claim.previous)  # nothing was done: the note as it was
            return dict(self.result(dom, changed=False, msg=str(stopped)), not_started=True)

    def act(self, dom, pool, disks, convert):
        """Everything that acts on the source and the target, once this migration has its slot."""
        state = self.source.power_state()
        if "source_power_state" not in self.record.data:
            self.record.data.update(source_power_state=state, source=self.source.facts["moref"], started=_now())
            self.record.save()
        try:
            with self.steps.step("power_off"):
                if state != "poweredOff":
                    self.actions.append("power off source VM (%s)" % self.source.shut_down(self.params["shutdown_timeout"]))
            with self.steps.step("copy"):
                self.actions.extend(restart_changed_copies(self.record, self.source, disks, state != "poweredOff"))
                for disk in disks:
                    self.claim.confirm()
                    self.copy(pool, disk)
            pins = (self.guest or {}).get("pins")
            if pins:
                with self.steps.step("pin_names"):
                    self.actions.append(pins_text(pins))
                    write_pins([(d["path"], self.params["disk_format"]) for d in disks], pins, self.guest.get("layout"))
            if convert:
                with self.steps.step("convert"):
                    self.convert_guest(disks)
            with self.steps.step("define"):
                self.claim.confirm()
                dom = self.define(dom, disks)
            with self.steps.step("start"):
                wait = self.start(dom)
            with self.steps.step("mark_done"):
                completed = _now()
                mark_migration(dom, self.name, self.source.facts, completed)
                self.claim.release("migrated to %s as %s at %s" % (self.params["uri"], self.name, completed))
            self.record.data.update(completed=completed, steps=list(self.steps))
            self.record.save()
        except (VmshiftError, OSError) as error:
            raise self.failed(error)
        return self.result(dom, changed=True, msg="migrated", wait=wait)

    def failed(self, error):
        """The failure to raise for ``error`` in a step, once what this migration made is rolled back (when
        rollback is on) and the source's note says so. An OSError is the target host's (its disk full, an I/O
        error): this VM fails and is rolled back like any other failure, and the rest of a batch goes on."""
        exc = error if isinstance(error, VmshiftError) else OperationFailure(
            failed_to("migrate", "VM", self.source.facts["name"], str(error)))
        failed = self.steps[-1]["step"]
        rollback = self.rollback() if self.params["rollback"] else None
        left = rollback["left"] if rollback else self.record.made(self.target)
        self.claim.release(self.claim.previous, left=left)
        exc.details.update(failed_step=failed, rollback=rollback, steps=list(self.steps), disks=self.disks, left=left,
                           changed=bool(self.actions or (rollback and rollback["actions"])), actions=self.actions)
        exc.message = "%s (step %s; %s)" % (exc.message, failed, _rollback_text(rollback))
        return exc

    # ---- the changing steps ----
    def copy(self, pool, disk):
        if disk["present"]:
            # Only a verified copy is renamed to the volume's name, and preflight refused a volume this
            # migration did not make: it is done (its statistics are there unless a kill came between).
            self.disks.append(dict(self.record.data.get("disks", {}).get(disk["name"], {"name": disk["name"]}), skipped=True))
            return
        self.record.created("files", disk["part"])
        self.record.created("files", disk["path"])
        self.actions.append("copy %s to %s" % (disk["source"], disk["volume"]))
        params = self.params
        chunk = params["chunk_size_mib"] * MIB
        journal = Journal(disk["journal"], {"source": disk["source"], "size": disk["size"], "chunk": chunk,
                                            "format": params["disk_format"]})
        limit = params["bandwidth_limit_mib"]
        stats = transfer(disk_reader(disk["files"], disk["extents"]), disk["size"], disk["part"], disk["path"],
                         params["disk_format"], journal, workers=params["copy_workers"], chunk=chunk,
                         rate_limit=limit * MIB if limit else None, progress_path=disk["progress"])
        result = {"name": disk["name"], "source": disk["source"], "volume": disk["volume"], "path": disk["path"],
                  "format": params["disk_format"], "skipped": False, "restarted": disk.get("restarted")}
        result.update(stats)
        self.record.data.setdefault("disks", {})[disk["name"]] = result
        self.record.save()
        self.disks.append(result)
        pool.refresh(0)

    def convert_guest(self, disks):
        """virt-v2v-in-place on the copied disks (virtio drivers in, VMware tools out)."""
        self.actions.append("convert guest with virt-v2v-in-place")
        # The domain renderer libvirt_vm uses, with the copied disks and no NICs: all virt-v2v reads.
        spec = dict(self.source.facts["spec"], name=self.name, nics=[], memory_mib=self.source.facts["memory_mib"] or 1024)
        path = os.path.join(self.record.directory, "v2v-input.xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(render_domain(spec, "kvm", rendered_disks(disks, self.params["disk_format"])))
        run_tool(["virt-v2v-in-place", "-i", "libvirtxml", path], "convert the guest of %s" % self.name)

    def define(self, dom, disks):
        """Define the domain (or redefine the one an earlier run made) from the source's spec and the copies."""
        params = self.params
        spec = target_spec(self.source.facts["spec"], self.name, params["overrides"], disks, params["network_map"],
                           params["target_power_state"])
        xml = render_domain(spec, params["domain_type"], rendered_disks(disks, self.params["disk_format"]), params["serial_log"],
                            uuid=dom.UUIDString() if dom is not None else None)
        if dom is None:
            self.record.created("domain", self.name)
        dom, dummy, dummy, action = converge_definition(self.target, self.name, xml, dom)
        if action:
            self.actions.append("%s %s" % (action, self.name))
        mark_migration(dom, self.name, self.source.facts)
        return dom

    def start(self, dom):
        """Start the domain when the target power state is running, and wait for its guest (wait_for)."""
        if self.params["target_power_state"] != "running":
            return None
        offset = 0
        if state_name(dom) not in RUNNING_STATES:
            offset = serial_offset(self.params["serial_log"])
            self.actions.append("start domain %s" % self.name)
            start(dom, self.name)
        return wait_for_guest(Waiter(), dom, self.name, self.params, offset)

    # ---- rollback ----
    def rollback(self):
        """Remove what this migration made on the target and put the source's power back."""
        done = []
        left = []
        created = self.record.data.get("created", {})
        for name in created.get("domain", []):
            dom = self.target.domain(name)
            if dom is None:
                continue
            mark = migration_mark(dom)
            if mark is None or mark["source"] != self.source.facts["instance_uuid"]:
                left.append("domain '%s' (not marked as this migration's; left alone)" % name)
                continue
            try:
                undefine(dom, name)
                done.append("undefine domain %s" % name)
            except VmshiftError as exc:
                left.append("domain '%s': %s" % (name, exc.message))
        deleted, kept = self.record.delete_files()
        done.extend(deleted)
        left.extend(kept)
        try:
            self.target.pool(self.params["pool"]).refresh(0)
        except (VmshiftError, libvirt_error()):
            pass  # the files are gone; libvirt's listing catches up at its next refresh
        before = self.record.data.get("source_power_state")
        try:
            if before == "poweredOn" and not self.claim.ours():
                left.append("source power: left off, another run holds the source VM (%s)" % self.claim.lost)
            elif before == "poweredOn" and self.source.power_state() != "poweredOn":
                self.source.power_on()
                done.append("power on source VM (it was on before)")
        except VmshiftError as exc:
            left.append("source power: %s" % exc.message)
        if not left:
            self.record.remove()
        return {"actions": done, "left": left}

    # ---- what it says ----
    def planned(self, disks, convert):
        actions = []
        if self.source.facts["power_state"] != "poweredOff":
            actions.append("power off source VM")
        actions.extend("copy %s to %s (%d bytes)" % (d["source"], d["volume"], d["size"]) for d in disks if not d["present"])
        if (self.guest or {}).get("pins"):
            actions.append(pins_text(self.guest["pins"]))
        if convert:
            actions.append("convert guest with virt-v2v-in-place")
        actions.append("define domain %s" % self.name)
        if self.params["target_power_state"] == "running":
            actions.append("start domain %s" % self.name)
        return actions

    def result(self, dom, changed, msg, wait=None):
        facts = self.source.facts
        domain = {"name": self.name, "uuid": dom.UUIDString() if dom is not None else None, "state": state_name(dom)}
        return {"changed": changed, "msg": msg, "actions": self.actions, "steps": list(self.steps), "disks": self.disks,
                "domain": domain, "wait": wait, "guest": self.guest,
                "source": {"name": facts["name"], "moref": facts["moref"], "instance_uuid": facts["instance_uuid"],
                           "power_state_before": self.record.data.get("source_power_state", facts["power_state"])},
                "diff": {"before": {}, "after": {"domain": self.name, "actions": self.actions}} if changed else {}}


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _rollback_text(rollback):
    if rollback is None:
        return "rollback off: what was made is left for inspection"
    if rollback["left"]:
        return "rolled back, but left: %s" % "; ".join(rollback["left"])
    return "rolled back: %s" % (", ".join(rollback["actions"]) or "nothing was made")
