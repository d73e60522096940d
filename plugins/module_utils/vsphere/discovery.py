# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery service: one retrieval, then the pure builders."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import NotFound, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.errors import translate
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import (
    TREE_PROPERTIES,
    VM_PROPERTIES,
    build_vms,
    names_of,
)

try:
    from pyVmomi import vim, vmodl
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    vim = vmodl = None


def retrieve_estate(client):
    type_properties = {vim.VirtualMachine: VM_PROPERTIES}
    for type_name, paths in TREE_PROPERTIES.items():
        type_properties[getattr(vim, type_name)] = paths
    try:
        return client.retrieve(type_properties)
    except (vmodl.MethodFault, OSError) as exc:
        raise translate(exc, "retrieve", "VMs from", client.endpoint, client.endpoint)


def discover_vms(params):
    with VsphereClient.from_params(params) as client:
        objects = retrieve_estate(client)
    for field, kind in (("datacenter", "Datacenter"), ("cluster", "ClusterComputeResource")):
        known = names_of(objects, kind)
        if params.get(field) and params[field] not in known:
            raise NotFound(failed_to("find", field, params[field], "it does not exist; known: %s" % ", ".join(known)))
    vms = build_vms(objects, params.get("names"), params.get("datacenter"), params.get("cluster"),
                    params.get("power_state"))
    if not params.get("include_templates"):
        vms = [vm for vm in vms if not vm["template"]]
    if vms:
        msg = "%d VMs found" % len(vms)
    else:
        msg = "no VM matched the filters (names=%s, datacenter=%s, cluster=%s, power_state=%s)" % (
            params.get("names"), params.get("datacenter"), params.get("cluster"), params.get("power_state"))
    return {"changed": False, "vms": vms, "count": len(vms), "msg": msg}
