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
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, merge_patch, true_condition
from ansible_collections.vmshift.virt.plugins.module_utils.kubevirt.vm_manifest import (
    API_VERSION,
    managed,
    render,
    run_strategy_of,
    validate,
)

KIND = "VirtualMachine"
RUNNING = ("Always", "RerunOnFailure")


class KubevirtVmService(VmService):
    def __init__(self, client, params, check_mode, waiter=None):
        super(KubevirtVmService, self).__init__(client, params, check_mode, waiter)
        self.namespace = params["namespace"]

    def get(self):
        return self.client.get(API_VERSION, KIND, self.name, self.namespace)

    def vmi_uid(self):
        vmi = self.client.get(API_VERSION, "VirtualMachineInstance", self.name, self.namespace)
        return ((vmi or {}).get("metadata") or {}).get("uid")

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
            return self.power(current, state, want_running, managed(current))
        desired = render(self.spec, self.namespace, self.params.get("storage_class"), self.params["access_mode"],
                         self.params.get("instancetype"), self.params.get("preference"),
                         "Always" if want_running else "Halted")
        before = managed(current) if current else {}
        if current is None:
            self.actions.append("create VirtualMachine")
            if not self.check_mode:
                self.client.create(desired)
            return self.finish(want_running, None, before, desired)
        patch = merge_patch(managed(current), managed(desired), server_fields=True)
        if patch:
            self.actions.append("update VirtualMachine")
            if not self.check_mode:
                current = self.client.patch(API_VERSION, KIND, self.name, self.namespace, patch)
        return self.power(current, state, want_running, before, desired)

    def power(self, current, state, want_running, before, desired=None):
        """Start, stop or restart through the subresources, as needed; then wait."""
        running_now = run_strategy_of(current) in RUNNING
        old_vmi = None
        if state == "restarted" and running_now:
            old_vmi = self.vmi_uid()
            self.subresource("restart")
        elif want_running and not running_now:
            self.subresource("start")
        elif not want_running and running_now:
            self.subresource("stop")
        return self.finish(want_running, old_vmi, before, desired or current)

    def finish(self, want_running, old_vmi, before, desired):
        waited = self.wait(want_running, old_vmi)
        final = self.get()  # a read: in check mode it shows what is on the server now
        after = managed(desired) if self.check_mode else managed(final or desired)
        return {"changed": bool(self.actions), "actions": self.actions, "diff": {"before": before, "after": after},
                "vm": final or desired, "wait": waited}

    def wait(self, want_running, old_vmi):
        if not self.params["wait"] or self.check_mode:
            return None
        agent = self.params["wait_for_agent"]

        def probe():
            vm = self.get()
            uid = self.vmi_uid() if old_vmi else None
            return vm, uid

        def done(value):
            vm, uid = value
            status = (vm or {}).get("status") or {}
            if not want_running:
                return status.get("printableStatus") == "Stopped"
            if old_vmi and uid in (None, old_vmi):
                return False  # the restart has not replaced the instance yet
            return bool(true_condition(vm, "Ready")) and (not agent or bool(true_condition(vm, "AgentConnected")))

        what = "VirtualMachine '%s/%s' to be %s" % (
            self.namespace, self.name, ("Ready with its guest agent connected" if agent else "Ready") if want_running else "Stopped")
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
        return {"changed": True, "actions": self.actions, "diff": {"before": managed(current), "after": {}},
                "vm": None, "wait": waited}


def ensure_vm(params, check_mode):
    check_spec(params["spec"], params["state"], lambda spec: validate(spec, params.get("instancetype")), KIND)
    return KubevirtVmService(KubeClient(params), params, check_mode).run()
