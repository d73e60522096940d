# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nmstate validation table: real-world layouts that must pass, mistakes that must be named."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.validate import normalize_desired_state, validate_desired_state

BOND_ALB = {"name": "bond1", "type": "bond", "state": "up", "mtu": 1450, "ipv4": {"enabled": False},
            "link-aggregation": {"mode": "balance-alb", "options": {"miimon": "100"}, "port": ["eth2", "eth3"]}}
BRIDGE_ON_BOND = {"name": "br1", "type": "linux-bridge", "state": "up", "mtu": 1450, "ipv4": {"enabled": False},
                  "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "bond1"}]}}


def state(*interfaces, **extra):
    out = {"interfaces": [dict(i) for i in interfaces]}
    out.update(extra)
    return out


GOOD = [
    ("bond balance-alb miimon '100' and a bridge over it", state(BOND_ALB, BRIDGE_ON_BOND)),
    ("what nmstate 2.2 also reads: bond for link-aggregation, ports, mode by number, lacp, numbers as strings",
     state({"name": "bond0", "type": "bond", "mtu": "9000", "bond": {"mode": 4, "ports": ["eth0", "eth1"],
                                                                     "options": {"miimon": "100", "lacp_rate": "fast"}}},
           {"name": "bond2", "type": "bond", "link-aggregation": {"mode": "lacp", "port": ["eth2"]}},
           {"name": "v5", "type": "vlan", "vlan": {"base-iface": "bond0", "id": "5"}},
           {"name": "br5", "type": "linux-bridge", "bridge": {"ports": [{"name": "v5"}]},
            "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.5", "prefix-length": "24"}]}})),
    ("every bond mode", state(*[{"name": "b%d" % i, "type": "bond", "link-aggregation": {"mode": m, "port": ["e%d" % i]}}
                                for i, m in enumerate(["balance-rr", "active-backup", "balance-xor", "broadcast",
                                                       "802.3ad", "balance-tlb", "balance-alb"])])),
    ("vlan 93 on the bond, a bridge on the vlan, static address and default route",
     state(BOND_ALB, {"name": "bond1.93", "type": "vlan", "vlan": {"base-iface": "bond1", "id": 93}},
           {"name": "br93", "type": "linux-bridge", "bridge": {"port": [{"name": "bond1.93"}]},
            "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "192.0.2.10", "prefix-length": 24}]}},
           routes={"config": [{"destination": "0.0.0.0/0", "next-hop-address": "192.0.2.1", "next-hop-interface": "br93"}]},
           **{"dns-resolver": {"config": {"server": ["192.0.2.53"], "search": ["example.com"]}}})),
    ("bridge port VLAN filtering, trunk with a range", state({"name": "br1", "type": "linux-bridge", "bridge": {
        "options": {"stp": {"enabled": True, "forward-delay": 15}},
        "port": [{"name": "eth1", "vlan": {"mode": "trunk", "trunk-tags": [{"id": 10}, {"id-range": {"min": 20, "max": 30}}]}}]}})),
    ("ipv6 static and dhcp v4", state({"name": "eth0", "type": "ethernet", "ipv4": {"enabled": True, "dhcp": True},
                                       "ipv6": {"enabled": True, "address": [{"ip": "2001:db8::10", "prefix-length": 64}]}})),
    ("an interface removed", state({"name": "br-old", "state": "absent"})),
]


@pytest.mark.parametrize("name, desired", GOOD, ids=[g[0] for g in GOOD])
def test_good(name, desired):
    assert validate_desired_state(desired)


