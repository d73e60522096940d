# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mtv_plan's service: one wave to OpenShift Virtualization through MTV (Forklift).

    provider Secret + vSphere Provider (Ready) -> NetworkMap + StorageMap (Ready) -> Plan (Ready:
    MTV validated it) -> Migration -> per-VM pipeline progress -> Succeeded, or Failed with each VM's
    reason. A rerun of a plan that succeeded changes nothing; a rerun after a failure starts a new
    Migration of the same plan, which MTV runs for the VMs not yet migrated. ``state: canceled``
    cancels the running Migration's VMs.

Builders are pure (manifests, progress); the service only reads, creates, patches and waits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import Service, reports_changes
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, conditions, merge_patch, true_condition

API = "forklift.konveyor.io/v1beta1"
DESTINATION = "host"  # the OpenShift cluster MTV runs on: MTV's own provider of that name
HOOK_STEPS = {"pre": "PreHook", "post": "PostHook"}


def secret_manifest(name, namespace, url, username, password, ca_data=None):
    data = {"user": username, "password": password, "url": url}
    if ca_data:
        data["cacert"] = ca_data
    else:
        data["insecureSkipVerify"] = "true"
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": {"createdForProviderType": "vsphere"}},
            "data": dict((k, base64.b64encode(v.encode("utf-8")).decode("ascii")) for k, v in data.items())}


def forklift_object(kind, name, namespace, spec):
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def provider_spec(url, secret, namespace):
    return {"type": "vsphere", "url": url, "secret": {"name": secret, "namespace": namespace}}


def pair(source, namespace):
    return {"source": {"name": source, "namespace": namespace}, "destination": {"name": DESTINATION, "namespace": namespace}}


def network_map_spec(provider, namespace, network_map):
    entries = []
    for port_group, target in sorted(network_map.items()):
        if target == "pod":
            destination = {"type": "pod"}
        else:
            nad_ns, _sep, nad = target.rpartition("/")
            destination = {"type": "multus", "name": nad, "namespace": nad_ns or namespace}
        entries.append({"source": {"name": port_group}, "destination": destination})
    return {"provider": pair(provider, namespace), "map": entries}


def storage_map_spec(provider, namespace, storage_map):
    return {"provider": pair(provider, namespace),
            "map": [{"source": {"name": ds}, "destination": {"storageClass": sc}} for ds, sc in sorted(storage_map.items())]}


def plan_spec(provider, namespace, name, target_namespace, vms, options, hooks=()):
    """The Plan's spec. ``options``: type (cold, warm, live), preserve_static_ips, target_power_state,
    migrate_shared_disks, skip_guest_conversion, transfer_network ('namespace/name' or a name in the target
    namespace). A field is written only where it differs from MTV's own default, so a Plan compares the same
    on MTV releases that do not know it. ``hooks``: the names of the plan's Hooks by step (pre, post)."""
    kind = options.get("type") or "cold"
    spec = {"provider": pair(provider, namespace), "targetNamespace": target_namespace, "type": kind,
            "map": {"network": {"name": name + "-network", "namespace": namespace},
                    "storage": {"name": name + "-storage", "namespace": namespace}},
            "vms": []}
    if kind == "warm":
        spec["warm"] = True  # MTV releases before spec.type read only spec.warm (deprecated, superseded by type)
    for key, field, default in (("preserve_static_ips", "preserveStaticIPs", False),
                                ("migrate_shared_disks", "migrateSharedDisks", True),
                                ("skip_guest_conversion", "skipGuestConversion", False)):
        if options.get(key) is not None and bool(options[key]) != default:
            spec[field] = bool(options[key])
    if options.get("target_power_state") not in (None, "auto"):
        spec["targetPowerState"] = options["target_power_state"]
    if options.get("transfer_network"):
        nad_ns, _sep, nad = options["transfer_network"].rpartition("/")
        spec["transferNetwork"] = {"name": nad, "namespace": nad_ns or target_namespace}
    refs = [{"step": HOOK_STEPS[step], "hook": {"name": hook, "namespace": namespace}} for step, hook in sorted(dict(hooks).items())]
    for vm in vms:
        entry = dict((k, v) for k, v in vm.items() if k in ("id", "name"))
        if refs:
            entry["hooks"] = refs
        spec["vms"].append(entry)
    return spec


