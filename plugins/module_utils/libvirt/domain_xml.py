# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure builders: the neutral VM spec -> libvirt domain XML, and domain XML -> the managed view.

Idempotency compares *views*: the fields this collection manages, read back from the desired XML
and from the defined XML alike. Defaults libvirt adds (PCI addresses, controllers, USB, emulator
path...) are not in the view, so they never cause a spurious redefine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import check_domain_name, check_macs, neutral_spec

METADATA_NS = "https://vmshift.io/xmlns/libvirt/domain/1"
BUSES = {"virtio": "vd", "scsi": "sd", "sata": "sd"}


def _disk_target(bus, index_by_prefix):
    prefix = BUSES[bus]
    index = index_by_prefix.get(prefix, 0)
    index_by_prefix[prefix] = index + 1
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return prefix + letters


def render_domain(spec, domain_type, disks, serial_log=None, uuid=None, cloud_init_iso=None):
    """Return domain XML text.

    ``disks``: ``[{"path": ..., "format": "qcow2"|"raw", "bus": ..., "boot_order": ...}]``, resolved
    by the service from the spec's disks (volumes exist by then, or will in the same run).
    """
    dom = ET.Element("domain", type=domain_type)
    ET.SubElement(dom, "name").text = spec["name"]
    if uuid or spec.get("uuid"):
        ET.SubElement(dom, "uuid").text = uuid or spec["uuid"]
    meta = ET.SubElement(dom, "metadata")
    ET.SubElement(meta, "{%s}vm" % METADATA_NS, {"managed-by": "vmshift.virt"})
    ET.SubElement(dom, "memory", unit="MiB").text = str(spec["memory_mib"])
    cpu_spec = spec.get("cpu") or {}
    sockets, cores, threads = (cpu_spec.get("sockets") or 1, cpu_spec.get("cores") or 1, cpu_spec.get("threads") or 1)
    ET.SubElement(dom, "vcpu").text = str(sockets * cores * threads)
    firmware = (spec.get("firmware") or {}).get("type", "bios")
    os_attrs = {"firmware": "efi"} if firmware == "efi" else {}
    os_el = ET.SubElement(dom, "os", os_attrs)
    type_attrs = {"arch": "x86_64"}
    secure_boot = firmware == "efi" and (spec.get("firmware") or {}).get("secure_boot")
    machine = spec.get("machine") or ("q35" if secure_boot else None)  # libvirt: secure boot needs q35
    if machine:
        type_attrs["machine"] = machine
    ET.SubElement(os_el, "type", type_attrs).text = "hvm"
    if firmware == "efi":
        fw = ET.SubElement(os_el, "firmware")
        ET.SubElement(fw, "feature", enabled="yes" if secure_boot else "no", name="secure-boot")
    features = ET.SubElement(dom, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    if secure_boot:
        ET.SubElement(features, "smm", state="on")
    # spec.cpu.mode when given; else under KVM the guest sees the host CPU, and under TCG (qemu)
    # QEMU's default model is kept.
    mode = cpu_spec.get("mode") or ("host-passthrough" if domain_type == "kvm" else None)
    cpu = ET.SubElement(dom, "cpu", {"mode": mode} if mode else {})
    ET.SubElement(cpu, "topology", sockets=str(sockets), dies="1", cores=str(cores), threads=str(threads))
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    index_by_prefix = {}
    for disk in disks:
        el = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(el, "driver", name="qemu", type=disk["format"], cache="none", discard="unmap")
        ET.SubElement(el, "source", file=disk["path"])
        ET.SubElement(el, "target", dev=_disk_target(disk["bus"], index_by_prefix), bus=disk["bus"])
        if disk.get("boot_order"):
            ET.SubElement(el, "boot", order=str(disk["boot_order"]))
    if cloud_init_iso:
        # NoCloud seed on a SCSI CD-ROM: works on both i440fx and q35 machine types.
        el = ET.SubElement(devices, "disk", type="file", device="cdrom")
        ET.SubElement(el, "driver", name="qemu", type="raw")
        ET.SubElement(el, "source", file=cloud_init_iso)
        ET.SubElement(el, "target", dev="sdz", bus="scsi")
        ET.SubElement(el, "readonly")
    if cloud_init_iso or any(d["bus"] == "scsi" for d in disks):
        ET.SubElement(devices, "controller", type="scsi", index="0", model="virtio-scsi")
    for nic in spec.get("nics") or []:
        if nic.get("bridge"):
            el = ET.SubElement(devices, "interface", type="bridge")
            ET.SubElement(el, "source", bridge=nic["bridge"])
        else:
            el = ET.SubElement(devices, "interface", type="network")
            ET.SubElement(el, "source", network=nic["network"])
        if nic.get("mac"):
            ET.SubElement(el, "mac", address=nic["mac"].lower())
        ET.SubElement(el, "model", type=nic.get("model") or "virtio")
    if serial_log:
        serial = ET.SubElement(devices, "serial", type="file")
        ET.SubElement(serial, "source", path=serial_log, append="on")
        ET.SubElement(serial, "target", port="0")
    else:
        serial = ET.SubElement(devices, "serial", type="pty")
        ET.SubElement(serial, "target", port="0")
    ET.SubElement(devices, "console", type="pty")
    ET.SubElement(devices, "channel", type="unix").append(ET.Element("target", type="virtio", name="org.qemu.guest_agent.0"))
    ET.SubElement(devices, "rng", model="virtio").append(ET.Element("backend", model="random"))
    ET.register_namespace("vmshift", METADATA_NS)
    return ET.tostring(dom, encoding="unicode")


def render_volume(name, capacity, fmt):
    """A storage volume's XML (ElementTree escapes what a name may hold, such as & or <)."""
    vol = ET.Element("volume")
    ET.SubElement(vol, "name").text = name
    ET.SubElement(vol, "capacity", unit="bytes").text = str(int(capacity))
    ET.SubElement(ET.SubElement(vol, "target"), "format", type=fmt)
    return ET.tostring(vol, encoding="unicode")


def _int(text, default=None):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _memory_mib(el):
    if el is None:
        return None
    factor = {"b": 1.0 / 2 ** 20, "bytes": 1.0 / 2 ** 20, "KiB": 1.0 / 1024, "k": 1.0 / 1024, "MiB": 1, "M": 1,
              "GiB": 1024, "G": 1024}.get(el.get("unit", "KiB"), 1.0 / 1024)
    return int(round(int(el.text) * factor))


def domain_view(xml_text):
    """The fields this collection manages, from any domain XML (desired or defined)."""
    dom = ET.fromstring(xml_text)
    os_el = dom.find("os")
    type_el = os_el.find("type") if os_el is not None else None
    firmware = "efi" if (os_el is not None and (os_el.get("firmware") == "efi" or os_el.find("loader") is not None)) else "bios"
    secure_boot = bool(os_el is not None and os_el.find("firmware/feature[@name='secure-boot'][@enabled='yes']") is not None)
    topo = dom.find("cpu/topology")
    disks = []
    for el in dom.findall("devices/disk[@device='disk']"):
        source = el.find("source")
        driver = el.find("driver")
        target = el.find("target")
        boot = el.find("boot")
        disks.append({
            "path": source.get("file") if source is not None else None,
            "format": driver.get("type") if driver is not None else None,
            "bus": target.get("bus") if target is not None else None,
            "boot_order": _int(boot.get("order")) if boot is not None else None,
        })
    nics = []
    for el in dom.findall("devices/interface"):
        source = el.find("source")
        mac = el.find("mac")
        model = el.find("model")
        nics.append({
            "type": el.get("type"),
            "source": (source.get("bridge") or source.get("network")) if source is not None else None,
            "mac": mac.get("address").lower() if mac is not None else None,
            "model": model.get("type") if model is not None else None,
        })
    cdrom = dom.find("devices/disk[@device='cdrom']/source")
    serial = dom.find("devices/serial")
    serial_source = serial.find("source") if serial is not None else None
    return {
        "name": dom.findtext("name"),
        "type": dom.get("type"),
        "memory_mib": _memory_mib(dom.find("memory")),
        "vcpus": _int(dom.findtext("vcpu")),
        "topology": {k: _int(topo.get(k)) for k in ("sockets", "cores", "threads")} if topo is not None else None,
        "cpu_mode": dom.find("cpu").get("mode") if dom.find("cpu") is not None else None,
        "firmware": firmware,
        "secure_boot": secure_boot,
        "machine": type_el.get("machine") if type_el is not None else None,
        "disks": disks,
        "nics": nics,
        "cloud_init_iso": cdrom.get("file") if cdrom is not None else None,
        "serial_log": serial_source.get("path") if serial is not None and serial.get("type") == "file" and serial_source is not None else None,
    }


def machine_family(machine):
    """'pc-q35-7.2' -> 'q35', 'pc-i440fx-7.2' -> 'pc'; anything else unchanged."""
    if machine and machine.startswith("pc-q35"):
        return "q35"
    if machine and machine.startswith("pc-i440fx"):
        return "pc"
    return machine


def settle(desired, current):
    """The desired view with what it leaves to libvirt as the current domain has it: an unset machine type
    or CPU mode takes libvirt's choice, a machine family ("q35") accepts its versioned type ("pc-q35-7.2"),
    a NIC without a MAC the MAC libvirt generated. What a check-mode diff shows as "after"."""
    desired = dict(desired)
    if not current:
        return desired
    if desired.get("machine") is None or machine_family(current.get("machine")) == desired["machine"]:
        desired["machine"] = current.get("machine")
    if desired.get("cpu_mode") is None:
        desired["cpu_mode"] = current.get("cpu_mode")
    desired["nics"] = [dict(want, mac=want["mac"] or have["mac"]) for want, have in zip(desired["nics"], current["nics"])] \
        + desired["nics"][len(current["nics"]):]
    return desired


def views_differ(desired, current):
    return settle(desired, current) != current


def validate_spec(spec, field="spec"):
    """What can be checked without the host; raises InvalidInput naming the field (under ``field``) and the fix."""
    if not isinstance(spec, dict):
        raise InvalidInput(field + " must be a dictionary in the neutral VM spec (see docs/vm_spec.md)")
    if not spec.get("name"):
        raise InvalidInput(field + ".name is required: the domain name")
    check_domain_name(spec["name"], field + ".name")
    for key, kind in (("cpu", dict), ("firmware", dict), ("disks", list), ("nics", list)):
        if not isinstance(spec.get(key) or kind(), kind):
            raise InvalidInput("%s.%s must be a %s (see docs/vm_spec.md), not %r" % (field, key, kind.__name__, spec[key]))
    for key in ("disks", "nics"):
        if not all(isinstance(item, dict) for item in spec.get(key) or []):
            raise InvalidInput("%s.%s must be a list of dictionaries (see docs/vm_spec.md)" % (field, key))
    memory = spec.get("memory_mib")
    if not isinstance(memory, int) or isinstance(memory, bool) or memory <= 0:
        raise InvalidInput(field + ".memory_mib is required and must be a positive whole number of MiB (got %r)" % (memory,))
    cpu = spec.get("cpu") or {}
    if cpu.get("mode") not in (None, "host-passthrough", "host-model", "maximum"):
        raise InvalidInput(field + ".cpu.mode must be host-passthrough, host-model or maximum (got %r)" % (cpu.get("mode"),))
    for key in ("sockets", "cores", "threads"):
        value = cpu.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidInput(field + ".cpu.%s must be a whole number of at least 1 (got %r)" % (key, value))
    firmware = (spec.get("firmware") or {}).get("type", "bios")
    if firmware not in ("bios", "efi"):
        raise InvalidInput(field + ".firmware.type must be bios or efi (got %r)" % (firmware,))
    if (spec.get("firmware") or {}).get("secure_boot") and firmware != "efi":
        raise InvalidInput(field + ".firmware.secure_boot needs " + field + ".firmware.type: efi")
    names = set()
    for i, disk in enumerate(spec.get("disks") or []):
        where = field + ".disks[%d] (%s)" % (i, disk.get("name"))
        if not disk.get("name"):
            raise InvalidInput(field + ".disks[%d].name is required" % i)
        if disk["name"] in names:
            raise InvalidInput("%s: two disks are named %s; give each disk its own name" % (where, disk["name"]))
        names.add(disk["name"])
        source = disk.get("source") or {}
        kinds = [k for k in ("image", "url", "volume", "blank") if source.get(k)]
        if "vsphere" in source:
            raise InvalidInput("%s: a vsphere source is copied by the migration engine, not by libvirt_vm; "
                               "use image, url, volume or blank" % where)
        if len(kinds) != 1:
            raise InvalidInput("%s: source needs exactly one of image, url, volume or blank (got %s)" % (where, kinds or "none"))
        if kinds[0] in ("image", "url") and disk.get("size_bytes"):
            raise InvalidInput("%s: a disk is either cloned from an image or sized, not both; drop size_bytes "
                               "or source.%s" % (where, kinds[0]))
        size = disk.get("size_bytes")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise InvalidInput("%s: size_bytes must be a whole number of bytes, 1 or more (got %r)" % (where, size))
        if kinds[0] == "blank" and not disk.get("size_bytes"):
            raise InvalidInput("%s: a blank disk needs size_bytes" % where)
        if disk.get("bus", "virtio") not in BUSES:
            raise InvalidInput("%s: bus must be one of %s" % (where, ", ".join(sorted(BUSES))))
        if disk.get("format", "qcow2") not in ("qcow2", "raw"):
            raise InvalidInput("%s: format must be qcow2 or raw" % where)
    cloud_init = spec.get("cloud_init")
    if cloud_init is not None and not (isinstance(cloud_init, dict) and set(cloud_init) <= {"user_data", "network_config", "meta_data"}):
        raise InvalidInput(field + ".cloud_init takes user_data, network_config and meta_data (strings)")
    for i, nic in enumerate(spec.get("nics") or []):
        if not isinstance(nic, dict) or bool(nic.get("bridge")) == bool(nic.get("network")):
            raise InvalidInput(field + ".nics[%d]: set exactly one of bridge (a Linux bridge on the host) or network "
                               "(a libvirt network)" % i)
    check_macs(spec.get("nics"), field + ".nics")
    return spec


def spec_from_view(view, uuid=None, power_state=None):
    """A defined domain in the neutral VM spec (the inverse of render_domain for managed fields)."""
    topology = view.get("topology") or {"sockets": view.get("vcpus") or 1, "cores": 1, "threads": 1}
    disks = [{"name": "disk%d" % i, "bus": d["bus"], "format": d["format"], "boot_order": d["boot_order"],
              "source": {"path": d["path"]}} for i, d in enumerate(view["disks"])]
    nics = []
    for i, nic in enumerate(view["nics"]):
        entry = {"name": "nic%d" % i, "mac": nic["mac"], "model": nic["model"]}
        entry["bridge" if nic["type"] == "bridge" else "network"] = nic["source"]
        nics.append(entry)
    return neutral_spec(view["name"], uuid=uuid, sockets=topology["sockets"], cores=topology["cores"],
                        threads=topology["threads"], memory_mib=view["memory_mib"], firmware=view["firmware"],
                        secure_boot=view["secure_boot"], machine=view["machine"], disks=disks, nics=nics,
                        power_state=power_state)
