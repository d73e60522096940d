# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_migrate's read-only part: the input checks made before any connection, the disks to copy as the source's
descriptors say, the guest read off the source disks, and every blocker on the target found at once, before
anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import xml.etree.ElementTree as ET

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import libvirt_error
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import validate_spec
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import missing_networks, pool_dir, volume_name
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess import CRITICAL, assess, virtio_lack
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import MIB
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest import inspect_source, not_inspected, tools_present
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import parse_descriptor

LOCAL_POOL_TYPES = ("dir", "fs", "netfs")


def check_params(params):
    """What the argument spec cannot say, checked before any connection."""
    for field in ("copy_workers", "chunk_size_mib", "wait_timeout", "shutdown_timeout"):
        if params[field] is None or params[field] < (1 if field in ("copy_workers", "chunk_size_mib") else 0):
            raise InvalidInput("%s must be a positive number, not %s" % (field, params[field]))
    if (params.get("lock_timeout") or 0) < 0:
        raise InvalidInput("lock_timeout must be 0 (refuse at once) or more seconds, not %s" % params["lock_timeout"])
    if params["bandwidth_limit_mib"] is not None and params["bandwidth_limit_mib"] < 1:
        raise InvalidInput("bandwidth_limit_mib must be 1 or more (MiB/s), or unset for no limit")
    if params.get("progress_interval") is not None and not 0 <= params["progress_interval"] <= 60:
        raise InvalidInput("progress_interval must be 1 to 60 seconds, or 0 for none, not %s" % params["progress_interval"])
    if params["wait_for"] == "serial" and not (params["serial_log"] and params["serial_pattern"]):
        raise InvalidInput("wait_for is serial: set serial_log (the console log file) and serial_pattern")
    # The overrides as the target spec will hold them, checked as libvirt_vm checks a spec (their keys and
    # types are the argument spec's).
    given = dict((key, value) for key, value in params["overrides"].items() if value is not None)
    validate_spec(dict({"name": "overrides-check", "memory_mib": 1}, **given), "overrides")
    for port_group, target in (params["network_map"] or {}).items():
        if not isinstance(target, dict) or len(set(target) & {"bridge", "network"}) != 1 or set(target) - {"bridge", "network"}:
            raise InvalidInput("network_map['%s'] must be {bridge: <Linux bridge>} or {network: <libvirt network>}, "
                               "not %r" % (port_group, target))


def plan_disks(source_disks, name, fmt, files_for, pool_path, record_dir):
    """Each source disk with its descriptor's extents, size and the target volume (``present``: copied and
    verified in an earlier run)."""
    planned = []
    for disk in source_disks:
        source = disk["source"]["vsphere"]
        files = files_for(source["datastore"])
        extents = parse_descriptor(files.read_text(source["path"]), source["path"])
        volume = volume_name(name, disk["name"], fmt)
        final = os.path.join(pool_path or "", volume)
        planned.append({"name": disk["name"], "boot_order": disk.get("boot_order"), "files": files,
                        "extents": extents, "size": sum(e["size"] for e in extents), "volume": volume,
                        "path": final, "part": final + ".vmshift-part", "present": os.path.exists(final),
                        "source": "[%s] %s" % (source["datastore"], source["path"]), "descriptor": source["path"],
                        "journal": os.path.join(record_dir, disk["name"] + ".journal"),
                        "progress": os.path.join(record_dir, disk["name"] + ".progress.json")})
    return planned


def inspect_guest(mode, vsphere, disks, facts):
    """The guest on the source disks (OS, virtio drivers, network configuration), read over HTTPS while the
    source may still run: what guest.inspect_source returns, or None when ``mode`` is never. A guest that
    cannot be read is migrated as before, with the reason in the result (unless ``mode`` is always)."""
    if mode == "never":
        return None
    if not tools_present():
        if mode == "always":
            raise InvalidInput(failed_to("migrate", "VM", facts["name"], "guest_inspection is always, but guestfish or "
                                         "nbdkit is not installed on this host (install libguestfs-tools and nbdkit, "
                                         "or set guest_inspection: auto)"))
        return not_inspected("guestfish or nbdkit is not installed on this host")
    guest = inspect_source(vsphere, disks, facts.get("nics") or [])
    if mode == "always" and not guest["inspected"]:
        raise OperationFailure(failed_to("inspect", "VM", facts["name"], guest["reason"]))
    return guest


