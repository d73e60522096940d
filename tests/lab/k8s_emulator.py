"""The lab's Kubernetes API: kmock's KubernetesEmulator plus a stand-in for the operators.

STAND-IN, NOT A REAL CLUSTER. No Kubernetes API server can run on the lab machines, so this
process serves the parts of the Kubernetes API that vmshift.virt uses (discovery, list, watch, get,
create, merge patch, delete, 404/409) from the `kmock` package, over TLS with the lab CA and a
bearer token. kmock merges patches as plain dicts (no strategic merge, no server-side apply), so the
collection keeps to what is portable: create, JSON merge patch, delete.

What it is sent is checked against the upstream API types (tests/types/types.ts: KubeVirt's, nmstate's,
Forklift's, the Secret) through JSON Schemas generated from them (--schemas): a create, merge patch or replace of
one of those kinds whose result has a field the type does not, or a value of the wrong type, is refused with 422
Invalid, as a cluster with strict field validation refuses it. Status is the controllers' and is not checked.

The operators' part (KubeVirt, CDI, nmstate, MTV) is played by `StandInController` and
`StandInNmstate` below: they set status conditions the way the operators would, after a short delay.
They do NOT run VMs, import disks or configure node networking; tests that rely on them say so.

Usage: k8s_emulator.py --port 16443 --cert C --key K --token-file T [--schemas FILE]
"""

import argparse
import asyncio
import datetime
import json
import logging
import re
import ssl
import uuid

import aiohttp.test_utils
import aiohttp.web
import jsonschema
import kmock

LOG = logging.getLogger("vmshift.k8s_emulator")

# (group/version/plural, kind, namespaced, subresources)
RESOURCES = [
    ("v1/namespaces", "Namespace", False, ()),
    ("v1/secrets", "Secret", True, ()),
    ("v1/configmaps", "ConfigMap", True, ()),
    ("v1/persistentvolumeclaims", "PersistentVolumeClaim", True, ()),
    ("v1/nodes", "Node", False, ()),
    ("storage.k8s.io/v1/storageclasses", "StorageClass", False, ()),
    ("kubevirt.io/v1/virtualmachines", "VirtualMachine", True, ("status",)),
    ("kubevirt.io/v1/virtualmachineinstances", "VirtualMachineInstance", True, ("status",)),
    ("instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes",
     "VirtualMachineClusterInstancetype", False, ()),
    ("instancetype.kubevirt.io/v1beta1/virtualmachineclusterpreferences",
     "VirtualMachineClusterPreference", False, ()),
    ("instancetype.kubevirt.io/v1beta1/virtualmachineinstancetypes", "VirtualMachineInstancetype", True, ()),
    ("instancetype.kubevirt.io/v1beta1/virtualmachinepreferences", "VirtualMachinePreference", True, ()),
    ("cdi.kubevirt.io/v1beta1/datavolumes", "DataVolume", True, ("status",)),
    ("nmstate.io/v1/nodenetworkconfigurationpolicies", "NodeNetworkConfigurationPolicy", False, ("status",)),
    ("nmstate.io/v1beta1/nodenetworkconfigurationenactments", "NodeNetworkConfigurationEnactment", False, ()),
    ("nmstate.io/v1beta1/nodenetworkstates", "NodeNetworkState", False, ()),
    ("k8s.cni.cncf.io/v1/network-attachment-definitions", "NetworkAttachmentDefinition", True, ()),
    ("forklift.konveyor.io/v1beta1/providers", "Provider", True, ("status",)),
    ("forklift.konveyor.io/v1beta1/networkmaps", "NetworkMap", True, ("status",)),
    ("forklift.konveyor.io/v1beta1/storagemaps", "StorageMap", True, ("status",)),
    ("forklift.konveyor.io/v1beta1/plans", "Plan", True, ("status",)),
    ("forklift.konveyor.io/v1beta1/migrations", "Migration", True, ("status",)),
    ("forklift.konveyor.io/v1beta1/hooks", "Hook", True, ("status",)),
]
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
KIND_BY_PLURAL = {r[0].rsplit("/", 1)[1]: r[1] for r in RESOURCES}


NAMESPACE_PATH = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?/?$")
VM_SUBRESOURCE_PATH = re.compile(
    r"^/apis/subresources\.kubevirt\.io/v1/namespaces/([^/]+)/virtualmachines/([^/]+)/(start|stop|restart)$")


