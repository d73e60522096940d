# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nmstate_apply's service: nmstate on one KVM host, applied under a checkpoint and kept only if the
host can still reach its gateway (and the given targets).

    read the current state (nmstatectl show) -> validate -> diff (check mode stops here)
    -> roll back a checkpoint a killed run left -> apply --no-commit --timeout N
    -> probe -> commit, or roll back and fail with the probe results

NetworkManager rolls a checkpoint back by itself when its timeout passes, so even a run killed
between apply and commit cannot leave a host cut off for longer than ``checkpoint_timeout``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import tempfile
import time

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import reports_changes
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.validate import normalize_desired_state, validate_desired_state

MARKER = "checkpoint.json"


def _ipv4_view(config):
    if not config or not config.get("enabled", True):
        return {"enabled": False}
    view = {"enabled": True, "dhcp": bool(config.get("dhcp"))}
    if not view["dhcp"]:
        view["address"] = sorted("%s/%s" % (a.get("ip"), a.get("prefix-length")) for a in config.get("address") or [])
    return view


def _ports(config):
    return sorted(p.get("name") if isinstance(p, dict) else p for p in (config.get("port") or []))


def interface_view(iface, keys):
    """The comparable form of an interface, for the keys the desired state sets."""
    view = {}
    for key in keys:
        value = iface.get(key)
        if key in ("ipv4", "ipv6"):
            view[key] = _ipv4_view(value)
        elif key == "bridge":
            config = value or {}
            stp = ((config.get("options") or {}).get("stp") or {}).get("enabled")
            view[key] = {"stp": bool(stp), "port": _ports(config)}
        elif key == "link-aggregation":
            config = value or {}
            view[key] = {"mode": config.get("mode"), "port": _ports(config),
                         "options": dict((k, str(v)) for k, v in (config.get("options") or {}).items())}
        elif key in ("name", "type", "state", "mtu", "vlan"):
            view[key] = value
    return view


COMPARED = ("name", "type", "state", "mtu", "ipv4", "ipv6", "bridge", "link-aggregation", "vlan")


def state_diff(desired, current):
    """(changed, before, after): per interface the desired view and the current one, for the same keys."""
    now = dict((i.get("name"), i) for i in current.get("interfaces") or [])
    before, after = {}, {}
    for iface in desired.get("interfaces") or []:
        name = iface["name"]
        if iface.get("state") == "absent":
            if name in now:
                before[name], after[name] = {"state": now[name].get("state")}, {"state": "absent"}
            continue
        keys = [k for k in COMPARED if k in iface]
        want = interface_view(dict(iface, state=iface.get("state", "up")), keys + ["state"])
        have = interface_view(now[name], keys + ["state"]) if name in now else {}
        if want != have:
            before[name], after[name] = have, want
    routes_now = set((r.get("destination"), r.get("next-hop-interface"), r.get("next-hop-address") or "")
                     for r in (current.get("routes") or {}).get("config") or [])
    for route in ((desired.get("routes") or {}).get("config")) or []:
        key = (route.get("destination"), route.get("next-hop-interface"), route.get("next-hop-address") or "")
        present = key in routes_now
        if (route.get("state") == "absent") == present:
            label = "route %s" % " ".join(k for k in key if k)
            before[label], after[label] = ("present" if present else "absent"), ("absent" if present else "present")
    return bool(after), before, after