def hook_name(plan, step):
    return "%s-%s" % (plan, step)


def hook_manifest(plan, namespace, hook):
    """A Hook: an image running a playbook in the cluster, or an AAP job template MTV launches."""
    spec = {}
    if hook.get("aap"):
        aap = hook["aap"]
        spec["aap"] = {"jobTemplateId": int(aap["job_template_id"])}
        if aap.get("url"):
            spec["aap"]["url"] = aap["url"]
        if aap.get("token_secret"):
            spec["aap"]["tokenSecret"] = {"name": aap["token_secret"], "namespace": namespace}
        if aap.get("timeout"):
            spec["aap"]["timeout"] = int(aap["timeout"])
    else:
        spec["image"] = hook["image"]
        if hook.get("playbook"):
            spec["playbook"] = base64.b64encode(hook["playbook"].encode("utf-8")).decode("ascii")
    if hook.get("service_account"):
        spec["serviceAccount"] = hook["service_account"]
    if hook.get("deadline"):
        spec["deadline"] = int(hook["deadline"])
    return forklift_object("Hook", hook_name(plan, hook["step"]), namespace, spec)


def vm_progress(migration):
    """Per VM: {id, name, phase, pipeline: [{name, phase, progress}], error} from a Migration's status."""
    out = []
    for vm in ((migration or {}).get("status") or {}).get("vms") or []:
        pipeline = [{"name": p.get("name"), "phase": p.get("phase"),
                     "progress": "%s/%s" % ((p.get("progress") or {}).get("completed", 0), (p.get("progress") or {}).get("total", 0))}
                    for p in vm.get("pipeline") or []]
        error = vm.get("error") or {}
        out.append({"id": vm.get("id"), "name": vm.get("name"), "phase": vm.get("phase"), "pipeline": pipeline,
                    "error": "; ".join(error.get("reasons") or []) or None,
                    "succeeded": bool(true_condition(vm, "Succeeded")), "failed": bool(true_condition(vm, "Failed")),
                    "canceled": bool(true_condition(vm, "Canceled"))})
    return out


def finished(migration):
    return any(true_condition(migration, k) for k in ("Succeeded", "Failed", "Canceled"))