BAD = [
    ("bond options under the wrong key",
     state(dict(BOND_ALB, **{"link-aggregation": {"mode": "balance-alb", "miimon": 100, "port": ["eth2"]}})),
     "interfaces[0] 'bond1': link-aggregation.miimon is a bond option: put it under link-aggregation.options.miimon"),
    ("bond with no port", state({"name": "bond1", "type": "bond", "link-aggregation": {"mode": "active-backup"}}),
     "'bond1': the bond has no port: list its NICs in link-aggregation.port"),
    ("slaves, which nmstate 2.2.25 removed", state({"name": "bond0", "type": "bond", "link-aggregation": {
        "mode": "802.3ad", "slaves": ["eth0", "eth1"]}}),
     "interfaces[0] 'bond0': link-aggregation.'slaves' was removed in nmstate 2.2.25 (bond settings deny unknown fields, "
     "so current hosts and clusters refuse it): rename it to 'port', or set normalize: true"),
    ("bond with port and slaves", state({"name": "bond1", "type": "bond", "link-aggregation": {
        "mode": "active-backup", "port": ["eth1"], "slaves": ["eth1"]}}), "'slaves' was removed in nmstate 2.2.25"),
    ("link-aggregation and its alias bond", state({"name": "bond1", "type": "bond", "bond": {"mode": "1", "port": ["e1"]},
                                                   "link-aggregation": {"mode": "1", "port": ["e1"]}}),
     "has both 'link-aggregation' and its alias 'bond'; keep one (link-aggregation)"),
    ("unknown bond mode", state({"name": "bond1", "type": "bond", "link-aggregation": {"mode": "lacp-fast", "port": ["e1"]}}),
     "link-aggregation.mode 'lacp-fast' is not a bond mode; use one of balance-rr, active-backup"),
    ("a bridge block under ipv4", state({"name": "br1", "type": "linux-bridge", "ipv4": {"enabled": False, "bridge": {"port": []}}}),
     "interfaces[0] 'br1': 'bridge' does not go under ipv4: it belongs under the interface (type linux-bridge), beside ipv4"),
    ("an address at the interface level", state({"name": "eth1", "type": "ethernet", "address": [{"ip": "192.0.2.5"}]}),
     "'address' does not go under an interface: it belongs under ipv4 or ipv6"),
    ("mtu under link-aggregation", state({"name": "bond1", "type": "bond", "link-aggregation": {
        "mode": "active-backup", "port": ["e1"], "mtu": 9000}}), "'mtu' does not go under link-aggregation: it belongs under the interface"),
    ("miimon not a number", state({"name": "bond1", "type": "bond", "link-aggregation": {
        "mode": "active-backup", "port": ["e1"], "options": {"miimon": "often"}}}), "options.miimon 'often' must be a number"),
    ("vlan id 0", state({"name": "v0", "type": "vlan", "vlan": {"base-iface": "eth1", "id": 0}}), "'v0': vlan.id 0 is outside 1-4094"),
    ("vlan id 4095", state({"name": "v1", "type": "vlan", "vlan": {"base-iface": "eth1", "id": 4095}}), "vlan.id 4095 is outside 1-4094"),
    ("vlan without base", state({"name": "v1", "type": "vlan", "vlan": {"id": 5}}), "vlan.base-iface is missing"),
    ("two interfaces with one name", state(BRIDGE_ON_BOND, BOND_ALB, dict(BRIDGE_ON_BOND)),
     "interfaces[2] 'br1': another interface is also named 'br1' (interfaces[0])"),
    ("stp directly under bridge", state({"name": "br1", "type": "linux-bridge", "bridge": {"stp": {"enabled": False}}}),
     "bridge.stp is a bridge option: put it under bridge.options.stp"),
    ("a port in two controllers", state(BOND_ALB, {"name": "bond2", "type": "bond", "link-aggregation": {
        "mode": "active-backup", "port": ["eth3"]}}), "port 'eth3' is already a port of 'bond1'"),
    ("type settings on the wrong type", state({"name": "eth1", "type": "ethernet", "bridge": {"port": []}}),
     "'bridge' belongs to a linux-bridge interface, not a ethernet"),
    ("mtu too small", state({"name": "eth1", "type": "ethernet", "mtu": 40}), "mtu 40 is outside 68-65535"),
    ("name too long", state({"name": "a-very-long-bridge", "type": "linux-bridge"}), "name is 18 characters; Linux allows 15"),
    ("unsupported type", state({"name": "ovs0", "type": "ovs-bridge"}), "type 'ovs-bridge' is not supported"),
    ("address with dhcp", state({"name": "eth1", "type": "ethernet", "ipv4": {"enabled": True, "dhcp": True, "address": [
        {"ip": "192.0.2.5", "prefix-length": 24}]}}), "has static addresses and dhcp/autoconf"),
    ("bad ip", state({"name": "eth1", "type": "ethernet", "ipv4": {"enabled": True, "address": [
        {"ip": "192.0.2.500", "prefix-length": 24}]}}), "ipv4.address[0].ip '192.0.2.500' is not an IP address"),
    ("v6 address under ipv4", state({"name": "eth1", "type": "ethernet", "ipv4": {"enabled": True, "address": [
        {"ip": "2001:db8::1", "prefix-length": 64}]}}), "is an IPv6 address; put it under ipv6"),
    ("prefix out of range", state({"name": "eth1", "type": "ethernet", "ipv4": {"enabled": True, "address": [
        {"ip": "192.0.2.5", "prefix-length": 33}]}}), "prefix-length 33 is outside 0-32"),
    ("route to a bad network", state(routes={"config": [{"destination": "10.0.0.300/8"}]}), "destination '10.0.0.300/8' is not a network"),
    ("dns server not an address", state(**{"dns-resolver": {"config": {"server": ["dns.example.com"]}}}),
     "server 'dns.example.com' is not an IP address"),
    ("a top-level key not supported", state(ovs_db={}), "'ovs_db' is not supported here"),
    ("a port set absent in the same state", state(BOND_ALB, {"name": "eth2", "state": "absent"}),
     "port 'eth2' is set absent in the same state"),
    ("vlan tag out of range on a bridge port", state({"name": "br1", "type": "linux-bridge", "bridge": {
        "port": [{"name": "eth1", "vlan": {"mode": "access", "tag": 5000}}]}}), "vlan.tag 5000 is outside 1-4094"),
]


