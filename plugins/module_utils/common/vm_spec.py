# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The neutral VM spec: one description of a VM that discovery produces and the libvirt and
KubeVirt renderers consume. The schema is documented in docs/vm_spec.md; this builder is the one
place that produces it, so every producer emits the same keys in the same shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    return state in ("started", "stopped", "restarted") and isinstance(spec, dict) and set(spec) <= {"name", "power_state"}