CORE_PATH = re.compile(r"^/api/(v1)/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?$")
GROUP_PATH = re.compile(r"^/apis/([^/]+)/([^/]+)/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?$")


def object_path(path):
    """(resource, namespace, name or None) of a request on an object or a collection (not a subresource), or None."""
    match = CORE_PATH.match(path)
    if match:
        version, namespace, plural, name = match.groups()
        return kmock.resource("", version, plural), namespace, name
    match = GROUP_PATH.match(path)
    if match:
        group, version, namespace, plural, name = match.groups()
        return kmock.resource(group, version, plural), namespace, name
    return None


def merged(current, patch):
    """A JSON merge patch (RFC 7386) applied to ``current``."""
    if not isinstance(patch, dict):
        return patch
    out = dict(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out


def status_response(code, reason, message):
    return aiohttp.web.json_response({"apiVersion": "v1", "kind": "Status", "status": "Failure",
                                      "code": code, "reason": reason, "message": message}, status=code)


def live_object(emulator, resource, namespace, name):
    key = (resource, namespace, name)
    if key not in emulator.objects or emulator.objects[key].deleted:
        return None
    return emulator.objects[key]


def _now():
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class LabKubernetes(kmock.KubernetesEmulator):
    """KubernetesEmulator with what real clients need: auth, list kinds, server-set metadata."""

    token: str = ""
    validators: dict = {}  # kind -> a validator of the upstream type's JSON Schema

    def load_schemas(self, path):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        kinds = set(r[1] for r in RESOURCES) & set(schema.get("definitions") or {})
        self.validators = dict((kind, jsonschema.Draft7Validator(dict(schema, **{"$ref": "#/definitions/" + kind})))
                               for kind in kinds)

    async def _invalid(self, raw_request):
        """The 422 answer for a write whose resulting object the upstream type refuses, or None."""
        where = object_path(raw_request.path) if raw_request.method in ("POST", "PUT", "PATCH") else None
        kind = KIND_BY_PLURAL.get(where[0].plural) if where else None
        if kind not in self.validators:
            return None
        body = await raw_request.json()  # aiohttp keeps the body: kmock reads it again
        resource, namespace, name = where
        if raw_request.method == "PATCH":
            current = live_object(self, resource, namespace, name)
            if current is None:
                return None  # kmock answers 404
            body = merged(current.raw, body)
        body = dict((k, v) for k, v in (body or {}).items() if k != "status")
        errors = sorted(self.validators[kind].iter_errors(body), key=lambda e: list(e.absolute_path))
        if not errors:
            return None
        message = "; ".join("%s: %s" % ("." + ".".join(str(p) for p in e.absolute_path) if e.absolute_path else "<object>",
                                        e.message) for e in errors[:5])
        return status_response(422, "Invalid", '%s "%s" is invalid (checked against the upstream API types): %s' % (
            kind, (body.get("metadata") or {}).get("name") or name, message))

    async def __call__(self, raw_request):
        if raw_request.headers.get("Authorization", "") != "Bearer " + self.token:
            return status_response(401, "Unauthorized", "Unauthorized")
        invalid = await self._invalid(raw_request)
        if invalid is not None:
            return invalid
        match = NAMESPACE_PATH.match(raw_request.path)
        if match:
            return await self._serve_namespace(raw_request, match.group(1))
        match = VM_SUBRESOURCE_PATH.match(raw_request.path)
        if match and raw_request.method == "PUT":
            return await self._serve_vm_action(*match.groups())
        return await super().__call__(raw_request)

    async def _serve_vm_action(self, namespace, name, action):
        """KubeVirt's start/stop/restart subresources, as virt-api answers them (409 = already so): with
        runStrategy Halted, start sets Always; with Always or RerunOnFailure, stop sets Halted; with Manual, start
        and stop are requests the controller carries out (status.stateChangeRequests) and the strategy stays."""
        obj = live_object(self, kmock.resource("kubevirt.io", "v1", "virtualmachines"), namespace, name)
        if obj is None:
            return status_response(404, "NotFound", 'virtualmachines.kubevirt.io "%s" not found' % name)
        strategy = run_strategy(obj.raw.get("spec", {}))
        if strategy == "Manual":
            running = live_object(self, StandInController.VMI, namespace, name) is not None
        else:
            running = strategy in ("Always", "RerunOnFailure")
        if action == "start":
            if running:
                return status_response(409, "Conflict", "%s does not support manual start requests" % strategy)
            if strategy == "Manual":
                obj.patch({"status": {"stateChangeRequests": [{"action": "Start"}]}})
            else:
                obj.patch({"spec": {"runStrategy": "Always"}})
        elif action == "stop":
            if not running:
                return status_response(409, "Conflict", "VM is not running")
            if strategy == "Manual":
                obj.patch({"status": {"stateChangeRequests": [{"action": "Stop"}]}})
            else:
                obj.patch({"spec": {"runStrategy": "Halted"}})
        else:
            if not running:
                return status_response(409, "Conflict", "VM is not running")
            RESTARTS.add((namespace, name))
        obj.patch({"metadata": {"resourceVersion": str(next_version())}})
        return aiohttp.web.Response(status=202)

    async def _serve_namespace(self, raw_request, name):
        """kmock 0.8 parses /api/v1/namespaces[/NAME] as a namespaced path; serve Namespaces here."""
        res = kmock.resource("", "v1", "namespaces")
        live = {key[2]: obj for key, obj in self.objects.items() if key[0] == res and not obj.deleted}
        if raw_request.method == "GET" and name is None:
            return aiohttp.web.json_response({
                "apiVersion": "v1", "kind": "NamespaceList",
                "metadata": {"resourceVersion": str(next_version())},
                "items": [obj.raw for obj in live.values()]})
        if raw_request.method == "POST" and name is None:
            body = await raw_request.json()
            name = body.get("metadata", {}).get("name")
            if name in live:
                return status_response(409, "AlreadyExists", 'namespaces "%s" already exists' % name)
            body.setdefault("metadata", {}).update(uid=str(uuid.uuid4()), creationTimestamp=_now(),
                                                   resourceVersion=str(next_version()))
            body.update(apiVersion="v1", kind="Namespace", status={"phase": "Active"})
            self.objects[res, None, name] = body
            return aiohttp.web.json_response(body, status=201)
        if name not in live:
            return status_response(404, "NotFound", 'namespaces "%s" not found' % name)
        if raw_request.method == "GET":
            return aiohttp.web.json_response(live[name].raw)
        if raw_request.method == "DELETE":
            raw = live[name].raw
            live[name].delete()
            return aiohttp.web.json_response(raw)
        return status_response(405, "MethodNotAllowed", "not supported by the lab emulator")

    async def _handle(self, request):
        if request.action == kmock.action.UPDATE and isinstance(request.data, dict) and "spec" in request.data:
            # As the API server does for a resource with a status subresource: a spec change is a new generation.
            obj = live_object(self, request.resource, request.namespace, request.name)
            if obj is not None:
                request.data.setdefault("metadata", {})["generation"] = (obj.raw.get("metadata", {}).get("generation") or 1) + 1
        if request.action == kmock.action.CREATE and isinstance(request.data, dict):
            meta = request.data.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", _now())
            meta["resourceVersion"] = str(next_version())
            meta["generation"] = 1
            if request.namespace and "namespace" not in meta:
                meta["namespace"] = request.namespace
        return await super()._handle(request)

    async def _serve_list(self, request):
        payload = await super()._serve_list(request)
        resource = request.resource
        payload["kind"] = KIND_BY_PLURAL.get(resource.plural, "Unknown") + "List"
        payload["apiVersion"] = (resource.group + "/" if resource.group else "") + resource.version
        payload["metadata"] = {"resourceVersion": str(next_version())}
        return payload


_VERSION = [1000]
RESTARTS = set()  # (namespace, name) of VMs whose restart subresource was called


def run_strategy(spec):
    return spec.get("runStrategy", "Always" if spec.get("running") else "Halted")


def next_version():
    _VERSION[0] += 1
    return _VERSION[0]


class StandInController:
    """STAND-IN for the KubeVirt operator: plays only the objects and status a real one would write.

    - VirtualMachine with runStrategy Always (or running: true): a VirtualMachineInstance (new uid on
      every start) in phase Running, and on the VM `ready: true`, `printableStatus: Running` and
      condition `Ready=True`, after `delay` seconds. Halted: the VMI is deleted, `Stopped`.
    - The restart subresource deletes the VMI; the next pass creates a new one.
    It reads and writes the emulator's store directly, like a controller with cluster-admin.
    """

    VM = kmock.resource("kubevirt.io", "v1", "virtualmachines")
    VMI = kmock.resource("kubevirt.io", "v1", "virtualmachineinstances")
    DV = kmock.resource("cdi.kubevirt.io", "v1beta1", "datavolumes")

    def __init__(self, emulator, delay=0.5):
        self.emulator = emulator
        self.delay = delay
        self.pending = {}
        self.nmstate = StandInNmstate(emulator, delay)
        self.mtv = StandInMtv(emulator)

    async def run(self):
        while True:
            await asyncio.sleep(0.2)
            try:
                self.reconcile()
            except Exception:  # pylint: disable=broad-except
                # A controller outlives a bad object: log it and go on, as an operator would.
                LOG.exception("stand-in controller pass failed")
            # kmock keeps every request for assertions; a long-lived lab server must not grow forever.
            if len(self.emulator._requests) > 10000:
                del self.emulator._requests[:5000]

    def _live(self, resource, namespace, name):
        return live_object(self.emulator, resource, namespace, name)

    def garbage_collect(self):
        """What ownerReferences do on a real cluster: a VM's VMI and DataVolumes go with it."""
        for (resource, namespace, name), obj in list(self.emulator.objects.items()):
            if obj.deleted or resource not in (self.VMI, self.DV):
                continue
            owner = (obj.raw.get("metadata", {}).get("labels") or {}).get("vmshift-lab/owner-vm", name)
            if self._live(self.VM, namespace, owner) is None:
                obj.delete()

    def ensure_datavolumes(self, namespace, vm):
        """CDI's part, played: each dataVolumeTemplate becomes a DataVolume that has Succeeded."""
        for template in vm.raw.get("spec", {}).get("dataVolumeTemplates") or []:
            dv_name = template.get("metadata", {}).get("name")
            if dv_name and self._live(self.DV, namespace, dv_name) is None:
                self.emulator.objects[self.DV, namespace, dv_name] = {
                    "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                    "metadata": {"name": dv_name, "namespace": namespace, "uid": str(uuid.uuid4()),
                                 "labels": {"vmshift-lab/owner-vm": vm.raw["metadata"]["name"]},
                                 "resourceVersion": str(next_version()), "creationTimestamp": _now()},
                    "spec": template.get("spec", {}),
                    "status": {"phase": "Succeeded", "progress": "100.0%"},
                }

    def reconcile(self):
        self.garbage_collect()
        now = asyncio.get_event_loop().time()
        self.nmstate.reconcile(now)
        self.mtv.reconcile(now)
        for (resource, namespace, name), obj in list(self.emulator.objects.items()):
            if obj.deleted or resource != self.VM:
                continue
            spec = obj.raw.get("spec", {})
            self.ensure_datavolumes(namespace, obj)
            vmi = self._live(self.VMI, namespace, name)
            strategy = run_strategy(spec)
            if strategy == "Manual":
                requests = [r.get("action") for r in obj.raw.get("status", {}).get("stateChangeRequests") or []]
                # A request stays until it is carried out, as virt-controller clears it then.
                want_running = "Start" in requests or (vmi is not None and "Stop" not in requests)
            else:
                want_running = strategy in ("Always", "RerunOnFailure")
            if (namespace, name) in RESTARTS:
                RESTARTS.discard((namespace, name))
                if vmi is not None:
                    vmi.delete()
                    vmi = None
                self._set_status(obj, False, "Starting")
                if strategy == "Manual":
                    obj.patch({"status": {"stateChangeRequests": [{"action": "Start"}]}})
            if want_running and vmi is None:
                first = self.pending.setdefault((namespace, name), now)
                if now - first < self.delay:
                    continue
                self.pending.pop((namespace, name), None)
                self.emulator.objects[self.VMI, namespace, name] = {
                    "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                    "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                                 "creationTimestamp": _now(), "resourceVersion": str(next_version())},
                    "spec": spec.get("template", {}).get("spec", {}),
                    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
                }
                self._set_status(obj, True, "Running")
            elif not want_running and vmi is not None:
                vmi.delete()
                self._set_status(obj, False, "Stopped")
            elif not want_running and obj.raw.get("status", {}).get("printableStatus") != "Stopped":
                self._set_status(obj, False, "Stopped")

    @staticmethod
    def _set_status(obj, ready, printable):
        # What was asked of a Manual VM is done now: virt-controller clears its requests then.
        obj.patch({"status": {
            "ready": ready, "created": ready, "printableStatus": printable, "stateChangeRequests": None,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                            "lastTransitionTime": _now(), "reason": "StandInController"}],
        }})


