# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nmstate_policy's service: a NodeNetworkConfigurationPolicy converged, its rollout waited for and
judged per node from the NodeNetworkConfigurationEnactments.

A rollout is done when the policy's conditions say Available or Degraded and every matching node's
enactment reports the policy's current generation (so the status read is about this change, not the
last one). Degraded fails the task with each failing node's message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import Service, reports_changes
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, conditions, merge_patch, true_condition
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.validate import normalize_desired_state, validate_desired_state

NNCP = ("nmstate.io/v1", "NodeNetworkConfigurationPolicy")
NNCE = ("nmstate.io/v1beta1", "NodeNetworkConfigurationEnactment")
NNS = ("nmstate.io/v1beta1", "NodeNetworkState")
NODE = ("v1", "Node")
POLICY_LABEL = "nmstate.io/policy"


def policy_spec(node_selector, max_unavailable, desired_state):
    spec = {"desiredState": desired_state}
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return spec


def absent_state(desired_state):
    """The same interfaces, set absent (to undo a policy before deleting it)."""
    return {"interfaces": [{"name": i["name"], "state": "absent"} for i in desired_state.get("interfaces") or []]}


def node_outcomes(enactments, generation):
    """{node: {state, message}} from the enactments of this policy generation."""
    out = {}
    for nnce in enactments:
        status = nnce.get("status") or {}
        if status.get("policyGeneration") != generation:
            continue
        node = (nnce.get("metadata", {}).get("labels") or {}).get("nmstate.io/node") or nnce["metadata"]["name"]
        for kind in ("Failing", "Aborted", "Available", "Progressing", "Pending"):
            cond = true_condition(nnce, kind)
            if cond:
                out[node] = {"state": kind, "message": cond.get("message") or cond.get("reason") or ""}
                break
        else:
            out[node] = {"state": "Unknown", "message": ""}
    return out


class PolicyService(Service):
    def __init__(self, client, params, check_mode, waiter=None):
        super(PolicyService, self).__init__(client, params, check_mode, waiter)
        self.name = params["name"]

    def matching_nodes(self, selector):
        nodes = self.client.list(*NODE)
        return sorted(n["metadata"]["name"] for n in nodes
                      if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items()))

    def node_states(self, nodes):
        """{node: {interface name: interface}} from the NodeNetworkStates."""
        states = {}
        for node in nodes:
            nns = self.client.get(NNS[0], NNS[1], node) or {}
            interfaces = (((nns.get("status") or {}).get("currentState") or {}).get("interfaces")) or []
            states[node] = dict((i.get("name"), i) for i in interfaces)
        return states

    @reports_changes
    def run(self):
        params = self.params
        current = self.client.get(NNCP[0], NNCP[1], self.name)
        if params["state"] == "absent":
            return self.remove(current)
        nodes = self.matching_nodes(params["node_selector"] or {})
        states = self.node_states(nodes)
        known = set(name for interfaces in states.values() for name in interfaces)
        names = validate_desired_state(params["desired_state"], known if nodes else None)
        desired = policy_spec(params["node_selector"], params["max_unavailable"], params["desired_state"])
        before = (current or {}).get("spec") or {}
        patch = merge_patch(before, desired) if current is not None else desired
        nodes_now = dict((node, [states[node][n] for n in names if n in states[node]]) for node in nodes)
        result = {"changed": bool(patch), "nodes": nodes, "diff": {"before": before, "after": desired}}
        if not nodes:
            result["warnings"] = ["no node matches nodeSelector %s: the policy applies to none" % (params["node_selector"] or {})]
        if self.check_mode:
            result.update(actions=["create policy" if current is None else "update policy"] if patch else [],
                          node_state=nodes_now)
            return result
        if current is None:
            self.actions.append("create policy")
            self.client.create({"apiVersion": NNCP[0], "kind": NNCP[1], "metadata": {"name": self.name}, "spec": desired})
        elif patch:
            self.actions.append("update policy")
            self.client.patch(NNCP[0], NNCP[1], self.name, None, {"spec": patch})
        result["actions"] = self.actions
        if params["wait"]:
            result["rollout"] = self.wait(len(nodes))
        return result

    def rollout(self):
        nncp = self.client.get(NNCP[0], NNCP[1], self.name) or {}
        generation = nncp.get("metadata", {}).get("generation")
        enactments = [e for e in self.client.list(*NNCE, label_selector="%s=%s" % (POLICY_LABEL, self.name))
                      if (e.get("metadata", {}).get("labels") or {}).get(POLICY_LABEL) == self.name]
        return nncp, node_outcomes(enactments, generation)

    def wait(self, node_count):
        def done(value):
            nncp, outcomes = value
            settled = true_condition(nncp, "Available") or true_condition(nncp, "Degraded")
            return settled and len(outcomes) >= node_count and all(o["state"] not in ("Progressing", "Pending")
                                                                   for o in outcomes.values())
        _ok, (nncp, outcomes), elapsed = self.waiter.wait(
            self.rollout, done, self.params["wait_timeout"], "the rollout of policy '%s' (Available or Degraded)" % self.name,
            interval=1.0)
        summary = {"seconds": round(elapsed, 1), "nodes": outcomes,
                   "conditions": dict((c.get("type"), c.get("status")) for c in conditions(nncp))}
        degraded = true_condition(nncp, "Degraded")
        if degraded:
            failing = ["%s: %s" % (node, o["message"]) for node, o in sorted(outcomes.items()) if o["state"] in ("Failing", "Aborted")]
            raise OperationFailure(failed_to("roll out", "policy", self.name, "Degraded (%s); %s" % (
                degraded.get("message") or "", "; ".join(failing) or "no node reported why")),
                rollout=summary, actions=self.actions, changed=bool(self.actions))
        return summary

    def remove(self, current):
        if current is None:
            return {"changed": False, "actions": [], "diff": {"before": {}, "after": {}}}
        before = current.get("spec") or {}
        if self.params["remove_interfaces"]:
            undo = absent_state(before.get("desiredState") or {})
            self.actions.append("apply interfaces absent")
            if not self.check_mode:
                self.client.patch(NNCP[0], NNCP[1], self.name, None, {"spec": {"desiredState": undo}})
                self.wait(len(self.matching_nodes(before.get("nodeSelector") or {})))
        self.actions.append("delete policy")
        if not self.check_mode:
            self.client.delete(NNCP[0], NNCP[1], self.name)
        return {"changed": True, "actions": self.actions, "diff": {"before": before, "after": {}}}


def ensure_policy(params, check_mode):
    warnings = []
    if params["state"] == "present":
        params["desired_state"], warnings = normalize_desired_state(params["desired_state"], params["normalize"])
        validate_desired_state(params["desired_state"])  # shape errors before any connection
    result = PolicyService(KubeClient(params), params, check_mode).run()
    result["warnings"] = result.get("warnings", []) + warnings
    return result
