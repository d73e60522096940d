# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest inside a VM's disks: what it is, whether it boots on virtio, which interface names its network
configuration uses, and the pins that keep those names on new hardware.

Read with libguestfs (guestfish in remote-control mode: one appliance, many commands) over an nbdkit curl
export of the datastore files before the source is powered off, as virt-v2v's vpx input reads them, and
written on the copied disks before the conversion. The rules are pure functions; the network configuration
parsers are in guest_network.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import tempfile
import time

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure, VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guest_network import NETWORK_FILES, interfaces_of
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import parse_descriptor

VIRTIO_BLOCK = ("virtio_blk", "virtio_scsi")
LINK_DIR = "/etc/systemd/network"
LINK_PREFIX = "10-vmshift-"


def tools_present():
    return all(shutil.which(tool) for tool in ("guestfish", "nbdkit"))


# ---- parsers (pure) ----

def has_virtio_block(initrd_files, kernel_config):
    """True when the initramfs holds a virtio block driver or the kernel has one built in; None when neither
    could be read."""
    if kernel_config and re.search(r"^CONFIG_VIRTIO_BLK=y$", kernel_config, re.M):
        return True
    if initrd_files is None:
        return None
    names = set(os.path.basename(f).split(".ko")[0] for f in initrd_files if ".ko" in f)
    return any(driver in names for driver in VIRTIO_BLOCK)


def pins_for(interfaces, nics):
    """Which old interface name each NIC's MAC must keep: [{name, mac}], and what could not be pinned.

    A configuration bound to a MAC follows the NIC already. A configuration bound to a name (ens192, ens2,
    eth0) is lost on new hardware, where the NIC gets another name: the name is pinned to the MAC. Which MAC
    a name had is known for sure when the VM has one NIC and the guest names one interface, or when the
    name's static address is the one VMware Tools reports on exactly one NIC (``nics[].ip_addresses``).
    Nothing is guessed: a name that neither tells is reported, not pinned."""
    named = sorted(set(i["name"] for i in interfaces if i["name"] and not i.get("mac")))
    macs = [n["mac"] for n in nics if n.get("mac")]
    if not named:
        return [], []
    if len(named) == 1 and len(macs) == 1:
        return [{"name": named[0], "mac": macs[0]}], []
    pins, unknown = [], []
    for name in named:
        addresses = set(a.split("/")[0] for i in interfaces if i["name"] == name for a in i.get("addresses") or ())
        owners = sorted(set(n["mac"] for n in nics if n.get("mac") and addresses & set(n.get("ip_addresses") or ())))
        if len(owners) == 1:
            pins.append({"name": name, "mac": owners[0]})
        else:
            unknown.append(name)
    taken = [p["mac"] for p in pins]
    shared = set(mac for mac in taken if taken.count(mac) > 1)
    if shared:  # two names on one NIC (an alias, a bridge port): the guest's own setup, left as it is
        unknown += [p["name"] for p in pins if p["mac"] in shared]
        pins = [p for p in pins if p["mac"] not in shared]
    if not unknown:
        return pins, []
    text = ("the guest configures %s by name and the VM has %d NICs: which MAC had %s is not known (VMware Tools "
            "reports no NIC with %s static address); pin each name to its MAC in the guest (a systemd .link file) "
            "before migrating")
    return pins, [text % (", ".join(named), len(macs), ", ".join(sorted(unknown)), "its" if len(unknown) == 1 else "their")]


def pins_text(pins):
    return "pin interface names %s" % ", ".join("%(name)s to %(mac)s" % p for p in pins)


def link_file(pin):
    return "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n" % (pin["mac"], pin["name"])


def needs_virtio_drivers(guest):
    """Why the guest would not boot on virtio unconverted, or None."""
    if guest.get("type") == "windows":
        return "a Windows guest has no virtio drivers until it is converted"
    if guest.get("type") == "linux" and guest.get("virtio_block") is False:
        return "its initramfs (%s) has no virtio block driver (%s), so its root file system is not found on virtio" % (
            guest.get("initramfs") or "?", " or ".join(VIRTIO_BLOCK))
    return None


# ---- libguestfs ----