class MtvService(Service):
    def __init__(self, client, params, check_mode, waiter=None):
        super(MtvService, self).__init__(client, params, check_mode, waiter)
        self.ns = params["namespace"]
        self.name = params["name"]

    def ensure(self, manifest, compare=("spec",)):
        """Create, or merge-patch the compared parts; returns the object (or the manifest in check mode)."""
        current = self.client.get(manifest["apiVersion"], manifest["kind"], manifest["metadata"]["name"], self.ns)
        if current is None:
            self.actions.append("create %s %s" % (manifest["kind"], manifest["metadata"]["name"]))
            return manifest if self.check_mode else self.client.create(manifest)
        patch = merge_patch(dict((k, current.get(k)) for k in compare), dict((k, manifest.get(k)) for k in compare))
        if patch:
            self.actions.append("update %s %s" % (manifest["kind"], manifest["metadata"]["name"]))
            if not self.check_mode:
                return self.client.patch(manifest["apiVersion"], manifest["kind"], manifest["metadata"]["name"], self.ns, patch)
        return current

    def wait_ready(self, kind, name):
        if self.check_mode:
            return None

        def ready(obj):
            return bool(true_condition(obj, "Ready")) or bool(true_condition(obj, "ConnectionFailed")) or any(
                c.get("category") == "Critical" and c.get("status") == "True" for c in conditions(obj))
        _ok, obj, _elapsed = self.waiter.wait(lambda: self.client.get(API, kind, name, self.ns), ready,
                                              self.params["wait_timeout"], "%s '%s' to be Ready" % (kind, name), interval=1.0)
        if not true_condition(obj, "Ready"):
            reasons = ["%s: %s" % (c.get("type"), c.get("message")) for c in conditions(obj) if c.get("status") == "True"]
            raise OperationFailure(failed_to("prepare", kind, name, "; ".join(reasons) or "not Ready"), actions=self.actions)
        return obj

    def migrations(self):
        found = [m for m in self.client.list(API, "Migration", self.ns)
                 if ((m.get("spec") or {}).get("plan") or {}).get("name") == self.name]
        return sorted(found, key=lambda m: m["metadata"]["name"])

    @reports_changes
    def run(self):
        p = self.params
        if p["state"] == "absent":
            return self.remove()
        if p["state"] == "canceled":
            return self.cancel()
        vsphere, url = p["vsphere"], vsphere_url(p["vsphere"])
        provider = p["provider"]
        secret_name = provider + "-vsphere"  # the Provider's credentials, shared by its plans
        self.ensure(secret_manifest(secret_name, self.ns, url, vsphere["username"], vsphere["password"],
                                    vsphere.get("ca_data")), compare=("data",))
        self.ensure(forklift_object("Provider", provider, self.ns, provider_spec(url, secret_name, self.ns)))
        self.wait_ready("Provider", provider)
        self.ensure(forklift_object("NetworkMap", self.name + "-network", self.ns, network_map_spec(provider, self.ns, p["network_map"])))
        self.ensure(forklift_object("StorageMap", self.name + "-storage", self.ns, storage_map_spec(provider, self.ns, p["storage_map"])))
        hooks = dict((hook["step"], hook_name(self.name, hook["step"])) for hook in p["hooks"])
        for hook in p["hooks"]:
            self.ensure(hook_manifest(self.name, self.ns, hook))
        self.ensure(forklift_object("Plan", self.name, self.ns,
                                    plan_spec(provider, self.ns, self.name, p["target_namespace"], p["vms"], p, hooks)))
        self.delete([("Hook", hook_name(self.name, step)) for step in HOOK_STEPS if step not in hooks])  # hooks no longer asked for
        self.wait_ready("NetworkMap", self.name + "-network")
        self.wait_ready("StorageMap", self.name + "-storage")
        self.wait_ready("Plan", self.name)
        migrations = self.migrations()
        latest = migrations[-1] if migrations else None
        if latest is not None and true_condition(latest, "Succeeded") and not self.actions:
            return self.result(latest, "already migrated")
        if latest is None or finished(latest):
            name = "%s-%d" % (self.name, len(migrations) + 1)
            self.actions.append("create Migration %s" % name)
            if self.check_mode:
                return self.result(None, "would migrate")
            latest = self.client.create(forklift_object("Migration", name, self.ns, {"plan": {"name": self.name, "namespace": self.ns}}))
        if not p["wait"]:
            return self.result(latest, "started")
        return self.wait_migration(latest["metadata"]["name"])

    def wait_migration(self, name):
        _ok, migration, _elapsed = self.waiter.wait(lambda: self.client.get(API, "Migration", name, self.ns), finished,
                                                    self.params["wait_timeout"], "Migration '%s' to finish" % name, interval=1.0)
        result = self.result(migration, "migrated")
        if not true_condition(migration, "Succeeded"):
            failed = ["%s: %s" % (vm["name"] or vm["id"], vm["error"] or vm["phase"]) for vm in result["vms"] if not vm["succeeded"]]
            raise OperationFailure(failed_to("migrate", "plan", self.name, "Migration %s %s; %s" % (
                name, "Canceled" if true_condition(migration, "Canceled") else "Failed", "; ".join(failed))),
                vms=result["vms"], migration=result["migration"], actions=result["actions"], changed=result["changed"])
        return result

    def cancel(self):
        running = [m for m in self.migrations() if not finished(m)]
        if not running:
            return {"changed": False, "actions": [], "msg": "no running Migration of plan '%s'" % self.name}
        migration = running[-1]
        ids = [vm["id"] for vm in vm_progress(migration) if not (vm["succeeded"] or vm["failed"])]
        self.actions.append("cancel %d VM(s) of Migration %s" % (len(ids), migration["metadata"]["name"]))
        if not self.check_mode:
            self.client.patch(API, "Migration", migration["metadata"]["name"], self.ns, {"spec": {"cancel": [{"id": i} for i in ids]}})
        return {"changed": True, "actions": self.actions, "canceled": ids}

    def delete(self, objects):
        for kind, name in objects:
            if self.client.get(API, kind, name, self.ns) is not None:
                self.actions.append("delete %s %s" % (kind, name))
                if not self.check_mode:
                    self.client.delete(API, kind, name, self.ns)

    def remove(self):
        self.delete([("Migration", m["metadata"]["name"]) for m in self.migrations()]
                    + [("Plan", self.name), ("NetworkMap", self.name + "-network"), ("StorageMap", self.name + "-storage")]
                    + [("Hook", hook_name(self.name, step)) for step in HOOK_STEPS])
        return {"changed": bool(self.actions), "actions": self.actions}

    def result(self, migration, msg):
        return {"changed": bool(self.actions), "msg": msg, "actions": self.actions,
                "migration": (migration or {}).get("metadata", {}).get("name"), "vms": vm_progress(migration)}


