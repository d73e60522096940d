# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt target host as libvirt_vm and vm_migrate both act on it: a domain's state and addresses, a
pool's directory, the host's bridges and networks, defining a domain, its power, waiting for its guest,
undefining it, and the mark a migration leaves on it. Each check and each removal is here once, so the two
modules cannot differ in them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import WaitTimeout
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import libvirt, libvirt_error, translate
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import domain_view, settle, views_differ

RUNNING_STATES = ("running", "paused", "blocked", "pmsuspended")
VOLUME_EXTENSIONS = {"qcow2": "qcow2", "raw": "img"}  # volume format -> file name extension
MIGRATION_NS = "https://vmshift.io/xmlns/libvirt/migration/1"


def volume_name(vm, disk, fmt):
    """The volume made for a VM's disk: <vm>-<disk>.qcow2, or .img for raw."""
    return "%s-%s.%s" % (vm, disk, VOLUME_EXTENSIONS[fmt])


def pool_dir(pool):
    """(pool type, its target directory or None)."""
    root = ET.fromstring(pool.XMLDesc())
    return root.get("type"), root.findtext("target/path")


def pool_path(pool, vol_name):
    """Where a volume of that name lives (or will) in a directory pool."""
    return os.path.join(pool_dir(pool)[1] or "", vol_name)


def state_name(dom):
    if dom is None:
        return "undefined"
    code = dom.state()[0]
    return {
        libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused",
        libvirt.VIR_DOMAIN_SHUTDOWN: "running", libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
        libvirt.VIR_DOMAIN_CRASHED: "crashed", libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
        libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    }.get(code, "unknown")


def domain_addresses(dom, sources):
    """Guest IP addresses from the given sources (DHCP lease, guest agent), loopback and link-local
    left out; [] when none of them knows yet."""
    found = set()
    for source in sources:
        try:
            ifaces = dom.interfaceAddresses(source, 0)
        except libvirt_error():
            continue  # no agent (yet), or no lease (yet): not an error
        found.update(a["addr"] for i in ifaces.values() for a in (i.get("addrs") or [])
                     if not a["addr"].startswith(("127.", "::1", "fe80")))
    return sorted(found)


def can_shut_down(xml):
    """Whether a shutdown request can reach the guest of this domain XML: ACPI, or a guest agent channel."""
    root = ET.fromstring(xml)
    return root.find("features/acpi") is not None or any(
        target.get("name") == "org.qemu.guest_agent.0" for target in root.findall("devices/channel/target"))


def missing_networks(client, nics):
    """([(NIC index, "bridge" or "network", name)] the host lacks, the host's libvirt networks)."""
    interfaces = client.host_interfaces() if any(n.get("bridge") for n in nics) else set()
    networks = client.networks() if any(n.get("network") for n in nics) else set()
    missing = [(i, kind, nic[kind]) for i, nic in enumerate(nics) for kind, known in (("bridge", interfaces), ("network", networks))
               if nic.get(kind) and nic[kind] not in known]
    return missing, networks


# ---- definition ----
def converge_definition(client, name, xml, dom, check_mode=False):
    """Define ``xml`` unless ``dom`` (None: none yet) already has its managed view. Returns (domain, view before,
    view after, the action taken or None)."""
    desired = domain_view(xml)
    before = domain_view(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) if dom is not None else {}
    if dom is not None and not views_differ(desired, before):
        return dom, before, before, None
    action = "define domain" if dom is None else "redefine domain"
    if check_mode:
        return dom, before, settle(desired, before), action
    try:
        dom = client.conn.defineXML(xml)
    except libvirt_error() as exc:
        raise translate(exc, "define", "domain", name)
    return dom, before, domain_view(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)), action


def undefine(dom, name):
    """Stop (hard) and undefine a domain, with its NVRAM and managed save; its volumes are the caller's."""
    try:
        if state_name(dom) in RUNNING_STATES:
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    except libvirt_error() as exc:
        raise translate(exc, "undefine", "domain", name)


# ---- power ----
def start(dom, name):
    try:
        dom.create()
    except libvirt_error() as exc:
        raise translate(exc, "start", "domain", name)


def stop(dom, name, timeout, waiter):
    """Shut the guest down, destroying it when no request can reach it or it is still up after ``timeout``
    seconds. Returns the actions that took beyond the request."""
    try:
        if not can_shut_down(dom.XMLDesc(0)):
            # Without ACPI or a guest agent channel no shutdown request reaches the guest: waiting is in vain.
            dom.destroy()
            return ["destroy domain (no ACPI and no guest agent: it cannot shut down gracefully)"]
        dom.shutdown()
        try:
            waiter.wait(lambda: state_name(dom), lambda state: state not in RUNNING_STATES, timeout,
                        "domain '%s' to shut down" % name)
            return []
        except WaitTimeout:
            dom.destroy()
            return ["destroy domain after %ds graceful shutdown timeout" % timeout]
    except libvirt_error() as exc:
        raise translate(exc, "stop", "domain", name)


def serial_offset(path):
    """Where the console log ends now: a wait for a line starts there once the guest is started anew."""
    return os.path.getsize(path) if path and os.path.exists(path) else 0


def guest_probe(dom, name, params, offset):
    """(probe, predicate, what) of the wait ``params["wait_for"]`` names: running, ip, agent or serial (a line
    matching serial_pattern in serial_log after ``offset``)."""
    wait_for = params["wait_for"]
    if wait_for == "running":
        return (lambda: state_name(dom)), (lambda state: state == "running"), "domain '%s' to run" % name
    if wait_for == "serial":
        pattern = re.compile(params["serial_pattern"])

        def serial_line():
            if not os.path.exists(params["serial_log"]):
                return None
            with open(params["serial_log"], "rb") as f:
                f.seek(offset)
                return next((line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if pattern.search(line)), None)
        return serial_line, bool, "'%s' on the serial console of '%s'" % (params["serial_pattern"], name)
    source = {"ip": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, "agent": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT}[wait_for]
    return (lambda: domain_addresses(dom, [source])), bool, "%s of '%s'" % (
        "a DHCP lease" if wait_for == "ip" else "the guest agent", name)


def wait_for_guest(waiter, dom, name, params, offset):
    """Wait as ``params["wait_for"]`` says (running, ip, agent, serial or none) within ``wait_timeout``:
    {for, result, seconds}, or None for none."""
    if params["wait_for"] == "none":
        return None
    probe, predicate, what = guest_probe(dom, name, params, offset)
    dummy, value, elapsed = waiter.wait(probe, predicate, params["wait_timeout"], what, interval=1.0)
    return {"for": params["wait_for"], "result": value, "seconds": round(elapsed, 1)}


# ---- the mark a migration leaves ----
def migration_mark(dom):
    """The migration metadata on a domain: {source, completed}, or None."""
    try:
        text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, MIGRATION_NS, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    except libvirt_error():
        return None
    el = ET.fromstring(text)
    return {"source": el.get("source-uuid"), "completed": el.get("completed") or None}


def mark_migration(dom, name, facts, completed=""):
    """Mark a domain as the migration of the source VM with ``facts`` (instance_uuid, moref, name); ``completed``
    is the time it was done, empty while it is not."""
    xml = ET.tostring(ET.Element("migration", {"source-uuid": facts["instance_uuid"] or "", "source-moref": facts["moref"],
                                               "source-name": facts["name"] or "", "completed": completed}), encoding="unicode")
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0)
    try:
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, xml, "vmshift", MIGRATION_NS, flags)
    except libvirt_error() as exc:
        raise translate(exc, "mark", "domain", name)
