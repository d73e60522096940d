# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_vm_info's service: every domain (or those named) with state, view, spec and addresses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient, libvirt
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import domain_view, spec_from_view
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.target import RUNNING_STATES, domain_addresses, state_name


def domain_facts(dom):
    view = domain_view(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    state = state_name(dom)
    running = state in RUNNING_STATES
    return {
        "name": dom.name(),
        "uuid": dom.UUIDString(),
        "state": state,
        "autostart": bool(dom.autostart()),
        "persistent": bool(dom.isPersistent()),
        "view": view,
        "disks": view["disks"],
        "nics": view["nics"],
        "ip_addresses": domain_addresses(dom, (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
                                               libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)) if running else [],
        "spec": spec_from_view(view, uuid=dom.UUIDString(), power_state="running" if running else "stopped"),
    }


def list_vms(params):
    with LibvirtClient(params["uri"]) as client:
        domains = client.conn.listAllDomains(0)
        patterns = params.get("names")
        vms = [domain_facts(d) for d in domains
               if not patterns or any(fnmatch.fnmatchcase(d.name(), p) for p in patterns)]
    vms.sort(key=lambda v: v["name"])
    return {"changed": False, "vms": vms, "count": len(vms)}
