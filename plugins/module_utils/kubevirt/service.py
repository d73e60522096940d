# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubevirt_vm's service: validate, converge the VirtualMachine, power it through the
subresources, wait for it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import (
    check_spec,
    missing_for_power,
    power_only,
    wants_running,
)
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import VmService, reports_changes
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, condition, merge_patch, true_condition
from ansible_collections.vmshift.virt.plugins.module_utils.kubevirt.vm_manifest import (
    API_VERSION,
    INSTANCETYPE_KINDS,
    PREFERENCE_KINDS,
    field_path,
    hide,
    managed,
    reference,
    render,
    run_strategy_of,
    validate,
)

KIND = "VirtualMachine"
# Strategies under which KubeVirt itself keeps the VM running; under Manual, whether it runs is its instance's.
RUNNING = ("Always", "RerunOnFailure", "Once")


class KubevirtVmService(VmService):
    def __init__(self, client, params, check_mode, waiter=None):
        super(KubevirtVmService, self).__init__(client, params, check_mode, waiter)
        self.namespace = params["namespace"]
        self.hidden = [field_path(f) for f in params["hidden_fields"]]
        self.strategy = params["run_strategy"]

    def get(self):
        return self.client.get(API_VERSION, KIND, self.name, self.namespace)

    def vmi_uid(self):
        vmi = self.client.get(API_VERSION, "VirtualMachineInstance", self.name, self.namespace)
        return ((vmi or {}).get("metadata") or {}).get("uid")

    def set_run_strategy(self, strategy):
        """A merge patch of spec.runStrategy: how KubeVirt changes a strategy the subresources do not give."""
        self.actions.append("set runStrategy %s" % strategy)
        if not self.check_mode:
            self.client.patch(API_VERSION, KIND, self.name, self.namespace, {"spec": {"runStrategy": strategy}})

    def subresource(self, action):
        self.actions.append("%s VirtualMachine" % action)
        if self.check_mode:
            return
        path = "/apis/subresources.kubevirt.io/v1/namespaces/%s/virtualmachines/%s/%s" % (self.namespace, self.name, action)
        self.client.put_subresource(path, KIND, self.name)

    @reports_changes
    def run(self):
        state = self.params["state"]
        current = self.get()
        if state == "absent":
            return self.remove(current)
        want_running = wants_running(self.spec, state)
        if power_only(self.spec, state):
            if current is None:
                raise missing_for_power(state, KIND, "%s/%s" % (self.namespace, self.name))
            return self.power(current, state, want_running, self.managed(current))
        manual = self.strategy == "Manual"
        desired = render(self.spec, self.namespace, self.params.get("storage_class"), self.params["access_mode"],
                         self.params.get("instancetype"), self.params.get("preference"),
                         "Manual" if manual else self.strategy if want_running else "Halted")
        before = self.managed(current) if current else {}
        if current is None:
            self.actions.append("create VirtualMachine")
            if not self.check_mode:
                self.client.create(desired)
            if manual and want_running:
                self.subresource("start")  # a Manual VM starts only when asked
            return self.finish(want_running, None, before, desired)
        patch = merge_patch(self.managed(current), self.managed(desired), server_fields=True)
        if patch:
            self.actions.append("update VirtualMachine")
            if not self.check_mode:
                current = self.client.patch(API_VERSION, KIND, self.name, self.namespace, patch)
        return self.power(current, state, want_running, before, desired)

    def managed(self, obj):
        return managed(obj, self.hidden)

    def power(self, current, state, want_running, before, desired=None):
        """Bring the power and runStrategy to what is asked: the start, stop and restart subresources where
        KubeVirt gives the change that way (Halted to Always and back, and every change of a Manual VM), a patch
        of runStrategy where it does not (RerunOnFailure, or a change of strategy); then wait."""
        now = run_strategy_of(current)
        if self.strategy == "Manual" and now != "Manual":
            self.set_run_strategy("Manual")  # keeps the instance as it is, running or not
            now = "Manual"
        running_now = self.vmi_uid() is not None if now == "Manual" else now in RUNNING
        old_vmi = None
        if state == "restarted" and running_now:
            old_vmi = self.vmi_uid()
            self.subresource("restart")
        elif want_running and not running_now and (self.strategy == "Manual" or (now, self.strategy) == ("Halted", "Always")):
            self.subresource("start")
        elif want_running and now != self.strategy:
            self.set_run_strategy(self.strategy)  # virt-controller starts the VM, or keeps it running
        elif not want_running and running_now and (self.strategy == "Manual" or now != "Manual"):
            self.subresource("stop")  # Halted afterwards, or still Manual
        elif not want_running and self.strategy != "Manual" and now != "Halted":
            self.set_run_strategy("Halted")  # a Manual VM that should now be Halted: virt-controller stops it
        return self.finish(want_running, old_vmi, before, desired or current)

    def finish(self, want_running, old_vmi, before, desired):
        waited = self.wait(want_running, old_vmi)
        final = self.get()  # a read: in check mode it shows what is on the server now
        after = self.managed(desired) if self.check_mode else self.managed(final or desired)
        return {"changed": bool(self.actions), "actions": self.actions, "diff": {"before": before, "after": after},
                "vm": hide(final or desired, self.hidden), "wait": waited}

    def wait(self, want_running, old_vmi):
        if not self.params["wait"] or self.check_mode:
            return None
        agent = self.params["wait_for_agent"]

        def probe():
            vm = self.get()
            uid = self.vmi_uid() if old_vmi else None
            return vm, uid

        wanted = self.params.get("wait_condition")

        def done(value):
            vm, uid = value
            if old_vmi and uid in (None, old_vmi):
                return False  # the restart has not replaced the instance yet
            if wanted:
                return bool(condition(vm, wanted["type"], wanted["status"], wanted.get("reason")))
            status = (vm or {}).get("status") or {}
            if not want_running:
                return status.get("printableStatus") == "Stopped"
            return bool(true_condition(vm, "Ready")) and (not agent or bool(true_condition(vm, "AgentConnected")))

        if wanted:
            what = "VirtualMachine '%s/%s' to have condition %s=%s%s" % (
                self.namespace, self.name, wanted["type"], wanted["status"],
                " (reason %s)" % wanted["reason"] if wanted.get("reason") else "")
        else:
            what = "VirtualMachine '%s/%s' to be %s" % (self.namespace, self.name, (
                "Ready with its guest agent connected" if agent else "Ready") if want_running else "Stopped")
        dummy, value, elapsed = self.waiter.wait(probe, done, self.params["wait_timeout"], what, interval=1.0)
        return {"printable_status": ((value[0] or {}).get("status") or {}).get("printableStatus"),
                "seconds": round(elapsed, 1)}

    def remove(self, current):
        if current is None:
            return {"changed": False, "actions": [], "diff": {"before": {}, "after": {}}, "vm": None, "wait": None}
        self.actions.append("delete VirtualMachine")
        waited = None
        if not self.check_mode:
            self.client.delete(API_VERSION, KIND, self.name, self.namespace)
            if self.params["wait"]:
                dummy, dummy2, elapsed = self.waiter.wait(
                    self.get, lambda vm: vm is None, self.params["wait_timeout"],
                    "VirtualMachine '%s/%s' to be deleted" % (self.namespace, self.name), interval=1.0)
                waited = {"seconds": round(elapsed, 1)}
        return {"changed": True, "actions": self.actions, "diff": {"before": self.managed(current), "after": {}},
                "vm": None, "wait": waited}


def ensure_vm(params, check_mode):
    def check(spec):
        validate(spec, params.get("instancetype"))
        reference(params.get("instancetype"), "instancetype", INSTANCETYPE_KINDS)
        reference(params.get("preference"), "preference", PREFERENCE_KINDS)
    check_spec(params["spec"], params["state"], check, KIND)
    return KubevirtVmService(KubeClient(params), params, check_mode).run()
