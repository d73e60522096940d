# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_migrate's service: one vSphere VM onto a libvirt/KVM host, step by step, each step recorded so a
rerun knows where it stands, and everything this migration made rolled back when a step fails.

Steps: preflight (read-only: every blocker) -> claim the source (guard.py: one run per VM) -> in a batch,
wait for a slot to act (CopySlots) -> record the source power state -> power the source off -> record each
disk's change markers (a resumed copy whose source changed starts over) -> copy and verify every disk ->
guest conversion (optional) -> define the domain -> start and wait -> mark done (domain metadata and the
note on the source).

The record lives in ``work_dir/<source instance UUID>/`` on the host that runs the module: the
source's power state before the migration (written before the first change, so a crash cannot lose
it), what was created, the copy journals and progress. The source is never deleted or reconfigured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import Conflict, InvalidInput, OperationFailure, VmshiftError, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient, libvirt, libvirt_error, macs_of, translate
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import render_domain, validate_spec
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.service import (
    LibvirtVmService,
    RUNNING_STATES,
    state_name,
    volume_name,
)
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess import CRITICAL, assess, virtio_lack
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import MIB, Journal, run_tool, transfer
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import HostLock, SourceClaim, new_owner
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest import (
    inspect_source, not_inspected, pins_text, tools_present, write_pins)
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import descriptor_cid, disk_reader, parse_descriptor
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.source_vm import SourceVm, chosen_vm

MIGRATION_NS = "https://vmshift.io/xmlns/libvirt/migration/1"
LOCAL_POOL_TYPES = ("dir", "fs", "netfs")


def mapped_nic(nic, network_map):
    """A NIC of the target spec from a source NIC and the network map (port group -> bridge or network)."""
    target = network_map[nic["network"]]
    out = {"name": nic["name"], "mac": nic["mac"], "model": "virtio"}
    out.update(target)
    return out


OVERRIDE_KEYS = ("name", "cpu", "memory_mib", "firmware", "machine")


def check_params(params):
    """What the argument spec cannot say, checked before any connection."""
    for field in ("copy_workers", "chunk_size_mib", "wait_timeout", "shutdown_timeout"):
        if params[field] is None or params[field] < (1 if field in ("copy_workers", "chunk_size_mib") else 0):
            raise InvalidInput("%s must be a positive number, not %s" % (field, params[field]))
    if params["bandwidth_limit_mib"] is not None and params["bandwidth_limit_mib"] < 1:
        raise InvalidInput("bandwidth_limit_mib must be 1 or more (MiB/s), or unset for no limit")
    if params["wait_for"] == "serial" and not (params["serial_log"] and params["serial_pattern"]):
        raise InvalidInput("wait_for is serial: set serial_log (the console log file) and serial_pattern")
    overrides = params["overrides"]
    unknown = set(overrides) - set(OVERRIDE_KEYS)
    if unknown:
        raise InvalidInput("overrides has unknown keys %s; known: %s" % (sorted(unknown), ", ".join(OVERRIDE_KEYS)))
    # The overrides as the target spec will hold them, checked as libvirt_vm checks a spec.
    given = dict((key, value) for key, value in overrides.items() if value is not None)
    validate_spec(dict({"name": "overrides-check", "memory_mib": 1}, **given), "overrides")
    if not isinstance(given.get("machine", ""), str):
        raise InvalidInput("overrides.machine must be a machine type such as q35, not %r" % (given["machine"],))
    for port_group, target in (params["network_map"] or {}).items():
        if not isinstance(target, dict) or len(set(target) & {"bridge", "network"}) != 1 or set(target) - {"bridge", "network"}:
            raise InvalidInput("network_map['%s'] must be {bridge: <Linux bridge>} or {network: <libvirt network>}, "
                               "not %r" % (port_group, target))


