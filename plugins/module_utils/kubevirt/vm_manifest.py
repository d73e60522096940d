# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure builders: the neutral VM spec -> a KubeVirt VirtualMachine manifest; manifest comparison."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import check_macs, require_name

API_VERSION = "kubevirt.io/v1"
RFC1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SOURCES = ("url", "registry", "pvc", "blank")
# The kinds an instancetype or preference reference takes: the cluster-wide kind (the default) or the namespaced one.
INSTANCETYPE_KINDS = ("VirtualMachineClusterInstancetype", "VirtualMachineInstancetype")
PREFERENCE_KINDS = ("VirtualMachineClusterPreference", "VirtualMachinePreference")


def _quantity(size_bytes):
    """Bytes as a Kubernetes quantity, in whole Mi when exact, else in bytes."""
    if size_bytes % (1024 * 1024) == 0:
        return "%dMi" % (size_bytes // (1024 * 1024))
    return str(size_bytes)


def reference(value, option, kinds):
    """An instancetype or preference option as the VM's reference: a name (the cluster-wide kind), or a dict with
    name and kind as kubevirt.core takes it; None when not set."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return {"name": value, "kind": kinds[0]}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        raise InvalidInput("%s must be a name, or a dict with name (and kind: %s)" % (option, " or ".join(kinds)))
    unknown = sorted(set(value) - {"name", "kind"})
    if unknown:
        raise InvalidInput("%s.%s is not known: give name and kind only" % (option, unknown[0]))
    kind = value.get("kind") or kinds[0]
    if kind not in kinds:
        raise InvalidInput("%s.kind %r must be %s" % (option, kind, " or ".join(kinds)))
    return {"name": value["name"], "kind": kind}


def validate(spec, instancetype=None):
    """Raise InvalidInput naming the field and the fix; nothing is sent before this passes."""
    name = require_name(spec, "VirtualMachine")
    if len(name) > 63 or not RFC1123.match(name):
        raise InvalidInput("spec.name '%s' is not a valid Kubernetes name: use at most 63 lower-case letters, digits "
                           "and '-', starting and ending with a letter or digit (RFC 1123)" % name)
    if not instancetype and not (isinstance(spec.get("memory_mib"), int) and spec["memory_mib"] > 0):
        raise InvalidInput("spec.memory_mib is required (a positive number of MiB) unless an instancetype is given")
    for i, disk in enumerate(spec.get("disks") or []):
        where = "spec.disks[%d] (%s)" % (i, disk.get("name"))
        source = disk.get("source") or {}
        kinds = [k for k in SOURCES if source.get(k)]
        others = [k for k in source if k not in SOURCES]
        if others:
            raise InvalidInput("%s: source %s cannot be used on KubeVirt; use url (HTTP), registry, pvc or blank"
                               % (where, ", ".join(others)))
        if len(kinds) != 1:
            raise InvalidInput("%s: source needs exactly one of url, registry, pvc or blank" % where)
        if not disk.get("size_bytes") and kinds[0] != "registry":
            raise InvalidInput("%s: size_bytes is required for the DataVolume's storage request" % where)
        if kinds[0] == "pvc" and not (isinstance(source["pvc"], dict) and source["pvc"].get("name")):
            raise InvalidInput("%s: source.pvc needs name (and optionally namespace) of the PVC to clone" % where)
    for i, nic in enumerate(spec.get("nics") or []):
        if bool(nic.get("network")) == bool(nic.get("pod")):
            raise InvalidInput("spec.nics[%d]: set exactly one of network (a NetworkAttachmentDefinition, "
                               "'name' or 'namespace/name') or pod: true (the pod network)" % i)
        if nic.get("binding", "bridge" if nic.get("network") else "masquerade") not in ("bridge", "masquerade"):
            raise InvalidInput("spec.nics[%d]: binding must be bridge or masquerade" % i)
        if nic.get("network") and nic.get("binding") == "masquerade":
            raise InvalidInput("spec.nics[%d]: masquerade binding is for the pod network only; use bridge" % i)
    check_macs(spec.get("nics"))
    return spec


def render(spec, namespace, storage_class=None, access_mode="ReadWriteOnce", instancetype=None, preference=None,
           run_strategy="Always"):
    """Return the VirtualMachine manifest for the spec."""
    name = spec["name"]
    labels = dict(spec.get("labels") or {})
    labels.setdefault("app.kubernetes.io/managed-by", "vmshift.virt")
    disks, volumes, templates = [], [], []
    for i, disk in enumerate(spec.get("disks") or []):
        dname = disk.get("name") or "disk%d" % i
        source = disk.get("source") or {}
        entry = {"name": dname, "disk": {"bus": disk.get("bus") or "virtio"}}
        boot = disk.get("boot_order") or (1 if i == 0 and not any(d.get("boot_order") for d in spec["disks"]) else None)
        if boot:
            entry["bootOrder"] = boot
        disks.append(entry)
        if source.get("registry"):
            volumes.append({"name": dname, "containerDisk": {"image": source["registry"]}})
            continue
        if source.get("url"):
            dv_source = {"http": {"url": source["url"]}}
        elif source.get("pvc"):
            dv_source = {"pvc": {"name": source["pvc"]["name"], "namespace": source["pvc"].get("namespace") or namespace}}
        else:
            dv_source = {"blank": {}}
        storage = {"resources": {"requests": {"storage": _quantity(disk["size_bytes"])}}, "accessModes": [access_mode]}
        if storage_class:
            storage["storageClassName"] = storage_class
        dv_name = "%s-%s" % (name, dname)
        templates.append({"metadata": {"name": dv_name}, "spec": {"source": dv_source, "storage": storage}})
        volumes.append({"name": dname, "dataVolume": {"name": dv_name}})
    interfaces, networks = [], []
    for i, nic in enumerate(spec.get("nics") or []):
        nname = nic.get("name") or "nic%d" % i
        binding = nic.get("binding") or ("bridge" if nic.get("network") else "masquerade")
        iface = {"name": nname, binding: {}, "model": nic.get("model") or "virtio"}
        if nic.get("mac"):
            iface["macAddress"] = nic["mac"].lower()
        interfaces.append(iface)
        networks.append({"name": nname, "multus": {"networkName": nic["network"]}} if nic.get("network")
                        else {"name": nname, "pod": {}})
    cloud_init = spec.get("cloud_init")
    if cloud_init:
        disks.append({"name": "cloudinitdisk", "disk": {"bus": "virtio"}})
        nocloud = {}
        if cloud_init.get("user_data"):
            nocloud["userData"] = cloud_init["user_data"]
        if cloud_init.get("network_config"):
            nocloud["networkData"] = cloud_init["network_config"]
        volumes.append({"name": "cloudinitdisk", "cloudInitNoCloud": nocloud})
    domain = {"devices": {"disks": disks, "interfaces": interfaces}}
    if not instancetype:
        cpu = spec.get("cpu") or {}
        domain["cpu"] = {"sockets": cpu.get("sockets") or 1, "cores": cpu.get("cores") or 1,
                         "threads": cpu.get("threads") or 1}
        domain["memory"] = {"guest": "%dMi" % spec["memory_mib"]}
    firmware = spec.get("firmware") or {}
    if firmware.get("type") == "efi":
        domain["firmware"] = {"bootloader": {"efi": {"secureBoot": bool(firmware.get("secure_boot"))}}}
        if firmware.get("secure_boot"):
            domain["features"] = {"smm": {"enabled": True}}
    if spec.get("uuid"):
        domain.setdefault("firmware", {})["uuid"] = spec["uuid"]
    if spec.get("machine"):
        domain["machine"] = {"type": spec["machine"]}
    vm_spec = {
        "runStrategy": run_strategy,
        "template": {"metadata": {"labels": {"kubevirt.io/domain": name}},
                     "spec": {"domain": domain, "networks": networks, "volumes": volumes}},
    }
    if templates:
        vm_spec["dataVolumeTemplates"] = templates
    if instancetype:
        vm_spec["instancetype"] = reference(instancetype, "instancetype", INSTANCETYPE_KINDS)
    if preference:
        vm_spec["preference"] = reference(preference, "preference", PREFERENCE_KINDS)
    return {"apiVersion": API_VERSION, "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": vm_spec}


def managed(manifest, hidden=()):
    """The part of an object this collection writes (for diffs and comparison): labels and spec, without
    runStrategy (the power steps set it) and without the ``hidden`` fields (parsed hidden_fields)."""
    spec = dict(manifest.get("spec") or {})
    spec.pop("runStrategy", None)
    spec.pop("running", None)
    return hide({"metadata": {"labels": (manifest.get("metadata") or {}).get("labels") or {}}, "spec": spec}, hidden)


def field_path(text):
    """A hidden_fields entry as a list of keys and list indexes, in kubernetes.core's syntax: dots between keys,
    a key that holds dots in brackets (metadata.annotations[kubemacpool.io/transaction-timestamp]), an index
    in brackets (spec.template.spec.volumes[0])."""
    parts = []
    for dotted, bracketed in re.findall(r"([^.\[\]]+)|\[([^\]]*)\]", text):
        if dotted:
            parts.append(dotted)
        elif bracketed.isdigit():
            parts.append(int(bracketed))
        elif bracketed:
            parts.append(bracketed)
    if not parts:
        raise InvalidInput("hidden_fields entry %r is not a field path, for example metadata.managedFields" % text)
    return parts


def hide(obj, hidden):
    """A copy of ``obj`` without the fields at the ``hidden`` paths (lists of keys and indexes); a path that is not
    there changes nothing."""
    if not hidden:
        return obj
    obj = copy.deepcopy(obj)
    for path in hidden:
        parent = obj
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
            del parent[path[-1]]
    return obj


def run_strategy_of(obj):
    spec = obj.get("spec") or {}
    if "runStrategy" in spec:
        return spec["runStrategy"]
    return "Always" if spec.get("running") else "Halted"