class HostNetwork:
    def __init__(self, params, check_mode, run=subprocess.run, clock=time.monotonic, sleep=time.sleep):
        self.params = params
        self.check_mode = check_mode
        self.run_cmd = run
        self.clock = clock
        self.sleep = sleep
        self.actions = []
        self.marker = os.path.join(params["state_dir"], MARKER)

    def cmd(self, argv, what, check=True):
        try:
            proc = self.run_cmd(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        except OSError as exc:
            raise OperationFailure(failed_to(what, "host network", None, "%s: %s; is nmstate installed (nmstatectl)?"
                                             % (argv[0], exc)))
        out = proc.stdout.decode("utf-8", "replace") if isinstance(proc.stdout, bytes) else proc.stdout
        err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else proc.stderr
        if check and proc.returncode != 0:
            raise OperationFailure(failed_to(what, "host network", None, "%s exited %d: %s"
                                             % (" ".join(argv[:2]), proc.returncode, (err or out).strip()[-800:])))
        return proc.returncode, out

    def nmstatectl(self, *args, **kwargs):
        return self.cmd([self.params["nmstatectl"]] + list(args), kwargs.pop("what", "run nmstatectl on"), **kwargs)

    def show(self):
        _rc, out = self.nmstatectl("show", "--json", what="read")
        try:
            return json.loads(out)
        except ValueError:
            raise OperationFailure(failed_to("read", "host network", None, "nmstatectl show --json did not print JSON"))

    def roll_back_stale(self):
        """A checkpoint a killed run left (its marker is still there): roll it back before anything else."""
        if not os.path.exists(self.marker):
            return
        self.actions.append("roll back the checkpoint a previous run left")
        if self.check_mode:
            return
        rc, _out = self.nmstatectl("rollback", what="roll back", check=False)
        if rc != 0:
            self.actions[-1] += " (already gone: NetworkManager's timeout rolled it back)"
        os.unlink(self.marker)

    def gateways(self):
        _rc, out = self.cmd(["ip", "-j", "route", "show", "default"], "read routes of", check=True)
        return sorted(set(r["gateway"] for r in json.loads(out or "[]") if r.get("gateway")))

    def probe(self, gateways):
        """Each target answers a ping within probe_timeout seconds: [{target, ok, seconds}]."""
        targets = gateways + [t for t in self.params["probe_targets"] or [] if t not in gateways]
        results = []
        deadline = self.clock() + self.params["probe_timeout"]
        for target in targets:
            started = self.clock()
            while True:
                rc, _out = self.cmd(["ping", "-c", "1", "-W", "1", target], "probe", check=False)
                if rc == 0 or self.clock() >= deadline:
                    break
                self.sleep(0.5)
            results.append({"target": target, "ok": rc == 0, "seconds": round(self.clock() - started, 1)})
        return results

    @reports_changes
    def run(self):
        params = self.params
        desired = params["desired_state"]
        self.roll_back_stale()
        current = self.show()
        validate_desired_state(desired, set(i.get("name") for i in current.get("interfaces") or []))
        changed, before, after = state_diff(desired, current)
        result = {"changed": changed or bool(self.actions), "diff": {"before": before, "after": after}, "probes": []}
        if not changed or self.check_mode:
            result["actions"] = self.actions + (["apply with checkpoint, probe, commit"] if changed else [])
            return result
        # The gateways the host has now are the ones it must still reach after the change (a change
        # that drops the default route must not pass for want of a gateway to ping).
        gateways = self.gateways() if params["probe_gateway"] else []
        os.makedirs(params["state_dir"], mode=0o700, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="desired-", suffix=".json", dir=params["state_dir"])
        with os.fdopen(fd, "w") as f:
            json.dump(desired, f)
        try:
            with open(self.marker, "w") as f:
                json.dump({"started": time.time()}, f)
            self.actions.append("apply with a %ds checkpoint" % params["checkpoint_timeout"])
            try:
                self.nmstatectl("apply", path, "--no-commit", "--timeout", str(params["checkpoint_timeout"]), what="apply")
            except OperationFailure as exc:
                self.nmstatectl("rollback", what="roll back", check=False)  # nmstate normally has, on a failed apply
                exc.details.update(changed=True, left=[])
                raise
            probes = self.probe(gateways)
            result["probes"] = probes
            if all(p["ok"] for p in probes):
                self.nmstatectl("commit", what="commit")
                self.actions.append("commit")
            else:
                self.nmstatectl("rollback", what="roll back")
                self.actions.append("roll back")
                lost = ", ".join(p["target"] for p in probes if not p["ok"])
                raise OperationFailure(failed_to("apply", "host network", None, "after the change the host could not "
                                                 "reach %s within %ds; the change was rolled back" % (lost, params["probe_timeout"])),
                                       probes=probes, actions=self.actions, diff=result["diff"], changed=True, left=[])
        finally:
            if os.path.exists(self.marker):
                os.unlink(self.marker)
            os.unlink(path)
        result["actions"] = self.actions
        return result


def apply_host_network(params, check_mode):
    params["desired_state"], warnings = normalize_desired_state(params["desired_state"], params["normalize"])
    validate_desired_state(params["desired_state"])  # shape errors before touching the host
    result = HostNetwork(params, check_mode).run()
    result["warnings"] = result.get("warnings", []) + warnings
    return result
