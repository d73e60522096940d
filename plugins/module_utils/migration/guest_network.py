# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's network configuration as its files say it, for each stack (ifupdown, NetworkManager keyfiles,
ifcfg, systemd-networkd, netplan): which interface names it configures, statically or not, and on which MAC
when it says. Pure functions over the files' text; guest.py reads the files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# Where each network stack keeps its configuration (directories are listed, files read).
NETWORK_FILES = (
    ("ifupdown", "/etc/network/interfaces", False),
    ("ifupdown", "/etc/network/interfaces.d", True),
    ("networkmanager", "/etc/NetworkManager/system-connections", True),
    ("ifcfg", "/etc/sysconfig/network-scripts", True),
    ("networkd", "/etc/systemd/network", True),
    ("netplan", "/etc/netplan", True),
)


def parse_ifupdown(text):
    """Interfaces of an /etc/network/interfaces file: [{name, static, addresses}], loopback left out."""
    found, current = [], None
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "iface" and len(words) >= 4:
            current = None
            if words[1] != "lo":
                current = {"name": words[1], "static": words[3] == "static", "addresses": []}
                found.append(current)
        elif words[0] in ("auto", "allow-hotplug", "mapping", "source", "source-directory"):
            current = None
        elif current is not None and words[0] == "address" and len(words) > 1:
            current["addresses"].append(words[1])
    return found


def _ini(text):
    sections, section = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = sections.setdefault(line[1:-1].strip(), {})
        elif "=" in line and section is not None:
            key, value = line.split("=", 1)
            section.setdefault(key.strip(), value.strip())
    return sections


def parse_nmconnection(text):
    conf = _ini(text)
    name = conf.get("connection", {}).get("interface-name")
    ipv4 = conf.get("ipv4", {})
    mac = conf.get("ethernet", {}).get("mac-address")
    if not name and not mac:
        return []
    addresses = [v.split(",")[0] for k, v in sorted(ipv4.items()) if re.match(r"^address\d*$", k)]
    return [{"name": name, "static": ipv4.get("method") == "manual", "addresses": addresses, "mac": mac}]


def parse_ifcfg(text):
    conf = {}
    for raw in text.splitlines():
        if "=" in raw and not raw.lstrip().startswith("#"):
            key, value = raw.split("=", 1)
            conf[key.strip()] = value.strip().strip("\"'")
    name = conf.get("DEVICE") or conf.get("NAME")
    if not name or name == "lo":
        return []
    return [{"name": name, "static": conf.get("BOOTPROTO", "none").lower() in ("none", "static"),
             "addresses": [conf["IPADDR"]] if conf.get("IPADDR") else [], "mac": conf.get("HWADDR")}]


def parse_networkd(text):
    conf = _ini(text)
    match = conf.get("Match", {})
    names = match.get("Name", "").split()
    if len(names) != 1 or any(c in names[0] for c in "*?["):
        return []  # a pattern, or by MAC only: it follows the NIC wherever it lands
    network = conf.get("Network", {})
    address = network.get("Address") or conf.get("Address", {}).get("Address")
    return [{"name": names[0], "static": bool(address), "addresses": [address] if address else [],
             "mac": match.get("MACAddress")}]


def parse_netplan(text):
    """The ethernets of a netplan file, read line by line (no YAML library where modules run): a name at
    the second level under ``ethernets:``, its ``addresses``, and a ``match: macaddress``."""
    found, in_ethernets, current, indent = [], False, None, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        word = line.strip()
        if word == "ethernets:":
            in_ethernets, indent = True, None
            continue
        if not in_ethernets:
            continue
        if indent is None:
            indent = depth
        if depth < indent:
            in_ethernets, current = False, None
            continue
        if depth == indent and word.endswith(":"):
            current = {"name": word[:-1].strip("\"'"), "static": False, "addresses": [], "mac": None}
            found.append(current)
        elif current is not None:
            if word.startswith("macaddress:"):
                current["mac"] = word.split(":", 1)[1].strip().strip("\"'")
            elif word.startswith("addresses:"):
                current["addresses"].extend(a.strip(" \"'") for a in word.split(":", 1)[1].strip(" []").split(",") if a.strip())
            elif word.startswith("- ") and re.match(r"^- ['\"]?\d+\.\d+\.\d+\.\d+/\d+", word):
                current["addresses"].append(word[2:].strip(" \"'"))
    for iface in found:
        iface["static"] = bool(iface["addresses"])
    return found


PARSERS = {"ifupdown": parse_ifupdown, "networkmanager": parse_nmconnection, "ifcfg": parse_ifcfg,
           "networkd": parse_networkd, "netplan": parse_netplan}


def interfaces_of(files):
    """``files``: [(stack, path, text)] -> [{name, stack, static, addresses, mac, file}], by name."""
    found = []
    for stack, path, text in files:
        if stack == "ifcfg" and not os.path.basename(path).startswith("ifcfg-"):
            continue
        if stack == "networkd" and not path.endswith(".network"):
            continue
        for iface in PARSERS[stack](text):
            found.append(dict(iface, stack=stack, file=path, mac=(iface.get("mac") or None)))
    return found