# The lab "cluster": three workers; worker-2 has one NIC less (eth3), as mixed hardware does.
LAB_NODES = {"worker-0": ["eth0", "eth1", "eth2", "eth3"], "worker-1": ["eth0", "eth1", "eth2", "eth3"],
             "worker-2": ["eth0", "eth1", "eth2"]}


def seed_nodes(emulator):
    """Nodes and their NodeNetworkStates, as the nmstate handler reports them."""
    for node, nics in LAB_NODES.items():
        emulator.objects[kmock.resource("", "v1", "nodes"), None, node] = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node, "uid": str(uuid.uuid4()), "resourceVersion": "1",
                         "labels": {"kubernetes.io/hostname": node, "node-role.kubernetes.io/worker": "",
                                    "vmshift-lab/nic-count": str(len(nics))}}}
        interfaces = [{"name": nic, "type": "ethernet", "state": "up" if nic == "eth0" else "down", "mtu": 1500,
                       "ipv4": {"enabled": nic == "eth0", "dhcp": nic == "eth0"}} for nic in nics]
        emulator.objects[StandInNmstate.NNS, None, node] = {
            "apiVersion": "nmstate.io/v1beta1", "kind": "NodeNetworkState",
            "metadata": {"name": node, "uid": str(uuid.uuid4()), "resourceVersion": "1"},
            "status": {"currentState": {"interfaces": interfaces}, "lastSuccessfulUpdateTime": _now()}}