def vsphere_url(vsphere):
    """The SDK URL given, or the one of the given host."""
    return vsphere.get("url") or ("https://%s/sdk" % vsphere["hostname"] if vsphere.get("hostname") else None)


def check(params):
    """Bad input named before anything is sent; resolves the deprecated ``warm`` into ``type``."""
    warnings = []
    if params.get("warm") is not None:
        if params["type"] not in (None, "warm" if params["warm"] else "cold"):
            raise InvalidInput("warm: %s contradicts type: %s; drop warm (deprecated, MTV reads type)" % (params["warm"], params["type"]))
        params["type"] = "warm" if params["warm"] else "cold"
        warnings.append("warm is deprecated (MTV deprecates spec.warm): use type: %s" % params["type"])
    params["type"] = params["type"] or "cold"
    steps = [h["step"] for h in params["hooks"]]
    if len(set(steps)) != len(steps):
        raise InvalidInput("hooks: one hook a step (pre, post); %s is given twice" % ", ".join(sorted(set(s for s in steps if steps.count(s) > 1))))
    if params["state"] != "present":
        return warnings
    if not params["vms"]:
        raise InvalidInput("vms is empty: give the wave's VMs as [{id: vm-42}] or [{name: web-01}]")
    for i, vm in enumerate(params["vms"]):
        if not isinstance(vm, dict) or not (vm.get("id") or vm.get("name")):
            raise InvalidInput("vms[%d] needs id (the moref, e.g. vm-42) or name" % i)
    vsphere = dict(params["vsphere"], url=vsphere_url(params["vsphere"]))
    missing = [k for k in ("url", "username", "password") if not vsphere.get(k)]
    if missing:
        raise InvalidInput("vsphere needs %s (the vCenter SDK URL, or hostname; and the account MTV uses, or "
                           "VMWARE_HOST, VMWARE_USER and VMWARE_PASSWORD)" % ", ".join(missing))
    if not params["network_map"] or not params["storage_map"]:
        raise InvalidInput("network_map and storage_map are required: every port group to a NAD ('namespace/name') or 'pod', "
                           "every datastore to a storage class")
    return warnings


def run_mtv(params, check_mode):
    warnings = check(params)
    result = MtvService(KubeClient(params), params, check_mode).run()
    result["warnings"] = result.get("warnings", []) + warnings
    return result
