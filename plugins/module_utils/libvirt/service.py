# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_vm's service: preflight everything, then converge volumes, definition and power state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import struct
import tempfile
import xml.etree.ElementTree as ET

from ansible.module_utils.urls import open_url

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, NotFound, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import (
    check_spec,
    missing_for_power,
    power_only,
    wants_running,
)
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import VmService, reports_changes
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient, libvirt, libvirt_error, translate
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.cloud_init import build_seed_iso, seed_digest, seed_files
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import domain_view, render_domain, render_volume, validate_spec
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import (
    RUNNING_STATES,
    VOLUME_EXTENSIONS,
    converge_definition,
    missing_networks,
    pool_path,
    serial_offset,
    start,
    state_name,
    stop,
    undefine,
    volume_name,
    wait_for_guest,
)

UPLOAD_CHUNK = 4 * 1024 * 1024


def image_format_and_size(path):
    """('qcow2', virtual size) from a qcow2 header, else ('raw', file size)."""
    with open(path, "rb") as f:
        header = f.read(32)
    if header[:4] == b"QFI\xfb":
        return "qcow2", struct.unpack(">Q", header[24:32])[0]
    return "raw", os.path.getsize(path)


class LibvirtVmService(VmService):
    def __init__(self, client, params, check_mode, waiter=None):
        super(LibvirtVmService, self).__init__(client, params, check_mode, waiter)
        self.workdir = None

    def scratch(self):
        """A private scratch directory for downloads and the seed ISO, removed at the end of the run."""
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="vmshift-libvirt-")
        return self.workdir

    # ---- preflight: every blocker found before the first write, reported together ----
    def preflight(self, dom):
        problems = []
        pool = None
        disks = self.spec.get("disks") or []
        if disks or self.spec.get("cloud_init"):
            try:
                pool = self.client.pool(self.params["pool"])
            except NotFound as exc:
                problems.append(exc.message)
        resolved = []
        default_boot = not any(d.get("boot_order") for d in disks)
        for index, disk in enumerate(disks):
            if default_boot and index == 0:
                disk = dict(disk, boot_order=1)  # as in the neutral spec: the first disk boots
            source = disk.get("source") or {}
            bus = disk.get("bus") or "virtio"
            if source.get("volume"):
                vol = self.client.volume(pool, source["volume"]) if pool else None
                if pool and vol is None:
                    problems.append("spec.disks %s: volume '%s' does not exist in pool '%s'"
                                    % (disk["name"], source["volume"], self.params["pool"]))
                resolved.append(dict(disk, vol_name=source["volume"], format=None, bus=bus))
                continue
            if source.get("url"):
                # Downloaded only when its volume does not exist yet; the format is read from the file then.
                resolved.append(dict(disk, vol_name=None, format=None, capacity=None, bus=bus, url=source["url"]))
                continue
            if source.get("image"):
                if not os.path.isfile(source["image"]):
                    problems.append("spec.disks %s: image '%s' is not a file where the module runs"
                                    % (disk["name"], source["image"]))
                    fmt, size = disk.get("format") or "qcow2", 0
                else:
                    fmt, size = image_format_and_size(source["image"])
            else:
                fmt, size = disk.get("format") or "qcow2", disk["size_bytes"]
            resolved.append(dict(disk, vol_name=volume_name(self.name, disk["name"], fmt), format=fmt,
                                 capacity=size, bus=bus))
        nics = self.spec.get("nics") or []
        missing, networks = missing_networks(self.client, nics)
        fixes = {"bridge": ("bridge", "create it (host_network) or map the NIC to an existing bridge"),
                 "network": ("libvirt network", "known: %s" % (", ".join(sorted(networks)) or "none"))}
        problems.extend("spec.nics[%d]: %s '%s' does not exist on %s; %s" % (i, fixes[kind][0], name, self.params["uri"], fixes[kind][1])
                        for i, kind, name in missing)
        if any(n.get("mac") for n in nics):
            used = self.client.macs_in_use(dom.UUIDString() if dom is not None else None)
            problems.extend("spec.nics[%d].mac %s is already used by domain '%s' on %s; choose another MAC or leave it out "
                            "to have one generated" % (i, nic["mac"], used[nic["mac"].lower()], self.params["uri"])
                            for i, nic in enumerate(nics) if nic.get("mac") and nic["mac"].lower() in used)
        if dom is not None and self.spec.get("uuid") and dom.UUIDString() != self.spec["uuid"]:
            problems.append("domain '%s' exists with UUID %s, not the spec's %s; refusing to redefine another VM "
                            "(rename one of them)" % (self.name, dom.UUIDString(), self.spec["uuid"]))
        if problems:
            raise InvalidInput(failed_to("prepare", "domain", self.name, "; ".join(problems)), problems=problems)
        return pool, resolved

    # ---- volumes ----
    def ensure_volumes(self, pool, resolved):
        disks = []
        for disk in resolved:
            if disk.get("url"):
                disk = self.resolve_url_disk(pool, disk)
            vol = self.client.volume(pool, disk["vol_name"])
            if vol is None:
                self.actions.append("create volume %s" % disk["vol_name"])
                if not self.check_mode:
                    vol = self.create_volume(pool, disk)
            if vol is not None:
                path = vol.path()
                fmt = disk["format"] or (ET.fromstring(vol.XMLDesc()).find("target/format").get("type"))
            else:
                path, fmt = pool_path(pool, disk["vol_name"]), disk["format"]
            disks.append({"path": path, "format": fmt, "bus": disk["bus"], "boot_order": disk.get("boot_order")})
        return disks

    def made_volumes(self, pool, disk_name):
        """The volumes libvirt_vm made for this disk, in either format: [(volume, format)], qcow2 first."""
        found = ((self.client.volume(pool, volume_name(self.name, disk_name, fmt)), fmt) for fmt in VOLUME_EXTENSIONS)
        return [(vol, fmt) for vol, fmt in found if vol is not None]

    def resolve_url_disk(self, pool, disk):
        """A URL disk's volume is <vm>-<disk>.qcow2 or .img; download only when neither exists."""
        made = self.made_volumes(pool, disk["name"])
        if made:
            vol, fmt = made[0]
            return dict(disk, vol_name=vol.name(), format=fmt)
        if self.check_mode:
            return dict(disk, vol_name=volume_name(self.name, disk["name"], "qcow2"), format="qcow2")
        path = os.path.join(self.scratch(), disk["name"] + ".download")
        self.download(disk["url"], path, (disk.get("source") or {}).get("checksum"))
        fmt, size = image_format_and_size(path)
        return dict(disk, vol_name=volume_name(self.name, disk["name"], fmt), format=fmt, capacity=size,
                    source={"image": path})

    def download(self, url, path, checksum=None):
        digest = hashlib.sha256()
        try:
            response = open_url(url, timeout=60)
            with open(path, "wb") as f:
                for chunk in iter(lambda: response.read(UPLOAD_CHUNK), b""):
                    digest.update(chunk)
                    f.write(chunk)
        except (OSError, ValueError) as exc:
            raise InvalidInput(failed_to("download", "disk image", url, str(exc)))
        if checksum:
            algo, _sep, want = checksum.partition(":")
            if algo != "sha256" or digest.hexdigest() != want.lower():
                raise InvalidInput(failed_to("verify", "disk image", url, "sha256 is %s, not %s (source.checksum)"
                                             % (digest.hexdigest(), checksum)))

    def ensure_seed(self, pool):
        """The cloud-init seed volume <vm>-cidata-<digest>.iso; a changed seed gets a new volume."""
        cloud_init = self.spec.get("cloud_init")
        if not cloud_init:
            return None
        files = seed_files(self.name, cloud_init)
        vol_name = "%s-cidata-%s.iso" % (self.name, seed_digest(files))
        vol = self.client.volume(pool, vol_name)
        if vol is not None:
            return vol.path()
        self.actions.append("create volume %s" % vol_name)
        if self.check_mode:
            return pool_path(pool, vol_name)
        iso = build_seed_iso(files, self.scratch())
        vol = self.create_volume(pool, {"vol_name": vol_name, "capacity": os.path.getsize(iso), "format": "raw",
                                        "source": {"image": iso}})
        return vol.path()

    def delete_volume(self, vol):
        self.actions.append("delete volume %s" % vol.name())
        if not self.check_mode:
            vol.delete(0)

    def remove_stale_seeds(self, pool, keep):
        for vol in pool.listAllVolumes():
            if vol.name().startswith(self.name + "-cidata-") and vol.path() != keep:
                self.delete_volume(vol)

    def create_volume(self, pool, disk):
        try:
            vol = pool.createXML(render_volume(disk["vol_name"], disk["capacity"], disk["format"]), 0)
            image = (disk.get("source") or {}).get("image")
            if image:
                self.upload(vol, image)
        except libvirt_error() as exc:
            raise translate(exc, "create", "volume", disk["vol_name"])
        return vol

    def upload(self, vol, image):
        stream = self.client.conn.newStream(0)
        size = os.path.getsize(image)
        vol.upload(stream, 0, size, 0)
        with open(image, "rb") as f:
            stream.sendAll(lambda _stream, nbytes, fh: fh.read(min(nbytes, UPLOAD_CHUNK)), f)
        stream.finish()

    # ---- definition ----
    def ensure_defined(self, dom, disks, seed):
        desired_xml = render_domain(self.spec, self.params["domain_type"], disks, self.params.get("serial_log"),
                                    uuid=dom.UUIDString() if dom is not None else None, cloud_init_iso=seed)
        dom, before, after, action = converge_definition(self.client, self.name, desired_xml, dom, self.check_mode)
        if action:
            self.actions.append(action)
        return dom, before, after

    # ---- power ----
    def start(self, dom):
        self.actions.append("start domain")
        if self.check_mode or dom is None:
            return
        start(dom, self.name)

    def stop(self, dom):
        self.actions.append("stop domain")
        if not self.check_mode:
            self.actions.extend(stop(dom, self.name, self.params["shutdown_timeout"], self.waiter))

    def ensure_power(self, dom, want):
        running = state_name(dom) in RUNNING_STATES
        if want == "restarted":
            if running:
                self.stop(dom)
            self.start(dom)
            return True
        if want == "running" and not running:
            self.start(dom)
            return True
        if want == "shutoff" and running:
            self.stop(dom)
        return False

    def wait(self, dom, offset):
        if dom is None or self.check_mode:
            return None
        return wait_for_guest(self.waiter, dom, self.name, self.params, offset)

    @reports_changes
    def run(self):
        state = self.params["state"]
        dom = self.client.domain(self.name)
        if state == "absent":
            return self.remove(dom)
        if power_only(self.spec, state):
            if dom is None:
                raise missing_for_power(state, "domain", self.name)
            view = domain_view(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            return self.converge_power(dom, state, view, view)
        pool, resolved = self.preflight(dom)
        try:
            disks = self.ensure_volumes(pool, resolved)
            seed = self.ensure_seed(pool)
        finally:
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
        dom, before, after = self.ensure_defined(dom, disks, seed)
        if pool is not None:
            self.remove_stale_seeds(pool, seed)
        return self.converge_power(dom, state, before, after)

    def converge_power(self, dom, state, before, after):
        want = "restarted" if state == "restarted" else ("running" if wants_running(self.spec, state) else "shutoff")
        offset = serial_offset(self.params.get("serial_log"))
        started = self.ensure_power(dom, want)
        if self.params["autostart"] is not None and dom is not None and bool(dom.autostart()) != self.params["autostart"]:
            self.actions.append("set autostart %s" % self.params["autostart"])
            if not self.check_mode:
                dom.setAutostart(1 if self.params["autostart"] else 0)
        waited = self.wait(dom, offset if started else 0) if want in ("running", "restarted") else None
        return self.result(dom, before, after, waited)

    def remove(self, dom):
        before = {"name": self.name, "state": state_name(dom)} if dom is not None else {}
        if dom is not None:
            if state_name(dom) in RUNNING_STATES:
                self.actions.append("destroy domain")
            self.actions.append("undefine domain")
            if not self.check_mode:
                undefine(dom, self.name)
        if self.params["remove_volumes"]:
            pool = self.client.pool(self.params["pool"])
            self.remove_stale_seeds(pool, keep=None)
            for disk in self.spec.get("disks") or []:
                if (disk.get("source") or {}).get("volume"):
                    continue  # an existing volume the user named is theirs, never ours to delete
                for vol, dummy in self.made_volumes(pool, disk["name"]):
                    self.delete_volume(vol)
        return {"changed": bool(self.actions), "actions": self.actions, "domain": {"name": self.name, "state": "undefined"},
                "diff": {"before": before, "after": {}}}

    def result(self, dom, before, after, waited):
        domain = {"name": self.name, "uuid": dom.UUIDString() if dom is not None else None,
                  "state": state_name(dom), "view": after}
        return {"changed": bool(self.actions), "actions": self.actions, "domain": domain, "wait": waited,
                "diff": {"before": before, "after": after}}


def ensure_vm(params, check_mode):
    check_spec(params["spec"], params["state"], validate_spec, "domain")
    with LibvirtClient(params["uri"]) as client:
        return LibvirtVmService(client, params, check_mode).run()