class StandInNmstate:
    """STAND-IN for the kubernetes-nmstate operator. Nothing is configured on any node: it plays the
    objects and status the operator writes.

    For each new generation of a NodeNetworkConfigurationPolicy: the policy goes Progressing and each
    selected node gets an enactment (``<node>.<policy>``, labels nmstate.io/policy and nmstate.io/node,
    status.policyGeneration). After ``delay`` seconds each node succeeds, unless the desired state
    names a port or VLAN base interface that the node does not have and the state does not define:
    then its enactment is Failing with the message nmstate would give, and the policy is Degraded.
    A node that succeeds has its NodeNetworkState updated (interfaces added, replaced or removed).
    """

    NNCP = kmock.resource("nmstate.io", "v1", "nodenetworkconfigurationpolicies")
    NNCE = kmock.resource("nmstate.io", "v1beta1", "nodenetworkconfigurationenactments")
    NNS = kmock.resource("nmstate.io", "v1beta1", "nodenetworkstates")
    NODE = kmock.resource("", "v1", "nodes")

    def __init__(self, emulator, delay=0.5):
        self.emulator = emulator
        self.delay = delay
        self.seen = {}  # policy uid -> (generation, when first seen; None once settled)

    def nodes(self, selector):
        return sorted(name for (res, _ns, name), obj in self.emulator.objects.items()
                      if res == self.NODE and not obj.deleted
                      and all((obj.raw["metadata"].get("labels") or {}).get(k) == v for k, v in (selector or {}).items()))

    @staticmethod
    def references(desired):
        refs = []
        for iface in desired.get("interfaces") or []:
            if iface.get("state") == "absent":
                continue
            for key in ("link-aggregation", "bridge"):
                config = iface.get(key) or {}
                for port in (config.get("port") or config.get("slaves") or []):
                    refs.append(port.get("name") if isinstance(port, dict) else port)
            if iface.get("vlan"):
                refs.append(iface["vlan"].get("base-iface"))
        return refs

    def enact(self, policy, node, generation, conditions):
        key = (self.NNCE, None, "%s.%s" % (node, policy))
        body = {"apiVersion": "nmstate.io/v1beta1", "kind": "NodeNetworkConfigurationEnactment",
                "metadata": {"name": key[2], "uid": str(uuid.uuid4()), "resourceVersion": str(next_version()),
                             "labels": {"nmstate.io/policy": policy, "nmstate.io/node": node}},
                "status": {"policyGeneration": generation, "conditions": conditions}}
        self.emulator.objects[key] = body

    def apply_to_node(self, node, desired):
        nns = live_object(self.emulator, self.NNS, None, node)
        current = dict((i["name"], i) for i in nns.raw["status"]["currentState"]["interfaces"])
        for iface in desired.get("interfaces") or []:
            if iface.get("state") == "absent":
                current.pop(iface["name"], None)
            else:
                current[iface["name"]] = dict(current.get(iface["name"], {}), **iface)
        nns.patch({"status": {"currentState": {"interfaces": list(current.values())}, "lastSuccessfulUpdateTime": _now()}})

    def reconcile(self, now):
        for (res, _ns, name), obj in list(self.emulator.objects.items()):
            if res == self.NNCE and not obj.deleted:
                policy = (obj.raw["metadata"].get("labels") or {}).get("nmstate.io/policy")
                if live_object(self.emulator, self.NNCP, None, policy) is None:
                    obj.delete()  # the enactments go with their policy
            if res != self.NNCP or obj.deleted:
                continue
            generation = obj.raw["metadata"].get("generation") or 1
            uid = obj.raw["metadata"].get("uid")  # a policy deleted and made again is a new one
            seen = self.seen.get(uid)
            if seen is None or seen[0] != generation:
                self.seen[uid] = (generation, now)
                for node in self.nodes(obj.raw["spec"].get("nodeSelector")):
                    self.enact(name, node, generation, [_cond("Progressing", "True", "ConfigurationProgressing", "")])
                obj.patch({"status": {"conditions": [
                    _cond("Available", "Unknown", "ConfigurationProgressing", ""),
                    _cond("Degraded", "Unknown", "ConfigurationProgressing", ""),
                    _cond("Progressing", "True", "ConfigurationProgressing", "policy is progressing")]}})
                continue
            if seen[1] is None or now - seen[1] < self.delay:
                continue
            self.seen[uid] = (generation, None)  # settled
            desired = obj.raw["spec"].get("desiredState") or {}
            defined = set(i.get("name") for i in desired.get("interfaces") or [])
            nodes = self.nodes(obj.raw["spec"].get("nodeSelector"))
            failed = 0
            for node in nodes:
                nns = live_object(self.emulator, self.NNS, None, node)
                have = set(i["name"] for i in nns.raw["status"]["currentState"]["interfaces"]) | defined
                missing = [ref for ref in self.references(desired) if ref not in have]
                if missing:
                    failed += 1
                    message = ("error reconciling NodeNetworkConfigurationPolicy on node %s at desired state apply: "
                               "failed to execute nmstatectl set: InvalidArgument: Interface %s not found" % (node, missing[0]))
                    self.enact(name, node, generation, [_cond("Failing", "True", "FailedToConfigure", message)])
                else:
                    self.apply_to_node(node, desired)
                    self.enact(name, node, generation, [_cond("Available", "True", "SuccessfullyConfigured",
                                                              "successfully reconciled")])
            if failed:
                conditions = [_cond("Degraded", "True", "FailedToConfigure", "%d/%d nodes failed to configure" % (failed, len(nodes))),
                              _cond("Available", "False", "FailedToConfigure", "")]
            else:
                conditions = [_cond("Available", "True", "SuccessfullyConfigured",
                                    "%d/%d nodes successfully configured" % (len(nodes), len(nodes))),
                              _cond("Degraded", "False", "SuccessfullyConfigured", "")]
            obj.patch({"status": {"conditions": conditions}})