class Guestfish:
    """One libguestfs appliance driven by ``guestfish --remote`` commands."""

    def __init__(self, drives, readonly=True, env=None):
        argv = ["guestfish", "--listen"] + (["--ro"] if readonly else [])
        for path, fmt in drives:
            argv += ["--format=" + fmt, "-a", path]
        self.env = env
        # The server guestfish leaves behind keeps its stdout open: read the line that names it, not to the end.
        with tempfile.TemporaryFile() as errors:
            try:
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=env)
            except OSError as exc:
                raise OperationFailure("Failed to start guestfish: %s" % exc)
            line = proc.stdout.readline()
            proc.stdout.close()
            proc.wait()
            match = re.search(rb"GUESTFISH_PID=(\d+)", line)
            if proc.returncode != 0 or not match:
                errors.seek(0)
                raise OperationFailure("Failed to start guestfish: %s" % errors.read().decode("utf-8", "replace")[-500:])
        self.pid = match.group(1).decode()
        self("run")

    def __call__(self, *args, **kwargs):
        """A command's output. With ``missing_ok``, None when it fails: the command is sent as ``-command``,
        since a failed command otherwise ends the guestfish server."""
        missing_ok = kwargs.get("missing_ok")
        command = ("-" if missing_ok else "") + args[0]
        proc = subprocess.run(["guestfish", "--remote=" + self.pid, "--", command] + list(args[1:]), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False, env=self.env)
        if missing_ok and b"error:" in proc.stderr:
            return None
        if proc.returncode != 0:
            raise OperationFailure("Failed to read the guest's disks: guestfish %s: %s" % (
                args[0], proc.stderr.decode("utf-8", "replace").strip()[-300:]))
        return proc.stdout.decode("utf-8", "replace")

    def lines(self, *args):
        out = self(*args, missing_ok=True)
        return [l for l in (out or "").splitlines() if l]

    def close(self):
        subprocess.run(["guestfish", "--remote=" + self.pid, "--", "exit"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, env=self.env)

    def mount_os(self):
        """Mount the first operating system found read-only (or as opened); its layout (root_layout), or None."""
        roots = self.lines("inspect-os")
        if not roots:
            return None
        root = roots[0]
        mounts = []
        for line in self.lines("inspect-get-mountpoints", root):
            point, device = line.split(": ", 1)
            mounts.append([point, device])
        self.mount(mounts)
        return {"root": root, "uuid": (self("vfs-uuid", root, missing_ok=True) or "").strip(), "mounts": mounts}

    def mount(self, mounts):
        for point, device in sorted(mounts, key=lambda m: len(m[0])):
            self("mount", device, point, missing_ok=True)

    def mount_layout(self, layout):
        """Mount the file systems as an earlier inspection of the same disks found them (``layout``, mount_os's),
        without inspecting again (about 13 s of a TCG appliance), when the root file system is still the one it
        found (its UUID): True; else False, nothing mounted."""
        if not layout or not layout.get("uuid"):
            return False
        if (self("vfs-uuid", layout["root"], missing_ok=True) or "").strip() != layout["uuid"]:
            return False
        self.mount(layout["mounts"])
        return True


def read_guest(fish):
    """What inspection shows of the OS on ``fish``'s disks."""
    layout = fish.mount_os()
    if layout is None:
        return {"type": None, "reason": "no operating system found on the disks"}
    root = layout["root"]

    def get(what):
        return (fish("inspect-get-" + what, root, missing_ok=True) or "").strip()
    guest = {"type": get("type"), "distro": get("distro"), "version": "%s.%s" % (get("major-version"), get("minor-version")),
             "product": get("product-name"), "hostname": get("hostname"), "layout": layout}
    if guest["type"] != "linux":
        return guest
    files = []
    for stack, path, is_dir in NETWORK_FILES:
        paths = [os.path.join(path, f) for f in fish.lines("ls", path)] if is_dir else [path]
        for name in paths:
            if fish("is-file", name, missing_ok=True) == "true\n":
                files.append((stack, name, fish("cat", name)))
    guest["interfaces"] = interfaces_of(files)
    guest["network_stacks"] = sorted(set(i["stack"] for i in guest["interfaces"]))
    kernels = sorted((f for f in fish.lines("ls", "/boot") if re.match(r"^(vmlinuz|vmlinux)-", f)), key=_version_key)
    initrd = config = modules = None
    if kernels:
        version = kernels[-1].split("-", 1)[1]
        for name in ("initrd.img-%s" % version, "initramfs-%s.img" % version):
            if fish("is-file", "/boot/" + name, missing_ok=True) == "true\n":
                initrd = "/boot/" + name
        config = fish("cat", "/boot/config-%s" % version, missing_ok=True)
        guest["kernel"] = version
    if initrd:
        # initramfs-tools and dracut both run depmod on the initramfs: its modules.dep lists what it holds.
        for directory in ("usr/lib/modules", "lib/modules"):
            dep = fish("initrd-cat", initrd, "%s/%s/modules.dep" % (directory, version), missing_ok=True)
            if dep is not None:
                modules = [line.split(":", 1)[0] for line in dep.splitlines() if ":" in line]
                break
    guest["initramfs"] = initrd
    guest["virtio_block"] = has_virtio_block(modules, config)
    return guest


def _version_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"[.-]", name)]


