# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery service, in two phases.

1. One paged retrieval of the inventory tree and a cheap summary of every VM (name, parent, host,
   power state, template): the filters are applied here, before anything heavy is asked for.
2. The full properties of the selected VMs, by moref, split across worker processes: decoding
   pyVmomi's SOAP answers is CPU-bound (mostly config.hardware.device), so on a large estate each
   core decodes its own share over its own session. Each worker builds the facts (pure builders)
   and returns plain dicts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, MissingLibrary, NotFound, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import without_cycle_collector
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.errors import translate
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.fast_reader import fallback
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import (
    SUMMARY_PROPERTIES,
    TREE_PROPERTIES,
    FILTERS,
    VM_PROPERTIES,
    Tree,
    names_of,
    plain_tree,
    select,
    summary_properties,
    vm_facts,
)

try:
    from pyVmomi import vim, vmodl
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    vim = vmodl = None

try:
    import jmespath
except ImportError:  # only the query option needs it; reported when used
    jmespath = None

PARALLEL_MIN_VMS = 1000  # below this, one process is as fast as several (sessions cost ~0.1 s each)
MAX_WORKERS = 8


def vsphere_call(client, call, *args):
    try:
        return call(*args)
    except (vmodl.MethodFault, OSError) as exc:
        raise translate(exc, "retrieve", "VMs from", client.endpoint, client.endpoint)


def retrieve_summary(client, vm_properties=None):
    type_properties = {vim.VirtualMachine: vm_properties or SUMMARY_PROPERTIES}
    for type_name, paths in TREE_PROPERTIES.items():
        type_properties[getattr(vim, type_name)] = paths
    return vsphere_call(client, client.retrieve, type_properties)


def fetch_facts(params, ids, tree_objects, field_names, client=None, session=None):
    """Full properties of these VMs built into facts; a worker process joins ``session`` (the parent's) over a
    connection of its own."""
    tree = Tree(tree_objects)
    if client is None:
        with VsphereClient.from_params(params, session) as own:
            objects = vsphere_call(own, own.retrieve_objects, vim.VirtualMachine, ids, VM_PROPERTIES)
    else:
        objects = vsphere_call(client, client.retrieve_objects, vim.VirtualMachine, ids, VM_PROPERTIES)
    return [vm_facts(moid, props, tree, field_names) for moid, (kind, props) in objects.items()]


def custom_field_names(client):
    """Custom attribute key -> name (empty where the server has no CustomFieldsManager)."""
    manager = client.content.customFieldsManager
    if manager is None:
        return {}
    return dict((field.key, field.name) for field in vsphere_call(client, lambda: manager.field) or [])


def worker_count(requested, selected):
    if requested:
        return max(1, min(requested, selected))
    if selected < PARALLEL_MIN_VMS:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def discover_vms(params, inspect=None):
    """``inspect(client, facts)``: what to add as each VM's ``guest`` (vsphere_vm_info's guest_inspection)."""
    with without_cycle_collector(), VsphereClient.from_params(params) as client:
        return discover_with(client, params, inspect)


def discover_with(client, params, inspect=None):
    started = time.monotonic()
    filters = dict((key, params.get(key)) for key in FILTERS)
    objects = retrieve_summary(client, summary_properties(filters))
    field_names = custom_field_names(client)
    for field, kind in (("datacenter", "Datacenter"), ("cluster", "ClusterComputeResource"), ("host", "HostSystem"),
                        ("resource_pool", "ResourcePool")):
        known = names_of(objects, kind)
        if params.get(field) and params[field] not in known:
            raise NotFound(failed_to("find", field, params[field], "it does not exist; known: %s" % ", ".join(known)))
    tree_objects = plain_tree(objects)
    selected = select(objects, Tree(tree_objects), filters, field_names)
    workers = worker_count(params.get("workers"), len(selected))
    summarised = time.monotonic()
    chunks = [selected[i::workers] for i in range(workers)] if selected else []
    if workers == 1:
        vms = [fact for chunk in chunks for fact in fetch_facts(params, chunk, tree_objects, field_names, client)]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            vms = [fact for part in pool.map(fetch_facts, [params] * workers, chunks, [tree_objects] * workers,
                                             [field_names] * workers, [None] * workers,
                                             [client.shared_session()] * workers)
                   for fact in part]
    vms.sort(key=lambda f: (f["name"] or "", f["moref"]))
    inspected = time.monotonic()
    for facts in vms if inspect else ():
        facts["guest"] = inspect(client, facts)
    if vms:
        msg = "%d VMs found" % len(vms)
    else:
        msg = "no VM matched the filters (%s)" % ", ".join(
            "%s=%s" % (key, params[key]) for key in FILTERS if params.get(key) and key != "include_templates")
    timings = {"summary_seconds": round(summarised - started, 2),
               "details_seconds": round(inspected - summarised, 2), "workers": workers}
    if inspect:
        timings["inspection_seconds"] = round(time.monotonic() - inspected, 2)
    result = {"changed": False, "vms": vms, "count": len(vms), "msg": msg, "timings": timings}
    if fallback():
        result["warnings"] = [fallback()]
    if params.get("query"):
        result["query_result"] = project(vms, params["query"])
    return result


def project(vms, query):
    """The JMESPath projection of the VM list."""
    if jmespath is None:
        raise MissingLibrary("jmespath", reason="the query option needs it")
    try:
        return jmespath.search(query, vms)
    except jmespath.exceptions.JMESPathError as exc:
        raise InvalidInput("query is not a valid JMESPath expression: %s" % exc)
