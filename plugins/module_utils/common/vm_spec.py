# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The neutral VM spec: one description of a VM that discovery produces and the libvirt and
KubeVirt renderers consume. The schema is documented in docs/vm_spec.md; this builder is the one
place that produces it, so every producer emits the same keys in the same shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, NotFound, failed_to

SPEC_VERSION = 1


def neutral_spec(name, uuid=None, sockets=1, cores=1, threads=1, memory_mib=None, firmware="bios", secure_boot=False,
                 machine=None, disks=None, nics=None, cloud_init=None, power_state="running", labels=None,
                 guest_os=None, source=None):
    """Return the spec as a plain dict (see docs/vm_spec.md)."""
    return {
        "spec_version": SPEC_VERSION,
        "name": name,
        "uuid": uuid,
        "cpu": {"sockets": sockets, "cores": cores, "threads": threads},
        "memory_mib": memory_mib,
        "firmware": {"type": firmware, "secure_boot": bool(secure_boot)},
        "machine": machine,
        "disks": [dict({"bus": "virtio", "boot_order": i + 1 if i == 0 else None}, **d) for i, d in enumerate(disks or [])],
        "nics": [dict({"model": "virtio"}, **n) for n in (nics or [])],
        "cloud_init": cloud_init,
        "power_state": power_state,
        "labels": dict(labels or {}),
        "guest_os": guest_os,
        "source": source,
    }


POWER_VERBS = {"started": "start", "stopped": "stop", "restarted": "restart"}


def power_only(spec, state):
    """A spec of just a name (and power_state) with started/stopped/restarted changes only the power of
    an existing VM; anything more is a full spec to converge."""
    return state in POWER_VERBS and isinstance(spec, dict) and set(spec) <= {"name", "power_state"}


def wants_running(spec, state):
    """Whether the VM should run after this state: present follows the spec's power_state."""
    if state == "present":
        return (spec.get("power_state") or "running") == "running"
    return state in ("started", "restarted")


def require_name(spec, kind):
    if not isinstance(spec, dict) or not spec.get("name"):
        raise InvalidInput("spec.name is required: the %s name" % kind)
    if not isinstance(spec["name"], str):
        raise InvalidInput("spec.name must be a string, not %r" % (spec["name"],))
    return spec["name"]


def check_domain_name(name, field):
    """A libvirt domain name: it names files (the domain XML, NVRAM, volumes), so no '/', no control
    character and no leading or trailing space."""
    if not isinstance(name, str) or not name or len(name) > 200 or "/" in name or name != name.strip() \
            or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput("%s %r is not a valid domain name: use at most 200 characters, without '/', control "
                           "characters or leading and trailing spaces (for example web-01)" % (field, name))


_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def check_macs(nics, field="spec.nics"):
    """Each NIC's MAC (when given) is a unicast address of six colon-separated hex pairs, used once in the spec."""
    seen = {}
    for i, nic in enumerate(nics or []):
        mac = nic.get("mac") if isinstance(nic, dict) else None
        if mac is None:
            continue
        where = "%s[%d].mac" % (field, i)
        if not isinstance(mac, str) or not _MAC.match(mac) or mac == "00:00:00:00:00:00":
            raise InvalidInput("%s %r is not a MAC address: write six hex pairs with ':' (for example 52:54:00:12:34:56)"
                               % (where, mac))
        if int(mac[:2], 16) & 1:
            raise InvalidInput("%s %s is a multicast address; a NIC needs a unicast one (an even first octet, for "
                               "example 52:54:00:...)" % (where, mac))
        if mac.lower() in seen:
            raise InvalidInput("%s %s is also %s[%d].mac; give each NIC its own MAC" % (where, mac, field, seen[mac.lower()]))
        seen[mac.lower()] = i


def check_spec(spec, state, validate, kind):
    """Before any connection, so bad input changes nothing: removal and a power change need only the
    name; anything else is the target's full validation."""
    if state == "absent" or power_only(spec, state):
        require_name(spec, kind)
    else:
        validate(spec)


def missing_for_power(state, kind, name):
    """The error for a power change on a VM that does not exist."""
    return NotFound(failed_to(POWER_VERBS[state], kind, name, "it does not exist; give the full spec to create it"))