def efi_available(target, domain_type):
    try:
        caps = ET.fromstring(target.conn.getDomainCapabilities(None, "x86_64", None, domain_type, 0))
    except libvirt_error():
        return None
    return bool(caps.findall("os/loader/value"))


def _allocated(path):
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


def check_target(params, facts, name, guest, target, host, made, dom, pool, disks):
    """Every blocker for migrating the source VM (``facts``) as ``name`` onto ``target`` (a LibvirtClient) into
    ``pool``, refused in one message; then the VM's name and MACs claimed in the batch (``host``: TargetHost).
    ``dom`` is the domain an earlier run of this migration made (or None), ``made`` the files it made. Returns
    whether the guest is to be converted."""
    problems = []
    if facts["power_state"] == "suspended":
        problems.append("the source VM is suspended; resume it or power it off in vCenter first")
    pool_type, pool_path = pool_dir(pool)
    if pool_type not in LOCAL_POOL_TYPES or not pool_path or not os.path.isdir(pool_path):
        problems.append("pool '%s' (type %s, path %s) is not a directory on the host running the module; run "
                        "vm_migrate on the KVM host (delegate_to) with a dir, fs or netfs pool"
                        % (params["pool"], pool_type, pool_path))
    names, macs = host.view(target.conn, dom.UUIDString() if dom is not None else None)
    has_v2v = shutil.which("virt-v2v-in-place") is not None
    network_map = params["network_map"] or {}
    memory_needed = params["target_power_state"] == "running"
    vm = dict(facts, name=name, guest=guest)
    if params["overrides"].get("memory_mib"):
        vm["memory_mib"] = params["overrides"]["memory_mib"]
    assessed, dummy = assess([vm], {
        "type": "libvirt", "network_map": network_map, "existing_names": names, "existing_macs": macs,
        "efi_available": efi_available(target, params["domain_type"]), "guest_conversion": params["guest_conversion"],
        "free_memory_mib": target.conn.getFreeMemory() // MIB if memory_needed else None,
        "conversion_available": has_v2v}, "cold")
    mapped = [network_map[n["network"]] for n in facts.get("nics") or [] if network_map.get(n.get("network"))]
    missing = sorted(set(missed for dummy, kind, missed in missing_networks(target, mapped)[0]))
    if missing:
        problems.append("the network map names %s, which %s not exist on %s; create it (host_network) or fix the map"
                        % (", ".join(missing), "does" if len(missing) == 1 else "do", params["uri"]))
    problems.extend("%s (%s): fix: %s" % (c["message"], c["code"], c["fix"])
                    for c in assessed[0]["concerns"] if c["severity"] == CRITICAL)
    problems.extend("volume '%s' already exists in pool '%s' and is not from this migration; remove it or set "
                    "overrides.name" % (d["volume"], params["pool"]) for d in disks if d["present"] and d["path"] not in made)
    need = sum(d["size"] for d in disks if not d["present"])  # the most a copy can take (no zero block)
    available = pool.info()[3] + sum(_allocated(d["part"]) for d in disks)
    if need > available:
        problems.append("pool '%s' has %.1f GiB available; the disks need up to %.1f GiB; free space or choose "
                        "another pool" % (params["pool"], available / 1024.0 ** 3, need / 1024.0 ** 3))
    if not problems:
        problems = host.claim("'%s' (%s)" % (facts["name"], facts["moref"]), facts["instance_uuid"] or facts["moref"],
                              name, [n["mac"] for n in facts.get("nics") or [] if n.get("mac")])
    if problems:
        raise InvalidInput(failed_to("migrate", "VM", facts["name"], "; ".join(problems)), problems=problems, guest=guest)
    conversion = params["guest_conversion"]
    return has_v2v and (conversion == "always" or (conversion == "auto" and bool(virtio_lack(vm)[0])))
