# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_attachment's service: a NetworkAttachmentDefinition for VMs on a Linux bridge, compared
by meaning (the CNI config is parsed, not compared as text)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, merge_patch

NAD = ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition")
RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName"


def cni_config(name, bridge, vlan=None, cni="cnv-bridge", macspoofchk=True, mtu=None):
    """The CNI config: the bridge plugin, then tuning when an MTU is set."""
    plugin = {"type": cni, "bridge": bridge}
    if vlan is not None:
        plugin["vlan"] = vlan
    if macspoofchk is not None:
        plugin["macspoofchk"] = bool(macspoofchk)
    plugins = [plugin]
    if mtu:
        plugins.append({"type": "tuning", "mtu": mtu})
    return {"cniVersion": "0.3.1", "name": name, "plugins": plugins}


def nad_manifest(name, namespace, config, bridge):
    """The NAD; the resourceName annotation lets KubeVirt schedule VMs only where the bridge exists."""
    return {"apiVersion": NAD[0], "kind": NAD[1],
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {RESOURCE_ANNOTATION: "bridge.network.kubevirt.io/%s" % bridge}},
            "spec": {"config": json.dumps(config, sort_keys=True)}}


def view(nad):
    """What this module manages, comparable: the annotation and the parsed config."""
    if nad is None:
        return {}
    try:
        config = json.loads((nad.get("spec") or {}).get("config") or "{}")
    except ValueError:
        config = (nad.get("spec") or {}).get("config")
    return {"resource_name": ((nad.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_ANNOTATION),
            "config": config}


def check(params):
    vlan = params.get("vlan")
    if vlan is not None and not 1 <= vlan <= 4094:
        raise InvalidInput("vlan %d is outside 1-4094" % vlan)
    if params["state"] == "present" and not params.get("bridge"):
        raise InvalidInput("bridge is required with state: present (the Linux bridge on the nodes, e.g. br1)")
    if params.get("mtu") is not None and not 68 <= params["mtu"] <= 65535:
        raise InvalidInput("mtu %d is outside 68-65535" % params["mtu"])


def ensure_attachment(params, check_mode):
    check(params)
    client = KubeClient(params)
    name, namespace = params["name"], params["namespace"]
    current = client.get(NAD[0], NAD[1], name, namespace)
    before = view(current)
    if params["state"] == "absent":
        if current is not None and not check_mode:
            client.delete(NAD[0], NAD[1], name, namespace)
        return {"changed": current is not None, "diff": {"before": before, "after": {}}}
    config = cni_config(name, params["bridge"], params.get("vlan"), params["cni"], params["macspoofchk"], params.get("mtu"))
    desired = nad_manifest(name, namespace, config, params["bridge"])
    after = view(desired)
    changed = before != after
    if changed and not check_mode:
        if current is None:
            client.create(desired)
        else:
            client.patch(NAD[0], NAD[1], name, namespace, merge_patch(
                {"metadata": {"annotations": (current.get("metadata") or {}).get("annotations") or {}}, "spec": current.get("spec")},
                {"metadata": {"annotations": dict((current.get("metadata") or {}).get("annotations") or {},
                                                  **desired["metadata"]["annotations"])}, "spec": desired["spec"]}))
    return {"changed": changed, "attachment": {"name": name, "namespace": namespace, "config": config},
            "diff": {"before": before, "after": after}}
