# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_network role's short form -> nmstate desired state (and NetworkAttachmentDefinitions).

    bonds:        [{name: bond1, mode: balance-alb, miimon: 100, ports: [eth2, eth3], mtu: 1450}]
    bridges:      [{name: br1, ports: [bond1], stp: false, mtu: 1450, ipv4: {address: 192.0.2.10/24}}]
    vm_networks:  [{name: vlan-93, bridge: br1, vlan: 93}]

A VM network is where VMs attach. On a cluster it is a NetworkAttachmentDefinition on the bridge
(with the VLAN, which the bridge CNI sets on the VM's port). On a KVM host a VM network with a VLAN
is a VLAN interface on the bridge (``br1.93``) and a bridge of the network's name on top of it, so
libvirt NICs attach to ``vlan-93``; without a VLAN it is the bridge itself.
Pure: the result is validated by nmstate.validate before anything is applied.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput

BOND_KEYS = ("name", "mode", "miimon", "options", "ports", "mtu", "ipv4")
BRIDGE_KEYS = ("name", "ports", "port", "stp", "mtu", "ipv4")
VM_NETWORK_KEYS = ("name", "bridge", "vlan", "namespace", "mtu", "macspoofchk", "cni")


def _check_keys(item, allowed, where):
    if not isinstance(item, dict) or not item.get("name"):
        raise InvalidInput("%s needs a name" % where)
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise InvalidInput("%s '%s' has unknown keys %s; known: %s" % (where, item["name"], unknown, ", ".join(allowed)))


def default_route(item, routes):
    """A short-form ipv4.gateway becomes the default route through that interface."""
    gateway = (item.get("ipv4") or {}).get("gateway")
    if gateway:
        try:
            ipaddress.ip_address(str(gateway))
        except ValueError:
            raise InvalidInput("'%s' ipv4.gateway %r is not an IP address" % (item["name"], gateway))
        routes.append({"destination": "0.0.0.0/0", "next-hop-address": str(gateway), "next-hop-interface": item["name"]})


def ipv4_config(value, where):
    """None -> disabled; {dhcp: true}; {address: 192.0.2.10/24} or a list of them (and gateway)."""
    if not value:
        return {"enabled": False}
    if value.get("dhcp"):
        return {"enabled": True, "dhcp": True}
    addresses = value.get("address")
    addresses = addresses if isinstance(addresses, list) else [addresses]
    out = []
    for address in addresses:
        try:
            iface = ipaddress.ip_interface(str(address))
        except ValueError:
            raise InvalidInput("%s ipv4.address %r is not an address with a prefix, for example 192.0.2.10/24"
                               % (where, address))
        out.append({"ip": str(iface.ip), "prefix-length": iface.network.prefixlen})
    return {"enabled": True, "dhcp": False, "address": out}


def vlan_iface_name(bridge, vlan):
    name = "%s.%d" % (bridge, vlan)
    return name if len(name) <= 15 else "vlan%d" % vlan


def render(bonds=None, bridges=None, vm_networks=None, target="host", state="present", namespace="default"):
    """{desired_state, attachments (cluster), vm_bridges (VM network -> bridge a libvirt NIC uses)}."""
    interfaces = []
    routes = []
    absent = state == "absent"
    for bond in bonds or []:
        _check_keys(bond, BOND_KEYS, "bond")
        if absent:
            interfaces.append({"name": bond["name"], "type": "bond", "state": "absent"})
            continue
        options = dict(bond.get("options") or {})
        if bond.get("miimon") is not None:
            options["miimon"] = bond["miimon"]
        aggregation = {"mode": bond.get("mode"), "port": list(bond.get("ports") or [])}
        if options:
            aggregation["options"] = options
        iface = {"name": bond["name"], "type": "bond", "state": "up", "link-aggregation": aggregation,
                 "ipv4": ipv4_config(bond.get("ipv4"), "bond '%s'" % bond["name"]), "ipv6": {"enabled": False}}
        if bond.get("mtu"):
            iface["mtu"] = bond["mtu"]
        interfaces.append(iface)
        default_route(bond, routes)
    for bridge in bridges or []:
        _check_keys(bridge, BRIDGE_KEYS, "bridge")
        if absent:
            interfaces.append({"name": bridge["name"], "type": "linux-bridge", "state": "absent"})
            continue
        ports = bridge.get("ports") or ([bridge["port"]] if bridge.get("port") else [])
        iface = {"name": bridge["name"], "type": "linux-bridge", "state": "up",
                 "bridge": {"options": {"stp": {"enabled": bool(bridge.get("stp", False))}},
                            "port": [{"name": p} for p in ports]},
                 "ipv4": ipv4_config(bridge.get("ipv4"), "bridge '%s'" % bridge["name"]), "ipv6": {"enabled": False}}
        if bridge.get("mtu"):
            iface["mtu"] = bridge["mtu"]
        interfaces.append(iface)
        default_route(bridge, routes)
    attachments = []
    vm_bridges = {}
    for net in vm_networks or []:
        _check_keys(net, VM_NETWORK_KEYS, "vm_network")
        if not net.get("bridge"):
            raise InvalidInput("vm_network '%s' needs bridge: the bridge it rides on" % net["name"])
        vlan = net.get("vlan")
        if vlan is not None and (not isinstance(vlan, int) or not 1 <= vlan <= 4094):
            raise InvalidInput("vm_network '%s' vlan %r is outside 1-4094" % (net["name"], vlan))
        if target == "cluster":
            attachments.append({"name": net["name"], "namespace": net.get("namespace") or namespace,
                                "bridge": net["bridge"], "vlan": vlan, "mtu": net.get("mtu"),
                                "macspoofchk": net.get("macspoofchk", True), "cni": net.get("cni", "cnv-bridge")})
            continue
        if vlan is None:
            vm_bridges[net["name"]] = net["bridge"]
            continue
        vlan_name = vlan_iface_name(net["bridge"], vlan)
        vm_bridges[net["name"]] = net["name"]
        if absent:
            interfaces.extend([{"name": net["name"], "type": "linux-bridge", "state": "absent"},
                               {"name": vlan_name, "type": "vlan", "state": "absent"}])
            continue
        interfaces.append({"name": vlan_name, "type": "vlan", "state": "up",
                           "vlan": {"base-iface": net["bridge"], "id": vlan},
                           "ipv4": {"enabled": False}, "ipv6": {"enabled": False}})
        interfaces.append({"name": net["name"], "type": "linux-bridge", "state": "up",
                           "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": vlan_name}]},
                           "ipv4": {"enabled": False}, "ipv6": {"enabled": False}})
    if absent:
        interfaces.reverse()  # what rides on something goes first
    desired = {"interfaces": interfaces}
    if routes:
        desired["routes"] = {"config": routes}
    return {"desired_state": desired, "attachments": attachments, "vm_bridges": vm_bridges}