class StandInMtv:
    """STAND-IN for the MTV (Forklift) controller. No disk is copied, no VM is converted: it plays the
    status MTV writes. A Provider whose Secret exists is Ready; maps are Ready; a Hook is Ready with an
    image or an AAP job template; a Plan is Ready once its Provider, maps and its VMs' Hooks are. A
    Migration moves each VM through MTV's cold pipeline (Initialize, DiskTransfer, ImageConversion,
    VirtualMachineCreation), one step per ``step`` seconds, then creates
    the KubeVirt VirtualMachine in the target namespace. A VM whose name starts with ``fail-`` fails
    at DiskTransfer, as a failed copy would (the stand-in's fault injection for tests); one whose name
    starts with ``slow-`` takes a hundred times as long per step (a migration still running when a test
    acts on it, however loaded the machine).
    ``spec.cancel`` cancels the VMs it names. VMs that succeeded in an earlier Migration are not
    migrated again.
    """

    API = ("forklift.konveyor.io", "v1beta1")
    PIPELINE = ("Initialize", "DiskTransfer", "ImageConversion", "VirtualMachineCreation")

    def __init__(self, emulator, step=0.3):
        self.emulator = emulator
        self.step = step
        self.clock = {}

    def res(self, plural):
        return kmock.resource(self.API[0], self.API[1], plural)

    def get(self, plural, namespace, name):
        return live_object(self.emulator, self.res(plural), namespace, name)

    def ready(self, obj, ok, message=""):
        status = "True" if ok else "False"
        conditions = [_cond("Ready", status, "StandInMtv", message or ("The resource is ready." if ok else "not ready"))]
        if not ok:
            conditions.append(dict(_cond("ConnectionFailed" if obj.raw["kind"] == "Provider" else "NotReady", "True",
                                         "StandInMtv", message), category="Critical"))
        if (obj.raw.get("status") or {}).get("conditions", [{}])[0].get("status") != status:
            obj.patch({"status": {"conditions": conditions}})

    def succeeded_before(self, namespace, plan):
        done = set()
        for (res, ns, _name), obj in self.emulator.objects.items():
            if res == self.res("migrations") and ns == namespace and not obj.deleted \
                    and ((obj.raw.get("spec") or {}).get("plan") or {}).get("name") == plan:
                done.update(vm["id"] for vm in (obj.raw.get("status") or {}).get("vms") or []
                            if any(c.get("type") == "Succeeded" for c in vm.get("conditions") or []))
        return done

    def reconcile(self, now):
        for (res, namespace, name), obj in list(self.emulator.objects.items()):
            if obj.deleted or res.group != self.API[0]:
                continue
            kind = obj.raw["kind"]
            spec = obj.raw.get("spec") or {}
            if kind == "Provider":
                secret = spec.get("secret") or {}
                found = live_object(self.emulator, kmock.resource("", "v1", "secrets"), secret.get("namespace"), secret.get("name"))
                self.ready(obj, found is not None, "" if found else "secret %s not found" % secret.get("name"))
            elif kind in ("NetworkMap", "StorageMap"):
                self.ready(obj, True)
            elif kind == "Hook":
                ok = bool(spec.get("image")) != bool((spec.get("aap") or {}).get("jobTemplateId"))
                self.ready(obj, ok, "" if ok else "a hook needs an image or aap.jobTemplateId")
            elif kind == "Plan":
                provider = self.get("providers", namespace, ((spec.get("provider") or {}).get("source") or {}).get("name"))
                maps = [self.get(p, namespace, ((spec.get("map") or {}).get(k) or {}).get("name"))
                        for p, k in (("networkmaps", "network"), ("storagemaps", "storage"))]
                hooks = [self.get("hooks", (ref.get("hook") or {}).get("namespace"), (ref.get("hook") or {}).get("name"))
                         for vm in spec.get("vms") or [] for ref in vm.get("hooks") or []]
                ok = provider is not None and all(m is not None for m in maps + hooks) and bool(spec.get("vms"))
                self.ready(obj, ok, "" if ok else "provider, maps, hooks or VMs missing")
            elif kind == "Migration":
                self.run_migration(obj, namespace, now)

    def run_migration(self, obj, namespace, now):
        status = obj.raw.get("status") or {}
        if any(c.get("type") in ("Succeeded", "Failed", "Canceled") and c.get("status") == "True"
               for c in status.get("conditions") or []):
            return
        plan = self.get("plans", namespace, obj.raw["spec"]["plan"]["name"])
        if plan is None:
            return
        uid = obj.raw["metadata"]["uid"]
        start = self.clock.setdefault(uid, now)
        steps = int((now - start) / self.step)
        cancel = set(c.get("id") for c in (obj.raw["spec"].get("cancel") or []))
        done_before = self.succeeded_before(namespace, plan.raw["metadata"]["name"])
        vms, all_done, any_failed, any_canceled = [], True, False, False
        for vm in plan.raw["spec"].get("vms") or []:
            vm_id = vm.get("id") or vm.get("name")
            if vm_id in done_before:
                continue
            failing = (vm.get("name") or "").startswith("fail-")
            vm_steps = steps // 100 if (vm.get("name") or "").startswith("slow-") else steps
            reached = min(vm_steps, 2 if failing else len(self.PIPELINE))
            pipeline = [{"name": step, "phase": "Completed" if i < reached else ("Running" if i == reached else "Pending"),
                         "progress": {"completed": 100 if i < reached else 0, "total": 100}}
                        for i, step in enumerate(self.PIPELINE)]
            entry = {"id": vm_id, "name": vm.get("name") or vm_id, "pipeline": pipeline, "phase": self.PIPELINE[min(reached, 3)]}
            if vm_id in cancel:
                entry.update(phase="Canceled", conditions=[_cond("Canceled", "True", "UserRequested", "canceled")])
                any_canceled = True
            elif failing and vm_steps >= 2:
                pipeline[1]["phase"] = "Failed"
                entry.update(phase="DiskTransfer", error={"phase": "DiskTransfer", "reasons": [
                    "Unable to transfer disk [LocalDS_0] %s.vmdk: the importer pod failed (stand-in fault)" % vm_id]},
                    conditions=[_cond("Failed", "True", "StandInMtv", "failed")])
                any_failed = True
            elif reached >= len(self.PIPELINE):
                entry.update(phase="Completed", conditions=[_cond("Succeeded", "True", "StandInMtv", "succeeded")])
                self.create_vm(plan, entry["name"])
            else:
                all_done = False
            vms.append(entry)
        conditions = [_cond("Running", "True", "StandInMtv", "running")]
        if all_done:
            kind = "Failed" if any_failed else ("Canceled" if any_canceled else "Succeeded")
            conditions = [_cond(kind, "True", "StandInMtv", "%s: %d VMs" % (kind, len(vms)))]
        obj.patch({"status": {"vms": vms, "conditions": conditions}})
        plan.patch({"status": {"migration": {"vms": vms}}})

    def create_vm(self, plan, name):
        namespace = plan.raw["spec"].get("targetNamespace") or "default"
        vm_name = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")
        key = (kmock.resource("kubevirt.io", "v1", "virtualmachines"), namespace, vm_name)
        if live_object(self.emulator, *key) is None:
            self.emulator.objects[key] = {
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": vm_name, "namespace": namespace, "uid": str(uuid.uuid4()), "resourceVersion": str(next_version()),
                             "labels": {"migration": plan.raw["metadata"]["name"]}},
                "spec": {"runStrategy": "Always", "template": {"spec": {"domain": {"devices": {}}}}}}


