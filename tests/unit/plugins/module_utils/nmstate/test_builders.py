# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_network short form, the host diff, NAD configs and policy outcomes: pure builders."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import merge_patch
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.attachment import cni_config, nad_manifest, view
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.host import state_diff
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.policy import absent_state, node_outcomes
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.shorthand import render
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.validate import validate_desired_state

BONDS = [{"name": "bond1", "mode": "balance-alb", "miimon": 100, "ports": ["eth2", "eth3"], "mtu": 1450}]
BRIDGES = [{"name": "br1", "port": "bond1", "stp": False, "mtu": 1450}]
NETS = [{"name": "vlan-93", "bridge": "br1", "vlan": 93}]


def test_the_issue_layout_on_a_host():
    out = render(BONDS, BRIDGES, NETS, target="host")
    interfaces = out["desired_state"]["interfaces"]
    assert [i["name"] for i in interfaces] == ["bond1", "br1", "br1.93", "vlan-93"]
    assert interfaces[0]["link-aggregation"] == {"mode": "balance-alb", "port": ["eth2", "eth3"], "options": {"miimon": 100}}
    assert interfaces[0]["mtu"] == 1450
    assert interfaces[1]["bridge"] == {"options": {"stp": {"enabled": False}}, "port": [{"name": "bond1"}]}
    assert interfaces[2]["vlan"] == {"base-iface": "br1", "id": 93}
    assert out["vm_bridges"] == {"vlan-93": "vlan-93"}
    assert out["attachments"] == []
    validate_desired_state(out["desired_state"], known_interfaces={"eth2", "eth3"})


def test_the_issue_layout_on_a_cluster():
    out = render(BONDS, BRIDGES, NETS, target="cluster", namespace="wave1")
    assert [i["name"] for i in out["desired_state"]["interfaces"]] == ["bond1", "br1"]
    assert out["attachments"] == [{"name": "vlan-93", "namespace": "wave1", "bridge": "br1", "vlan": 93, "mtu": None,
                                   "macspoofchk": True, "cni": "cnv-bridge"}]


def test_absent_removes_top_down():
    out = render(BONDS, BRIDGES, NETS, target="host", state="absent")
    assert [(i["name"], i["state"]) for i in out["desired_state"]["interfaces"]] == [
        ("br1.93", "absent"), ("vlan-93", "absent"), ("br1", "absent"), ("bond1", "absent")]


def test_addresses_and_dhcp():
    out = render(bridges=[{"name": "br0", "ports": ["eth1"], "ipv4": {"address": "192.0.2.10/24"}},
                          {"name": "br2", "ports": ["eth2"], "ipv4": {"dhcp": True}}])
    assert out["desired_state"]["interfaces"][0]["ipv4"] == {"enabled": True, "dhcp": False,
                                                             "address": [{"ip": "192.0.2.10", "prefix-length": 24}]}
    assert out["desired_state"]["interfaces"][1]["ipv4"] == {"enabled": True, "dhcp": True}


@pytest.mark.parametrize("kwargs, message", [
    ({"bonds": [{"name": "bond1", "mode": "balance-alb", "port": ["eth1"]}]}, r"bond 'bond1' has unknown keys \['port'\]"),
    ({"vm_networks": [{"name": "v", "vlan": 3}]}, "vm_network 'v' needs bridge"),
    ({"vm_networks": [{"name": "v", "bridge": "br1", "vlan": 5000}]}, "vlan 5000 is outside 1-4094"),
    ({"bridges": [{"name": "br0", "ipv4": {"address": "192.0.2.10"}}]}, None),
    ({"bridges": [{"name": "br0", "ipv4": {"address": "300.0.2.10/24"}}]}, "is not an address with a prefix"),
])
def test_short_form_mistakes(kwargs, message):
    if message is None:
        render(**kwargs)  # a host address without a prefix is a /32, as ip_interface reads it
        return
    with pytest.raises(InvalidInput, match=message):
        render(**kwargs)


CURRENT = {"interfaces": [
    {"name": "eth1", "type": "ethernet", "state": "up", "mtu": 1500,
     "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "192.0.2.10", "prefix-length": 24}]}},
    {"name": "br1", "type": "linux-bridge", "state": "up", "mtu": 1500, "ipv4": {"enabled": False},
     "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth2"}]}}],
    "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-interface": "eth1", "next-hop-address": "192.0.2.1"}]}}


def test_state_diff_compares_only_what_the_desired_state_sets():
    bridge = {"port": [{"name": "eth2"}], "options": {"stp": {"enabled": False}}}
    same = {"interfaces": [{"name": "br1", "type": "linux-bridge", "bridge": bridge}],
            "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-interface": "eth1", "next-hop-address": "192.0.2.1"}]}}
    assert state_diff(same, CURRENT) == (False, {}, {})
    changed, before, after = state_diff({"interfaces": [{"name": "br1", "type": "linux-bridge", "mtu": 9000},
                                                        {"name": "eth1", "state": "absent"},
                                                        {"name": "br9", "type": "linux-bridge"}]}, CURRENT)
    assert changed
    assert before == {"br1": {"name": "br1", "type": "linux-bridge", "state": "up", "mtu": 1500},
                      "eth1": {"state": "up"}, "br9": {}}
    assert after["br1"]["mtu"] == 9000 and after["eth1"] == {"state": "absent"}


def test_nad_config_and_view():
    config = cni_config("vlan-93", "br1", vlan=93, mtu=1450)
    assert config == {"cniVersion": "0.3.1", "name": "vlan-93", "plugins": [
        {"type": "cnv-bridge", "bridge": "br1", "vlan": 93, "macspoofchk": True}, {"type": "tuning", "mtu": 1450}]}
    manifest = nad_manifest("vlan-93", "wave1", config, "br1")
    assert view(manifest) == {"resource_name": "bridge.network.kubevirt.io/br1", "config": config}


def test_merge_patch_sets_changes_and_nulls_removals():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1]}, {"a": 1, "b": {"c": 5}, "l": [2], "n": 0}) == {
        "b": {"c": 5, "d": None}, "l": [2], "n": 0}
    assert merge_patch({"a": 1}, {"a": 1}) == {}


def test_policy_outcomes_use_the_current_generation_only():
    def nnce(node, gen, kind, message=""):
        return {"metadata": {"name": "%s.p" % node, "labels": {"nmstate.io/node": node}},
                "status": {"policyGeneration": gen, "conditions": [{"type": kind, "status": "True", "message": message}]}}
    outcomes = node_outcomes([nnce("w0", 2, "Available", "ok"), nnce("w1", 2, "Failing", "eth3 not found"),
                              nnce("w2", 1, "Available")], 2)
    assert outcomes == {"w0": {"state": "Available", "message": "ok"}, "w1": {"state": "Failing", "message": "eth3 not found"}}
    assert absent_state({"interfaces": [{"name": "br1", "type": "linux-bridge"}]}) == {
        "interfaces": [{"name": "br1", "state": "absent"}]}