def not_inspected(reason):
    return {"type": None, "inspected": False, "reason": reason}


def inspect_source(vsphere, disks, nics):
    """The guest on a VM's source disks (``disks``: [{files, extents}], as read from their descriptors), as
    results show it: what read_guest found with ``inspected`` true, or ``inspected`` false and the reason;
    the seconds it took; the pins for ``nics`` and what could not be pinned (pins_for)."""
    started = time.monotonic()
    extents = [d["extents"] for d in disks]
    if any(len(e) != 1 or not e[0]["file"] or e[0]["offset"] for e in extents):
        guest = not_inspected("a disk of several extents is not inspected")
    else:
        urls = ["https://%s:%s%s" % (vsphere.hostname, vsphere.port, d["files"].url(e[0]["file"]))
                for d, e in zip(disks, extents)]
        try:
            guest = dict(inspect_datastore(urls, disks[0]["files"].cookie, vsphere.ca_path, vsphere.validate_certs),
                         inspected=True)
        except OperationFailure as exc:
            guest = not_inspected(exc.message)
    guest["seconds"] = round(time.monotonic() - started, 2)
    if guest.get("interfaces"):
        guest["pins"], guest["concerns"] = pins_for(guest["interfaces"], nics)
    return guest


def inspect_vm(vsphere, facts):
    """inspect_source for a VM as vsphere_vm_info describes it (facts); read-only, the VM may run."""
    files = {}
    try:
        disks = []
        for disk in facts["disks"]:
            if disk.get("rdm") or not disk.get("datastore"):
                return not_inspected("disk '%s' is not a virtual disk on a datastore" % disk.get("label"))
            if disk["datastore"] not in files:
                files[disk["datastore"]] = vsphere.datastore_files(facts["datacenter"], disk["datastore"])
            reader = files[disk["datastore"]]
            disks.append({"files": reader, "extents": parse_descriptor(reader.read_text(disk["path"]), disk["path"])})
        return inspect_source(vsphere, disks, facts.get("nics") or [])
    except VmshiftError as exc:
        return not_inspected(exc.message)
    finally:
        for reader in files.values():
            reader.close()


def inspect_datastore(urls, cookie, ca_path, validate_certs):
    """The guest on a VM's disks, read over HTTPS (``urls``: each disk's flat file on the datastore's /folder
    endpoint) while the VM may still run: nbdkit's curl plugin serves each read-only over a Unix socket;
    the session cookie reaches nbdkit through a pipe, never its command line."""
    work = tempfile.mkdtemp(prefix="vmshift-inspect-")
    servers, drives = [], []
    try:
        for i, url in enumerate(urls):
            sock = os.path.join(work, "disk%d.sock" % i)
            read_end, write_end = os.pipe()
            os.write(write_end, cookie.encode())
            os.close(write_end)
            argv = ["nbdkit", "--foreground", "--readonly", "--unix", sock, "curl", "url=" + url,
                    "cookie=+/dev/fd/%d" % read_end]
            argv += ["cainfo=" + ca_path] if ca_path and validate_certs else []
            argv += [] if validate_certs else ["sslverify=false"]
            try:
                servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(read_end,)))
            except OSError as exc:
                raise OperationFailure("Failed to start nbdkit: %s" % exc)
            finally:
                os.close(read_end)
            _wait_for_socket(sock, servers[-1])
            drives.append(("nbd://?socket=" + sock, "raw"))
        fish = Guestfish(drives)
        try:
            return read_guest(fish)
        finally:
            fish.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


def _wait_for_socket(sock, server):
    deadline = time.monotonic() + 30
    while not os.path.exists(sock):
        if server.poll() is not None or time.monotonic() > deadline:
            said = server.stderr.read().decode("utf-8", "replace").strip() if server.poll() is not None else "no socket in 30 s"
            raise OperationFailure("Failed to read the source disk over HTTPS with nbdkit: %s" % said[-300:])
        time.sleep(0.05)


def write_pins(drives, pins, layout=None):
    """Write a systemd .link file per pin into the guest on the copied disks (before the conversion, which
    rebuilds the initramfs with them: the NIC is named in the initramfs already). ``layout``: the file systems
    as the inspection before the power-off found them, used when the copy's root file system is that one."""
    fish = Guestfish(drives, readonly=False)
    try:
        if not fish.mount_layout(layout) and fish.mount_os() is None:
            raise OperationFailure("Failed to pin the interface names: no operating system found on the copied disks")
        fish("mkdir-p", LINK_DIR)
        for pin in pins:
            fish("write", "%s/%s%s.link" % (LINK_DIR, LINK_PREFIX, pin["name"]), link_file(pin))
        fish("umount-all")
    finally:
        fish.close()
