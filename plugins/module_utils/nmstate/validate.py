# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of an nmstate desired state, for the subset this collection supports (docs/nmstate.md):
ethernet, bond, linux-bridge and vlan interfaces, MTU, IPv4/IPv6, routes and DNS, in the upstream
YAML schema (https://nmstate.io/devel/yaml_api.html).

The rules follow nmstate 2.2 as its Rust types read a state (rust/src/lib/ifaces/*.rs): the bond settings
and options deny unknown fields, so ``slaves`` (an alias nmstate 2.2.25 removed) fails on current
clusters and hosts; ``bond`` is an alias of ``link-aggregation`` and ``ports`` of ``port``; a bond mode
may be given by its number or as ``lacp``; numeric fields (mtu, vlan id, prefix-length, bond and bridge
options) read numbers given as strings. ``normalize_desired_state`` writes the aliases the way nmstate
reports them (so the state compares with what a host reports) and, when asked, rewrites ``slaves``.

Pure: no host, no cluster. Every problem names the interface and the field and says the fix; all of
them are reported together, before anything is applied.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput

BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
# What else nmstate reads as a bond mode: its number (as the kernel numbers them), and lacp.
BOND_MODE_ALIASES = dict([(str(i), mode) for i, mode in enumerate(BOND_MODES)] + [("lacp", "802.3ad")])
TYPES = ("ethernet", "bond", "linux-bridge", "vlan")
STATES = ("up", "down", "absent")
TOP_KEYS = ("interfaces", "routes", "dns-resolver")
COMMON_KEYS = ("name", "type", "state", "mtu", "ipv4", "ipv6", "description", "mac-address", "profile-name",
               "identifier", "controller", "lldp", "ethtool", "accept-all-mac-addresses", "copy-mac-from")
TYPE_KEYS = {"ethernet": ("ethernet",), "bond": ("link-aggregation", "bond"), "linux-bridge": ("bridge",), "vlan": ("vlan",)}
# Options that belong one level down, and where they go.
BOND_OPTIONS = ("miimon", "updelay", "downdelay", "arp_interval", "arp_ip_target", "primary", "lacp_rate",
                "xmit_hash_policy", "ad_select", "fail_over_mac", "all_slaves_active", "use_carrier")
STP_KEYS = ("enabled", "forward-delay", "hello-time", "max-age", "priority")
BRIDGE_OPTIONS = ("stp", "mac-ageing-time", "group-forward-mask", "hash-max", "multicast-snooping", "vlan-protocol")
IFNAMSIZ = 15
# Where a block or setting found in the wrong place belongs.
BELONGS = {"bridge": "the interface (type linux-bridge), beside ipv4", "link-aggregation": "the interface (type bond), beside ipv4",
           "bond": "the interface (type bond), as link-aggregation", "vlan": "the interface (type vlan), beside ipv4",
           "mtu": "the interface, beside ipv4", "port": "link-aggregation or bridge",
           "address": "ipv4 or ipv6", "dhcp": "ipv4 or ipv6", "autoconf": "ipv6", "enabled": "ipv4 or ipv6",
           "ipv4": "the interface", "ipv6": "the interface", "options": "link-aggregation or bridge"}
SLAVES_FIX = ("'slaves' was removed in nmstate 2.2.25 (bond settings deny unknown fields, so current hosts and clusters "
              "refuse it): rename it to 'port', or set normalize: true to have it rewritten")


def _misplaced(key, here):
    """The message for a key that is not a setting of ``here``, saying where it belongs if it is known elsewhere."""
    if key in BELONGS:
        return "'%s' does not go under %s: it belongs under %s" % (key, here, BELONGS[key])
    return None


def normalize_desired_state(state, rewrite_removed=False):
    """Return (state, warnings): a copy written the way nmstate reports a state, so it compares with a
    host's or node's current state: ``bond`` as ``link-aggregation``, ``ports`` as ``port``, a bond mode
    by its name. ``rewrite_removed`` also rewrites ``slaves`` to ``port``, with a warning; otherwise it is
    left for validate_desired_state to refuse. Anything that is not a state is returned as it is."""
    if not isinstance(state, dict) or not isinstance(state.get("interfaces"), list):
        return state, []
    state = copy.deepcopy(state)
    warnings = []
    for i, iface in enumerate(state["interfaces"]):
        if not isinstance(iface, dict):
            continue
        if iface.get("type") == "bond" and "bond" in iface and "link-aggregation" not in iface:
            iface["link-aggregation"] = iface.pop("bond")
        for key in ("link-aggregation", "bridge"):
            config = iface.get(key)
            if not isinstance(config, dict):
                continue
            if "ports" in config and "port" not in config:
                config["port"] = config.pop("ports")
            if key == "link-aggregation" and rewrite_removed and "slaves" in config and "port" not in config:
                config["port"] = config.pop("slaves")
                warnings.append("interfaces[%d] '%s': link-aggregation.slaves rewritten to port (nmstate 2.2.25 removed "
                                "slaves); write port in the source" % (i, iface.get("name")))
            mode = config.get("mode") if key == "link-aggregation" else None
            if not isinstance(mode, bool) and str(mode) in BOND_MODE_ALIASES:
                config["mode"] = BOND_MODE_ALIASES[str(mode)]
    return state, warnings


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append("%s: %s" % (where, message))


def _int_like(value):
    """nmstate takes numbers as ints or numeric strings (miimon: '100')."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _ports(config, key, problems, where):
    """Port names of a bond's or bridge's settings ``config`` (under ``key``): ``port``; nmstate also reads ``ports``."""
    if "port" in config and "ports" in config:
        problems.add(where, "%s has both 'port' and its alias 'ports'; keep one (port)" % key)
    ports = config.get("port", config.get("ports"))
    if "slaves" in config:
        problems.add(where, "%s.%s" % (key, SLAVES_FIX))
        ports = config["slaves"] if ports is None else ports
    if ports is None:
        return None
    if not isinstance(ports, list):
        problems.add(where, "%s.port must be a list of interface names" % key)
        return []
    names = []
    for port in ports:
        name = port.get("name") if isinstance(port, dict) else port
        if not isinstance(name, str) or not name:
            problems.add(where, "%s.port has an entry without a name: %r" % (key, port))
            continue
        names.append(name)
    return names


def _check_ip(iface, family, problems, where):
    config = iface.get(family)
    if config is None:
        return
    if not isinstance(config, dict):
        problems.add(where, "%s must be a mapping (enabled, dhcp, address)" % family)
        return
    unknown = set(config) - {"enabled", "dhcp", "autoconf", "address", "dhcp-client-id", "dhcp-duid", "auto-dns",
                             "auto-gateway", "auto-routes", "auto-route-table-id", "auto-route-metric", "dhcp-send-hostname",
                             "dhcp-custom-hostname", "addr-gen-mode", "allow-extra-address", "token"}
    for key in sorted(unknown):
        problems.add(where, _misplaced(key, family) or "%s.%s is not an nmstate %s option (known: enabled, dhcp, address, ...)"
                     % (family, key, family))
    version = 4 if family == "ipv4" else 6
    addresses = config.get("address") or []
    if not isinstance(addresses, list):
        problems.add(where, "%s.address must be a list of {ip, prefix-length}" % family)
        return
    if addresses and (config.get("dhcp") or config.get("autoconf")):
        problems.add(where, "%s has static addresses and dhcp/autoconf: set dhcp: false to use the addresses, or "
                            "drop them" % family)
    if addresses and config.get("enabled") is False:
        problems.add(where, "%s is disabled but has addresses: set enabled: true" % family)
    for i, addr in enumerate(addresses):
        if not isinstance(addr, dict) or "ip" not in addr or "prefix-length" not in addr:
            problems.add(where, "%s.address[%d] needs ip and prefix-length, for example {ip: 192.0.2.10, "
                                "prefix-length: 24}" % (family, i))
            continue
        try:
            ip = ipaddress.ip_address(str(addr["ip"]))
        except ValueError:
            problems.add(where, "%s.address[%d].ip '%s' is not an IP address" % (family, i, addr["ip"]))
            continue
        if ip.version != version:
            problems.add(where, "%s.address[%d].ip '%s' is an IPv%d address; put it under ipv%d"
                                % (family, i, ip, ip.version, ip.version))
        prefix = _int_like(addr["prefix-length"])
        if prefix is None or not 0 <= prefix <= (32 if version == 4 else 128):
            problems.add(where, "%s.address[%d].prefix-length %r is outside 0-%d"
                                % (family, i, addr["prefix-length"], 32 if version == 4 else 128))


def _check_bond(iface, problems, where):
    if "bond" in iface and "link-aggregation" in iface:
        problems.add(where, "has both 'link-aggregation' and its alias 'bond'; keep one (link-aggregation)")
    config = iface.get("link-aggregation", iface.get("bond"))
    if not isinstance(config, dict):
        problems.add(where, "a bond needs link-aggregation: {mode: ..., port: [...]}")
        return None
    for key in sorted(set(config) & set(BOND_OPTIONS)):
        problems.add(where, "link-aggregation.%s is a bond option: put it under link-aggregation.options.%s" % (key, key))
    unknown = set(config) - {"mode", "port", "ports", "slaves", "options", "ports-config"} - set(BOND_OPTIONS)
    for key in sorted(unknown):
        problems.add(where, _misplaced(key, "link-aggregation") or
                     "link-aggregation.%s is not a bond setting (known: mode, port, options, ports-config)" % key)
    mode = config.get("mode")
    if mode not in BOND_MODES and (isinstance(mode, bool) or str(mode) not in BOND_MODE_ALIASES):
        problems.add(where, "link-aggregation.mode %r is not a bond mode; use one of %s (or its number 0-6)"
                     % (mode, ", ".join(BOND_MODES)))
    options = config.get("options") or {}
    if not isinstance(options, dict):
        problems.add(where, "link-aggregation.options must be a mapping, for example {miimon: 100}")
        options = {}
    for key in ("miimon", "updelay", "downdelay", "arp_interval"):
        if key in options and (_int_like(options[key]) is None or _int_like(options[key]) < 0):
            problems.add(where, "link-aggregation.options.%s %r must be a number of milliseconds" % (key, options[key]))
    ports = _ports(config, "link-aggregation", problems, where)
    if not ports and iface.get("state", "up") == "up":
        problems.add(where, "the bond has no port: list its NICs in link-aggregation.port")
    return ports or []


def _check_bridge(iface, problems, where):
    config = iface.get("bridge") or {}
    if not isinstance(config, dict):
        problems.add(where, "bridge must be a mapping: {options: {...}, port: [...]}")
        return []
    for key in sorted(set(config) & set(BRIDGE_OPTIONS)):
        problems.add(where, "bridge.%s is a bridge option: put it under bridge.options.%s" % (key, key))
    for key in sorted(set(config) - {"options", "port", "ports"} - set(BRIDGE_OPTIONS)):
        problems.add(where, _misplaced(key, "bridge") or "bridge.%s is not a linux-bridge setting (known: options, port)" % key)
    options = config.get("options") or {}
    stp = options.get("stp") if isinstance(options, dict) else None
    if stp is not None:
        if not isinstance(stp, dict):
            problems.add(where, "bridge.options.stp must be a mapping, for example {enabled: false}")
        else:
            for key in sorted(set(stp) - set(STP_KEYS)):
                problems.add(where, "bridge.options.stp.%s is not an STP option (known: %s)" % (key, ", ".join(STP_KEYS)))
            if "enabled" in stp and not isinstance(stp["enabled"], bool):
                problems.add(where, "bridge.options.stp.enabled must be true or false")
    for i, port in enumerate(config.get("port", config.get("ports")) or []):
        vlan = port.get("vlan") if isinstance(port, dict) else None
        if vlan:
            _check_port_vlan(vlan, problems, "%s bridge.port[%d]" % (where, i))
    return _ports(config, "bridge", problems, where) or []


def _check_port_vlan(vlan, problems, where):
    mode = vlan.get("mode")
    if mode not in ("access", "trunk"):
        problems.add(where, "vlan.mode %r must be access or trunk" % mode)
    if "tag" in vlan and not 1 <= (_int_like(vlan["tag"]) or 0) <= 4094:
        problems.add(where, "vlan.tag %r is outside 1-4094" % vlan["tag"])
    for tag in vlan.get("trunk-tags") or []:
        ids = [tag.get("id")] if "id" in tag else [(tag.get("id-range") or {}).get(k) for k in ("min", "max")]
        for vid in ids:
            if not 1 <= (_int_like(vid) or 0) <= 4094:
                problems.add(where, "vlan.trunk-tags id %r is outside 1-4094" % vid)


def _check_vlan(iface, problems, where):
    config = iface.get("vlan")
    if not isinstance(config, dict):
        problems.add(where, "a vlan needs vlan: {base-iface: <interface>, id: <1-4094>}")
        return None
    vid = _int_like(config.get("id"))
    if vid is None or not 1 <= vid <= 4094:
        problems.add(where, "vlan.id %r is outside 1-4094" % config.get("id"))
    base = config.get("base-iface")
    if not base:
        problems.add(where, "vlan.base-iface is missing: the interface the VLAN rides on")
    return base


def validate_desired_state(state, known_interfaces=None):
    """Raise InvalidInput listing every problem, or return the interface names the state defines.

    ``known_interfaces``: names that exist where the state will be applied (a host's current state,
    or the union over a policy's nodes); a port or base interface must be defined in the state or be
    known. None skips that check.
    """
    problems = Problems()
    if not isinstance(state, dict):
        raise InvalidInput("desired_state must be a mapping with interfaces (and optionally routes, dns-resolver)")
    for key in sorted(set(state) - set(TOP_KEYS)):
        problems.add("desired_state", "'%s' is not supported here (supported: %s)" % (key, ", ".join(TOP_KEYS)))
    interfaces = state.get("interfaces") or []
    if not isinstance(interfaces, list):
        raise InvalidInput("desired_state.interfaces must be a list")
    defined = {}
    references = []  # (where, referenced name, what)
    controller_of = {}
    for i, iface in enumerate(interfaces):
        name = iface.get("name") if isinstance(iface, dict) else None
        where = "interfaces[%d] '%s'" % (i, name) if name else "interfaces[%d]" % i
        if not name or not isinstance(name, str):
            problems.add(where, "name is missing")
            continue
        if len(name) > IFNAMSIZ:
            problems.add(where, "name is %d characters; Linux allows %d" % (len(name), IFNAMSIZ))
        if name in defined:
            problems.add(where, "another interface is also named '%s' (interfaces[%d]); give each one its own name"
                         % (name, defined[name]))
            continue
        defined[name] = i
        state_value = iface.get("state", "up")
        if state_value not in STATES:
            problems.add(where, "state %r must be one of %s" % (state_value, ", ".join(STATES)))
        kind = iface.get("type")
        if kind is None and state_value == "absent":
            continue
        if kind not in TYPES:
            problems.add(where, "type %r is not supported; use one of %s" % (kind, ", ".join(TYPES)))
            continue
        for other, keys in TYPE_KEYS.items():
            for key in keys:
                if key in iface and other != kind:
                    problems.add(where, "'%s' belongs to a %s interface, not a %s" % (key, other, kind))
        for key in sorted(set(iface) - set(COMMON_KEYS) - set(k for keys in TYPE_KEYS.values() for k in keys)):
            problems.add(where, _misplaced(key, "an interface") or "'%s' is not an interface setting here (see docs/nmstate.md)" % key)
        if "mtu" in iface and not 68 <= (_int_like(iface["mtu"]) or 0) <= 65535:
            problems.add(where, "mtu %r is outside 68-65535" % iface["mtu"])
        _check_ip(iface, "ipv4", problems, where)
        _check_ip(iface, "ipv6", problems, where)
        if state_value == "absent":
            continue
        ports = []
        if kind == "bond":
            ports = _check_bond(iface, problems, where)
        elif kind == "linux-bridge":
            ports = _check_bridge(iface, problems, where)
        elif kind == "vlan":
            base = _check_vlan(iface, problems, where)
            if base:
                references.append((where, base, "vlan.base-iface"))
        for port in ports:
            references.append((where, port, "port"))
            if port in controller_of and controller_of[port] != name:
                problems.add(where, "port '%s' is already a port of '%s'; an interface has one controller"
                             % (port, controller_of[port]))
            controller_of[port] = name
            if port == name:
                problems.add(where, "'%s' lists itself as a port" % name)
    absent = set(iface.get("name") for iface in interfaces if isinstance(iface, dict) and iface.get("state") == "absent")
    for where, ref, what in references:
        if ref in absent:
            problems.add(where, "%s '%s' is set absent in the same state; keep it or drop the reference" % (what, ref))
        elif ref not in defined and known_interfaces is not None and ref not in known_interfaces:
            problems.add(where, "%s '%s' is not defined in this state and does not exist on the target; define it "
                                "or fix the name" % (what, ref))
    _check_routes(state.get("routes"), set(defined) | set(known_interfaces or ()), known_interfaces is not None, problems)
    _check_dns(state.get("dns-resolver"), problems)
    if problems.items:
        raise InvalidInput("desired_state is not valid: " + "; ".join(problems.items), problems=problems.items)
    return sorted(defined)


def _check_routes(routes, names, check_names, problems):
    if routes is None:
        return
    config = routes.get("config") if isinstance(routes, dict) else None
    if not isinstance(config, list):
        problems.add("routes", "routes must be {config: [{destination, next-hop-interface, next-hop-address}]}")
        return
    for i, route in enumerate(config):
        where = "routes.config[%d]" % i
        if not isinstance(route, dict):
            problems.add(where, "must be a mapping")
            continue
        try:
            ipaddress.ip_network(str(route.get("destination")), strict=False)
        except ValueError:
            problems.add(where, "destination %r is not a network (for example 0.0.0.0/0 or 198.51.100.0/24)"
                         % route.get("destination"))
        if route.get("next-hop-address"):
            try:
                ipaddress.ip_address(str(route["next-hop-address"]))
            except ValueError:
                problems.add(where, "next-hop-address %r is not an IP address" % route["next-hop-address"])
        hop_iface = route.get("next-hop-interface")
        if hop_iface and check_names and hop_iface not in names:
            problems.add(where, "next-hop-interface '%s' is not defined and does not exist on the target" % hop_iface)


def _check_dns(dns, problems):
    if dns is None:
        return
    config = dns.get("config") if isinstance(dns, dict) else None
    if not isinstance(config, dict):
        problems.add("dns-resolver", "dns-resolver must be {config: {server: [...], search: [...]}}")
        return
    for server in config.get("server") or []:
        try:
            ipaddress.ip_address(str(server))
        except ValueError:
            problems.add("dns-resolver", "server %r is not an IP address" % server)