@pytest.mark.parametrize("name, desired, message", BAD, ids=[b[0] for b in BAD])
def test_bad_names_interface_field_and_fix(name, desired, message):
    with pytest.raises(InvalidInput) as err:
        validate_desired_state(desired)
    assert message in err.value.message


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidInput) as err:
        validate_desired_state(state({"name": "v1", "type": "vlan", "vlan": {"base-iface": "eth1", "id": 0}},
                                     {"name": "bond1", "type": "bond", "link-aggregation": {"mode": "x"}}))
    assert len(err.value.details["problems"]) == 3


def test_ports_must_exist_where_applied_when_known():
    desired = state(BOND_ALB, BRIDGE_ON_BOND)
    assert validate_desired_state(desired, known_interfaces={"eth0", "eth2", "eth3"}) == ["bond1", "br1"]
    with pytest.raises(InvalidInput, match="port 'eth3' is not defined in this state and does not exist on the target"):
        validate_desired_state(desired, known_interfaces={"eth0", "eth2"})


def test_normalize_writes_the_aliases_as_nmstate_reports_them_and_leaves_the_input_alone():
    given = state({"name": "bond0", "type": "bond", "bond": {"mode": "4", "ports": ["eth0"]}},
                  {"name": "br0", "type": "linux-bridge", "bridge": {"ports": [{"name": "bond0"}]}})
    out, warnings = normalize_desired_state(given)
    assert out["interfaces"][0] == {"name": "bond0", "type": "bond", "link-aggregation": {"mode": "802.3ad", "port": ["eth0"]}}
    assert out["interfaces"][1]["bridge"] == {"port": [{"name": "bond0"}]}
    assert warnings == [] and "bond" in given["interfaces"][0]


def test_slaves_is_rewritten_only_when_asked_and_then_with_a_warning():
    given = state({"name": "bond0", "type": "bond", "link-aggregation": {"mode": "active-backup", "slaves": ["eth0", "eth1"]}})
    kept, warnings = normalize_desired_state(given)
    assert kept == given and warnings == []
    with pytest.raises(InvalidInput, match="rename it to 'port'"):
        validate_desired_state(kept)
    out, warnings = normalize_desired_state(given, rewrite_removed=True)
    assert out["interfaces"][0]["link-aggregation"] == {"mode": "active-backup", "port": ["eth0", "eth1"]}
    assert warnings == ["interfaces[0] 'bond0': link-aggregation.slaves rewritten to port (nmstate 2.2.25 removed slaves); "
                        "write port in the source"]
    assert validate_desired_state(out) == ["bond0"]