def _cond(kind, status, reason, message):
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": _now()}


class TLSServer(aiohttp.test_utils.RawTestServer):
    ssl_context = None

    async def start_server(self, **kwargs):
        kwargs["ssl"] = self.ssl_context
        return await super().start_server(**kwargs)


async def serve(args):
    with open(args.token_file, encoding="utf-8") as f:
        token = f.read().strip()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    TLSServer.ssl_context = ctx

    emulator = LabKubernetes()
    emulator.token = token
    if args.schemas:
        emulator.load_schemas(args.schemas)
        LOG.info("writes of %s are checked against %s", ", ".join(sorted(emulator.validators)), args.schemas)
    for key, kind, namespaced, subresources in RESOURCES:
        emulator.resources[key] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, verbs=VERBS, subresources=subresources,
            singular=kind.lower())
    for ns in ("default", "vmshift-lab", "openshift-mtv"):
        emulator.objects[kmock.resource("", "v1", "namespaces"), None, ns] = {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": str(uuid.uuid4()), "resourceVersion": "1"}}
    seed_nodes(emulator)
    controller = StandInController(emulator)
    async with emulator, kmock.Server(emulator, host=args.host, port=args.port, server_cls=TLSServer):
        LOG.info("lab Kubernetes emulator (stand-in) on https://%s:%s", args.host, args.port)
        print(json.dumps({"url": "https://%s:%s" % (args.host, args.port)}), flush=True)
        await controller.run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=16443)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--schemas", help="JSON Schemas of the upstream API types (tests/types, made by tests/lab/lab.sh)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