def target_spec(source_spec, name, overrides, disks, network_map, power_state):
    """The neutral spec the target domain is defined from: the source's, with its disks as the copied
    volumes, its NICs mapped (MACs kept), the BIOS UUID kept, and the user's overrides."""
    spec = dict(source_spec, name=name, power_state=power_state, cloud_init=None)
    for key in ("cpu", "memory_mib", "firmware", "machine"):
        if overrides.get(key) is not None:
            spec[key] = overrides[key]
    spec["disks"] = [{"name": d["name"], "bus": "virtio", "boot_order": d.get("boot_order"), "source": {"volume": d["volume"]}}
                     for d in disks]
    spec["nics"] = [mapped_nic(n, network_map) for n in source_spec.get("nics") or []]
    return spec


class Record:
    """The migration's record on disk: JSON, written atomically."""

    def __init__(self, directory):
        self.directory = directory
        self.path = os.path.join(directory, "state.json")
        self.data = {}

    def load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {}
        return self.data

    def save(self):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def created(self, kind, value):
        """Note something this migration made on the target, before making it."""
        items = self.data.setdefault("created", {}).setdefault(kind, [])
        if value not in items:
            items.append(value)
            self.save()

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


class TargetHost:
    """The target host as the migrations of one batch share it.

    ``view``: the names and MACs of the domains on the host, read fresh for each migration's preflight, each
    domain's XML parsed once per batch (its MACs kept by UUID), not once per migration.

    ``claim``: a migration whose preflight found nothing else wrong takes its source VM, its target name (and
    with it its volume files) and its MACs before it changes anything. What another migration of the batch
    took already is refused, naming that migration: two VMs of one batch bound for one name would otherwise
    write the same volume files, and two NICs with one MAC would break the network. The first migration to
    claim keeps it."""

    def __init__(self):
        self.macs_of = {}
        self.lock = threading.Lock()
        self.owners = {}

    def view(self, conn, own_uuid):
        """(names, MACs) of the host's domains, leaving out ``own_uuid`` (the domain a migration made in an earlier run)."""
        names, macs = [], []
        for dom in conn.listAllDomains(0):
            uuid = dom.UUIDString()
            if uuid == own_uuid:
                continue
            names.append(dom.name())
            if uuid not in self.macs_of:
                self.macs_of[uuid] = macs_of(dom)
            macs.extend(self.macs_of[uuid])
        return names, macs

    def claim(self, who, source, name, macs):
        """Take ``source`` (the source VM's UUID), ``name`` and ``macs`` for ``who``; [problem] for each another
        migration of the batch took already, and then nothing is taken."""
        wanted = [("source", source), ("name", name)] + [("mac", mac.lower()) for mac in macs]
        with self.lock:
            taken = [(kind, value, self.owners[(kind, value)]) for kind, value in wanted
                     if self.owners.get((kind, value), who) != who]
            if not taken:
                self.owners.update(((kind, value), who) for kind, value in wanted)
        fixes = {"source": "the batch migrates source VM %s also as %s; list each VM once",
                 "name": "the target name '%s' is also that of %s in this batch; give one of them overrides.name",
                 "mac": "MAC %s is also on %s in this batch; migrate one of them to another host or change the MAC in vSphere"}
        return [fixes[kind] % (value, owner) for kind, value, owner in taken]


class Migration:
    def __init__(self, params, check_mode, inventory=None, host=None, session=None, slots=None, turn=(0, None)):
        self.params = params
        self.slots = slots or CopySlots()  # a batch's: how many migrations act at once (see CopySlots)
        self.turn = turn  # (its place in the batch, its source host): where it stands for a slot
        self.acted = False  # whether it got its slot
        self.inventory = inventory  # the estate as SourceVm.inventory reads it, when a batch read it once
        self.host = host or TargetHost()  # shared by the migrations of a batch
        self.session = session  # the batch's vSphere session, joined (VsphereClient.shared_session)
        self.check_mode = check_mode
        self.guest = None  # what inspection read of the guest (guest.read_guest), when it ran
        self.pins = []
        self.actions = []
        self.steps = []
        self.disks = []
        self.step = None
        self.record = None
        self.source = None
        self.target = None
        self.name = None

    # ---- steps ----
    def begin(self, step):
        self.step = step
        self.steps.append({"step": step, "started": time.time(), "seconds": None})

    def end(self):
        self.steps[-1]["seconds"] = round(time.time() - self.steps[-1]["started"], 2)
        del self.steps[-1]["started"]

    # ---- the target's view ----
    def marker(self, dom):
        """The migration metadata on a domain: {source, completed} or None."""
        try:
            text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, MIGRATION_NS, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        except libvirt_error():
            return None
        el = ET.fromstring(text)
        return {"source": el.get("source-uuid"), "completed": el.get("completed") or None}

    def set_marker(self, dom, completed=""):
        facts = self.source.facts
        xml = ET.tostring(ET.Element("migration", {"source-uuid": facts["instance_uuid"] or "", "source-moref": facts["moref"],
                                                   "source-name": facts["name"] or "", "completed": completed}), encoding="unicode")
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0)
        try:
            dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, xml, "vmshift", MIGRATION_NS, flags)
        except libvirt_error() as exc:
            raise translate(exc, "mark", "domain", self.name)

    def pool_dir(self, pool):
        root = ET.fromstring(pool.XMLDesc())
        return root.get("type"), root.findtext("target/path")

    def inspect_guest(self, vsphere, disks):
        """Read the guest on the source disks (OS, virtio drivers, network configuration) over HTTPS while the
        source may still run, before anything changes. A guest that cannot be read is migrated as before,
        with the reason in the result (unless guest_inspection is always)."""
        mode = self.params["guest_inspection"]
        if mode == "never":
            return
        if not tools_present():
            if mode == "always":
                raise InvalidInput(failed_to("migrate", "VM", self.source.facts["name"], "guest_inspection is always, "
                                             "but guestfish or nbdkit is not installed on this host (install "
                                             "libguestfs-tools and nbdkit, or set guest_inspection: auto)"))
            self.guest = not_inspected("guestfish or nbdkit is not installed on this host")
            return
        self.guest = inspect_source(vsphere, disks, self.source.facts.get("nics") or [])  # part of the preflight step
        if mode == "always" and not self.guest["inspected"]:
            raise OperationFailure(failed_to("inspect", "VM", self.source.facts["name"], self.guest["reason"]))
        self.pins = self.guest.get("pins") or []

    # ---- preflight: read-only, every blocker in one message ----
    def preflight(self, dom, pool, disks):
        problems = []
        params = self.params
        facts = self.source.facts
        if facts["power_state"] == "suspended":
            problems.append("the source VM is suspended; resume it or power it off in vCenter first")
        pool_type, pool_path = self.pool_dir(pool)
        if pool_type not in LOCAL_POOL_TYPES or not pool_path or not os.path.isdir(pool_path):
            problems.append("pool '%s' (type %s, path %s) is not a directory on the host running the module; run "
                            "vm_migrate on the KVM host (delegate_to) with a dir, fs or netfs pool"
                            % (params["pool"], pool_type, pool_path))
        names, macs = self.host.view(self.target.conn, dom.UUIDString() if dom is not None else None)
        memory_needed = params["target_power_state"] == "running"
        has_v2v = shutil.which("virt-v2v-in-place") is not None
        target = {"type": "libvirt", "network_map": params["network_map"] or {}, "existing_names": names,
                  "existing_macs": macs, "efi_available": self.efi_available(),
                  "free_memory_mib": self.target.conn.getFreeMemory() // MIB if memory_needed else None,
                  "guest_conversion": params["guest_conversion"], "conversion_available": has_v2v}
        vm = dict(facts, name=self.name, guest=self.guest)
        if self.params["overrides"].get("memory_mib"):
            vm["memory_mib"] = self.params["overrides"]["memory_mib"]
        used = [(params["network_map"] or {}).get(n.get("network")) for n in facts.get("nics") or []]
        bridges = set(t["bridge"] for t in used if t and t.get("bridge"))
        networks = set(t["network"] for t in used if t and t.get("network"))
        missing = sorted(bridges - self.target.host_interfaces()) if bridges else []
        missing += sorted(networks - self.target.networks()) if networks else []
        if missing:
            problems.append("the network map names %s, which %s not exist on %s; create it (host_network) or fix the map"
                            % (", ".join(missing), "does" if len(missing) == 1 else "do", params["uri"]))
        results, _summary = assess([vm], target, "cold")
        problems.extend("%s (%s): fix: %s" % (c["message"], c["code"], c["fix"])
                        for c in results[0]["concerns"] if c["severity"] == CRITICAL)
        made = self.record.data.get("created", {}).get("files", [])
        for disk in disks:
            if disk["present"] and disk["path"] not in made:
                problems.append("volume '%s' already exists in pool '%s' and is not from this migration; remove it or "
                                "set overrides.name" % (disk["volume"], params["pool"]))
        need = sum(d["size"] for d in disks if not d["present"])  # the most a copy can take (no zero block)
        already = sum(_allocated(d["part"]) for d in disks)
        available = pool.info()[3] + already
        if need > available:
            problems.append("pool '%s' has %.1f GiB available; the disks need up to %.1f GiB; free space or choose "
                            "another pool" % (params["pool"], available / 1024.0 ** 3, need / 1024.0 ** 3))
        if not problems:
            problems = self.host.claim("'%s' (%s)" % (facts["name"], facts["moref"]), facts["instance_uuid"] or facts["moref"],
                                       self.name, [n["mac"] for n in facts.get("nics") or [] if n.get("mac")])
        if problems:
            raise InvalidInput(failed_to("migrate", "VM", facts["name"], "; ".join(problems)), problems=problems, guest=self.guest)
        conversion = params["guest_conversion"]
        return has_v2v and (conversion == "always" or (conversion == "auto" and bool(virtio_lack(vm)[0])))

    def efi_available(self):
        try:
            caps = ET.fromstring(self.target.conn.getDomainCapabilities(None, "x86_64", None, self.params["domain_type"], 0))
        except libvirt_error():
            return None
        return bool(caps.findall("os/loader/value"))

    def plan_disks(self, files_for, pool_path):
        """Each source disk with its descriptor's extents, size and the target volume."""
        fmt = self.params["disk_format"]
        planned = []
        for disk in self.source.facts["spec"]["disks"]:
            source = disk["source"]["vsphere"]
            files = files_for(source["datastore"])
            extents = parse_descriptor(files.read_text(source["path"]), source["path"])
            volume = volume_name(self.name, disk["name"], fmt)
            final = os.path.join(pool_path or "", volume)
            planned.append({"name": disk["name"], "boot_order": disk.get("boot_order"), "files": files,
                            "extents": extents, "size": sum(e["size"] for e in extents), "volume": volume,
                            "path": final, "part": final + ".vmshift-part", "present": os.path.exists(final),
                            "source": "[%s] %s" % (source["datastore"], source["path"]), "descriptor": source["path"],
                            "journal": os.path.join(self.record.directory, disk["name"] + ".journal"),
                            "progress": os.path.join(self.record.directory, disk["name"] + ".progress.json")})
        return planned

    # ---- the changing steps ----
    def power_off_source(self):
        state = self.source.power_state()
        if state == "poweredOff":
            return
        self.actions.append("power off source VM")
        how = self.source.shut_down(self.params["shutdown_timeout"])
        self.actions[-1] = "power off source VM (%s)" % how

    def copy(self, pool, disk):
        if disk["present"]:
            # Only a verified copy is renamed to the volume's name, and preflight refused a volume this
            # migration did not make: it is done (its statistics are there unless a kill came between).
            self.disks.append(dict(self.record.data.get("disks", {}).get(disk["name"], {"name": disk["name"]}), skipped=True))
            return
        self.record.created("files", disk["part"])
        self.record.created("files", disk["path"])
        self.actions.append("copy %s to %s" % (disk["source"], disk["volume"]))
        journal = Journal(disk["journal"],
                          {"source": disk["source"], "size": disk["size"], "chunk": self.params["chunk_size_mib"] * MIB,
                           "format": self.params["disk_format"]})
        limit = self.params["bandwidth_limit_mib"]
        stats = transfer(disk_reader(disk["files"], disk["extents"]), disk["size"], disk["part"], disk["path"],
                         self.params["disk_format"], journal, workers=self.params["copy_workers"],
                         chunk=self.params["chunk_size_mib"] * MIB, rate_limit=limit * MIB if limit else None,
                         progress_path=disk["progress"])
        result = {"name": disk["name"], "source": disk["source"], "volume": disk["volume"], "path": disk["path"],
                  "format": self.params["disk_format"], "skipped": False, "restarted": disk.get("restarted")}
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
        rendered = [{"path": d["path"], "format": self.params["disk_format"], "bus": "virtio", "boot_order": d.get("boot_order")}
                    for d in disks]
        xml = render_domain(spec, "kvm", rendered)
        path = os.path.join(self.record.directory, "v2v-input.xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(xml)
        run_tool(["virt-v2v-in-place", "-i", "libvirtxml", path], "convert the guest of %s" % self.name)

    def define_and_start(self, dom, disks):
        params = self.params
        spec = target_spec(self.source.facts["spec"], self.name, params["overrides"], disks, params["network_map"],
                           params["target_power_state"])
        service = LibvirtVmService(self.target, dict(
            spec=spec, state="present", pool=params["pool"], domain_type=params["domain_type"],
            serial_log=params["serial_log"], serial_pattern=params["serial_pattern"], wait_for=params["wait_for"],
            wait_timeout=params["wait_timeout"], shutdown_timeout=params["shutdown_timeout"], autostart=None,
            uri=params["uri"]), False)
        self.begin("define")
        pool, resolved = service.preflight(dom)
        if dom is None:
            self.record.created("domain", self.name)
        dom, _before, _after = service.ensure_defined(dom, service.ensure_volumes(pool, resolved), None)
        self.set_marker(dom)
        self.end()
        self.begin("start")
        result = service.converge_power(dom, "present", {}, {})
        self.actions.extend(service.actions)
        self.end()
        return dom, result

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
            marker = self.marker(dom)
            if marker is None or marker["source"] != self.source.facts["instance_uuid"]:
                left.append("domain '%s' (not marked as this migration's; left alone)" % name)
                continue
            try:
                if state_name(dom) in RUNNING_STATES:
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                done.append("undefine domain %s" % name)
            except libvirt_error() as exc:
                left.append("domain '%s': %s" % (name, exc))
        for path in created.get("files", []):
            if os.path.exists(path):
                try:
                    os.unlink(path)
                    done.append("delete %s" % path)
                except OSError as exc:
                    left.append("%s: %s" % (path, exc))
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

    # ---- the whole run ----
    def run(self):
        try:
            return self._run()
        except OSError as exc:
            # A file of the host's before anything changed (the record, the pool directory): the changing steps
            # turn theirs into a rolled-back failure in migrate().
            raise OperationFailure(failed_to("migrate", "VM", chosen_vm(self.params), str(exc)))

    def _run(self):
        params = self.params
        check_params(params)
        with VsphereClient.from_params(params, self.session) as vsphere:
            self.source = SourceVm.find(vsphere, params, self.inventory)
            facts = self.source.facts
            self.name = params["overrides"].get("name") or facts["name"]
            with LibvirtClient(params["uri"]) as target:
                self.target = target
                key = facts["instance_uuid"] or facts["moref"]
                owner = new_owner(params["uri"], self.name)
                lock = HostLock(params["work_dir"], key)
                lock.acquire(owner, self.check_mode)
                try:
                    self.record = Record(os.path.join(params["work_dir"], key))
                    self.claim = SourceClaim(self.source, params["source_note_attribute"], owner)
                    return self._locked(vsphere, lock.previous)
                finally:
                    lock.release()

    def _locked(self, vsphere, previous_owner):
        """The migration, once this host's lock on the source VM is held."""
        params = self.params
        facts = self.source.facts
        target = self.target
        self.record.load()
        dom = target.domain(self.name)
        marker = self.marker(dom) if dom is not None else None
        if marker and marker["source"] == facts["instance_uuid"] and marker["completed"]:
            return self.result(dom, changed=False, msg="already migrated (%s)" % marker["completed"])
        ours = dom if marker and marker["source"] == facts["instance_uuid"] else None
        blocker = self.claim.blocker(previous_owner)
        if blocker:
            raise Conflict(failed_to("migrate", "VM", facts["name"], blocker))
        if self.claim.taken_over:
            self.actions.append(self.claim.taken_over)
        pool = target.pool(params["pool"])
        self.begin("preflight")
        files = {}

        def files_for(datastore):
            if datastore not in files:
                files[datastore] = vsphere.datastore_files(facts["datacenter"], datastore)
            return files[datastore]
        disks = self.plan_disks(files_for, self.pool_dir(pool)[1])
        self.inspect_guest(vsphere, disks)  # on a resume too: the source may have changed, and its disk reads as well off
        convert = self.preflight(ours, pool, disks)
        self.end()
        if self.check_mode:
            self.actions.extend(self.planned(disks, convert))
            return self.result(None, changed=True, msg="would migrate")
        try:
            return self.migrate(ours, pool, disks, convert)
        finally:
            for reader in files.values():
                reader.close()

    def migrate(self, dom, pool, disks, convert):
        self.claim.take()
        self.claim.confirm()  # before anything changes: a rival's claim written at the same moment shows by now
        try:
            with self.slots.slot(self.turn[1], self.turn[0]):
                return self._act(dom, pool, disks, convert)
        except NotStarted as stopped:
            self.claim.release(self.claim.previous)  # nothing was done: the note as it was
            return dict(self.result(dom, changed=False, msg=str(stopped)), not_started=True)

    def _act(self, dom, pool, disks, convert):
        """Everything that acts on the source and the target, once this migration has its slot."""
        self.acted = True
        state = self.source.power_state()
        was_on = state != "poweredOff"
        if "source_power_state" not in self.record.data:
            self.record.data.update(source_power_state=state, source=self.source.facts["moref"],
                                    started=_now())
            self.record.save()
        try:
            self.begin("power_off")
            self.power_off_source()
            self.end()
            self.begin("copy")
            self.check_resume(disks, was_on)
            for disk in disks:
                self.claim.confirm()
                self.copy(pool, disk)
            self.end()
            if self.pins:
                self.begin("pin_names")
                self.actions.append(pins_text(self.pins))
                write_pins([(d["path"], self.params["disk_format"]) for d in disks], self.pins)
                self.end()
            if convert:
                self.begin("convert")
                self.convert_guest(disks)
                self.end()
            self.claim.confirm()
            dom, started = self.define_and_start(dom, disks)
            self.begin("mark_done")
            completed = _now()
            self.set_marker(dom, completed)
            self.claim.release("migrated to %s as %s at %s" % (self.params["uri"], self.name, completed))
            self.record.data["completed"] = completed
            self.record.save()
            self.end()
        except (VmshiftError, OSError) as error:
            # An OSError is the target host's (its disk full, an I/O error): this VM fails and is rolled back like
            # any other failure, and the rest of a batch goes on.
            exc = error if isinstance(error, VmshiftError) else OperationFailure(
                failed_to("migrate", "VM", self.source.facts["name"], str(error)))
            failed = self.step
            if "started" in self.steps[-1]:
                self.end()
                self.steps[-1]["failed"] = True
            rollback = self.rollback() if self.params["rollback"] else None
            left = rollback["left"] if rollback else self.made()
            self.claim.release(self.claim.previous, left=left)
            exc.details.update(failed_step=failed, rollback=rollback, steps=self.steps, disks=self.disks, left=left,
                               changed=bool(self.actions or (rollback and rollback["actions"])), actions=self.actions)
            exc.message = "%s (step %s; %s)" % (exc.message, failed, _rollback_text(rollback))
            raise exc
        return self.result(dom, changed=True, msg="migrated", wait=started.get("wait"))

    def check_resume(self, disks, was_on):
        """Start over each disk whose copy began in an earlier run when its source may have changed since: the
        source VM ran in between, or its change markers (content ID, CBT changeId, files' size and modification
        time) differ from those recorded when the copy began, or none were recorded. Then record the markers."""
        files_of = dict((d["source"], [d["descriptor"]] + [e["file"] for e in d["extents"] if e["file"]]) for d in disks)
        fresh = self.source.disk_markers(files_of)
        recorded = self.record.data.get("markers") or {}
        for disk in disks:
            fresh[disk["source"]]["cid"] = descriptor_cid(disk["files"].read_text(disk["descriptor"]))
            began = disk["present"] or os.path.exists(disk["part"]) or os.path.exists(disk["journal"])
            old = recorded.get(disk["source"])
            if not began:
                continue
            if was_on and old is not None:
                reason = "the source VM was powered on after this disk's copy began"
            elif old is None:
                reason = "no record of the source disk's state when its copy began"
            else:
                changed = [what for key, what in (("cid", "content ID"), ("change_id", "CBT changeId"),
                                                  ("files", "files' size or modification time"))
                           if old.get(key) != fresh[disk["source"]].get(key)]
                reason = "the source disk changed after its copy began (%s)" % ", ".join(changed) if changed else None
            if reason:
                for path in (disk["part"], disk["path"], disk["journal"], disk["progress"]):
                    if os.path.exists(path):
                        os.unlink(path)
                self.record.data.get("disks", {}).pop(disk["name"], None)
                disk.update(present=False, restarted=reason)
                self.actions.append("restart the copy of %s: %s" % (disk["source"], reason))
        self.record.data["markers"] = fresh
        self.record.save()

    def made(self):
        """What this migration made that is still there, for a failure that was not rolled back."""
        created = self.record.data.get("created", {})
        return (["domain %s" % n for n in created.get("domain", []) if self.target.domain(n) is not None]
                + ["file %s" % p for p in created.get("files", []) if os.path.exists(p)])

    def planned(self, disks, convert):
        actions = []
        if self.source.facts["power_state"] != "poweredOff":
            actions.append("power off source VM")
        actions.extend("copy %s to %s (%d bytes)" % (d["source"], d["volume"], d["size"]) for d in disks if not d["present"])
        if self.pins:
            actions.append(pins_text(self.pins))
        if convert:
            actions.append("convert guest with virt-v2v-in-place")
        actions.extend(["define domain %s" % self.name, "start domain %s" % self.name]
                       if self.params["target_power_state"] == "running" else ["define domain %s" % self.name])
        return actions

    def result(self, dom, changed, msg, wait=None):
        facts = self.source.facts
        domain = {"name": self.name, "uuid": dom.UUIDString() if dom is not None else None, "state": state_name(dom)}
        return {"changed": changed, "msg": msg, "actions": self.actions, "steps": self.steps, "disks": self.disks,
                "domain": domain, "wait": wait, "guest": self.guest,
                "source": {"name": facts["name"], "moref": facts["moref"], "instance_uuid": facts["instance_uuid"],
                           "power_state_before": self.record.data.get("source_power_state", facts["power_state"])},
                "diff": {"before": {}, "after": {"domain": self.name, "actions": self.actions}} if changed else {}}


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _allocated(path):
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


def _rollback_text(rollback):
    if rollback is None:
        return "rollback off: what was made is left for inspection"
    if rollback["left"]:
        return "rolled back, but left: %s" % "; ".join(rollback["left"])
    return "rolled back: %s" % (", ".join(rollback["actions"]) or "nothing was made")


# Ranged reads of one host's copies together when copy_workers is not set: four for a single copy, shared
# by the copies of a batch running at once (at least one each). Several copies already keep the cores busy;
# more streams only add contention: twenty 256 MiB disks copied five at a time by the engine alone took
# 0.88x the time and 0.87x the CPU with one stream each as with four (median of 3 runs, 2 cores).
COPY_STREAMS = 4
AHEAD = 2  # a batch runs this many times its limits of migrations, the extra ones preparing (CopySlots)


class NotStarted(Exception):
    """A batch stopped (more than max_failed failed) while this migration waited for its slot."""


class CopySlots:
    """How many migrations of a batch act (power-off, copy, conversion, define, start) at once: ``parallel``,
    and ``per_key`` with one key (the source's ESXi host). A batch starts migrations ahead of their slot, so
    the part before acting (the lock, the preflight, the claim on the source and the settle second that must
    pass before it is trusted) overlaps the copies before them instead of following them. Once more than
    ``max_failed`` migrations failed, a migration still waiting does not start. A migration that fails before
    its slot (in its preflight, say) is reported in its turn, as if it had waited for its slot first: a
    batch that stopped reports it as not started, as when migrations did not prepare ahead. Unlimited when
    made bare (one migration)."""

    def __init__(self, parallel=None, per_key=None, max_failed=None):
        self.parallel, self.per_key, self.max_failed = parallel, per_key, max_failed
        self.cond = threading.Condition()
        self.acting = 0
        self.by_key = {}
        self.failed = 0
        self.queued = {}  # order -> key: started migrations that have not had their turn yet

    def stopped(self):
        return self.max_failed is not None and self.failed > self.max_failed

    def busy(self, key):
        return ((self.parallel is not None and self.acting >= self.parallel)
                or (self.per_key is not None and self.by_key.get(key, 0) >= self.per_key))

    def join(self, order, key):
        """A migration started (by the batch's scheduler, in the order given): slots go to the earliest first."""
        with self.cond:
            self.queued[order] = key

    def leave(self, order):
        """A migration ended; if it never took its turn, the ones after it no longer wait for it."""
        with self.cond:
            if self.queued.pop(order, None) is not None:
                self.cond.notify_all()

    def waits(self, order, key):
        """Whether the migration ``order`` must wait: no slot for its key, or an earlier one could take it."""
        return self.busy(key) or any(o < order and not self.busy(k) for o, k in self.queued.items())

    @contextmanager
    def slot(self, key, order=0):
        """Wait for a slot (in the order the migrations started, as far as the limits allow); a migration that
        fails in it (an exception out of it) is counted before it frees."""
        with self.cond:
            while self.waits(order, key) and not self.stopped():
                self.cond.wait()
            self.queued.pop(order, None)
            self.cond.notify_all()
            if self.stopped():
                raise NotStarted("not started: %d migrations failed, more than max_failed %d" % (self.failed, self.max_failed))
            self.acting += 1
            self.by_key[key] = self.by_key.get(key, 0) + 1
        failed = False
        try:
            yield
        except Exception:
            failed = True
            raise
        finally:
            with self.cond:
                self.failed += failed
                self.acting -= 1
                self.by_key[key] -= 1
                self.cond.notify_all()


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
    return Migration(params, check_mode).run()


def one_migration(params, check_mode, inventory, host, session, slots, turn):
    """A migration's result; a failure becomes a failed result (the others go on)."""
    migration = Migration(params, check_mode, inventory, host, session, slots, turn)
    try:
        try:
            return migration.run()
        except VmshiftError as exc:
            failure = exc
        if not migration.acted:  # it failed before its slot (CopySlots): reported in its turn
            try:
                with slots.slot(turn[1], turn[0]):
                    raise failure
            except NotStarted as stopped:
                return {"changed": False, "not_started": True, "msg": str(stopped)}
            except VmshiftError:
                pass
        return dict(failure.details, failed=True, msg=failure.message, changed=bool(failure.details.get("changed")))
    finally:
        slots.leave(turn[0])  # one that ended without its turn (already migrated, check mode) holds up no other


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
        keys = [k for k in ("name", "moref", "uuid") if isinstance(entry, dict) and entry.get(k)]
        if len(keys) != 1 or set(entry) - {"name", "moref", "uuid", "overrides", "serial_log"}:
            raise InvalidInput("vms[%d] must have exactly one of name, moref or uuid (and optional overrides, serial_log), "
                               "not %r" % (i, entry))
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
    host = TargetHost()
    per_key = params.get("parallel_per_source_host")
    slots = CopySlots(params["parallel"], per_key, max_failed)
    # One login (or one clone of the controller's session, whose ticket is good once) for the whole batch:
    # each migration joins it over connections of its own.
    with VsphereClient.from_params(params) as vsphere:
        inventory = SourceVm.inventory(vsphere)  # one read of the estate for the whole batch
        session = vsphere.shared_session()
        key = source_host_of(inventory)
        turns = dict((id(run), (i, key(run))) for i, run in enumerate(runs))
        # Twice the limits started: each acting migration has one preparing behind it (CopySlots).
        results = run_limited(runs, lambda run: one_migration(run, check_mode, inventory, host, session, slots, turns[id(run)]),
                              AHEAD * params["parallel"], key=key, per_key=per_key and AHEAD * per_key,
                              stop=None if max_failed is None else lambda done: sum(1 for r in done if r.get("failed")) > max_failed,
                              started=lambda i, run: slots.join(*turns[id(run)]))
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
