# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every manifest the collection's builders make, checked against the upstream API types with tsc.

    python tests/types/check.py DIR     (DIR holds node_modules with the packages of tests/types/package.json)

The builders (kubevirt_vm's VirtualMachine, nmstate_policy's NodeNetworkConfigurationPolicy from the host_network
short form, mtv_plan's Secret, Provider, maps, Hooks, Plan and Migration) run over a matrix of options; each manifest
is written as a typed object literal and compiled with `tsc --strict --noEmit`. TypeScript refuses a property an
object literal's type does not have, so a misspelled or misplaced field fails here. The types are types.ts beside
this file (one per kind): KubeVirt's, CDI's, nmstate's and Kubernetes' from @kubevirt-ui-ext/kubevirt-api (generated
from their OpenAPI), Forklift's from @kubev2v/types (generated from its CRDs); where a package is narrower than the
API (nmstate's interfaces, typed for a console) or older (Forklift's AAP hooks), types.ts says so and widens it.
A second file gets the same manifests with one unknown field each; tsc must refuse exactly those lines, so the check
cannot pass by checking nothing. Exit 0 when both hold.
"""
import json
import os
import re
import subprocess
import sys

from ansible_collections.vmshift.virt.plugins.module_utils.kubevirt.vm_manifest import render as render_vm
from ansible_collections.vmshift.virt.plugins.module_utils.migration import mtv
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.policy import policy_spec
from ansible_collections.vmshift.virt.plugins.module_utils.nmstate.shorthand import render as render_network

TYPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "types.ts")


def vms():
    disks = [{"name": "root", "size_bytes": 10 << 30, "source": {"url": "https://images.example.com/rhel9.qcow2"}},
             {"name": "data", "size_bytes": 1536, "source": {"blank": True}},
             {"name": "golden", "size_bytes": 20 << 30, "source": {"pvc": {"name": "rhel9", "namespace": "images"}}},
             {"name": "tools", "source": {"registry": "quay.io/example/tools:1"}, "bus": "sata"}]
    nics = [{"network": "apps/vlan-93", "mac": "00:50:56:AA:BB:CC"}, {"pod": True}, {"network": "vlan-94", "model": "e1000e"}]
    base = {"name": "web-01", "cpu": {"sockets": 2, "cores": 2, "threads": 1}, "memory_mib": 4096, "disks": disks, "nics": nics,
            "labels": {"app": "web"}, "uuid": "4215c1d2-0000-4000-8000-000000000001", "machine": "q35",
            "cloud_init": {"user_data": "#cloud-config\n", "network_config": "version: 2\n"}}
    yield render_vm(base, "apps", "ocs-rbd", "ReadWriteMany")
    yield render_vm(dict(base, firmware={"type": "efi", "secure_boot": True}, cloud_init=None), "apps", run_strategy="Halted")
    for strategy in ("RerunOnFailure", "Manual"):
        yield render_vm(dict(base, disks=disks[:1], nics=[]), "apps", instancetype={"name": "m", "kind": "VirtualMachineInstancetype"},
                        preference={"name": "rhel.9", "kind": "VirtualMachinePreference"}, run_strategy=strategy)
    yield render_vm({"name": "tiny", "disks": [], "nics": []}, "default", instancetype="u1.small", preference="rhel.9")


def policies():
    network = render_network(
        bonds=[{"name": "bond1", "mode": "802.3ad", "miimon": 100, "ports": ["eth2", "eth3"], "mtu": 9000,
                "options": {"lacp_rate": "fast", "xmit_hash_policy": "layer3+4"}},
               {"name": "bond2", "mode": "active-backup", "ports": ["eth4", "eth5"], "ipv4": {"dhcp": True}}],
        bridges=[{"name": "br1", "ports": ["bond1"], "stp": False, "mtu": 9000,
                  "ipv4": {"address": "192.0.2.10/24", "gateway": "192.0.2.1"}}],
        vm_networks=[{"name": "vlan-93", "bridge": "br1", "vlan": 93}, {"name": "flat", "bridge": "br1"}])
    for selector, unavailable in (({"node-role.kubernetes.io/worker": ""}, "50%"), (None, None)):
        yield {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": "vmshift-br1"},
               "spec": policy_spec(selector, unavailable, network["desired_state"])}
    absent = render_network(bonds=[{"name": "bond1"}], bridges=[{"name": "br1"}], vm_networks=[{"name": "vlan-93", "bridge": "br1", "vlan": 93}],
                            state="absent")
    yield {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": "vmshift-br1"},
           "spec": policy_spec(None, 1, absent["desired_state"])}


def mtv_objects():
    ns = "openshift-mtv"
    yield mtv.secret_manifest("vc-vsphere", ns, "https://vc.example.com/sdk", "migrator", "secret", "-----BEGIN CERTIFICATE-----")
    yield mtv.forklift_object("Provider", "vc", ns, mtv.provider_spec("https://vc.example.com/sdk", "vc-vsphere", ns))
    yield mtv.forklift_object("NetworkMap", "wave-1-network", ns, mtv.network_map_spec("vc", ns, {"VM Network": "pod", "VLAN93": "apps/vlan-93"}))
    yield mtv.forklift_object("StorageMap", "wave-1-storage", ns, mtv.storage_map_spec("vc", ns, {"ds1": "ocs-rbd"}))
    yield mtv.hook_manifest("wave-1", ns, {"step": "pre", "image": "quay.io/konveyor/hook-runner", "playbook": "- hosts: all\n",
                                           "service_account": "hooks", "deadline": 300})
    yield mtv.hook_manifest("wave-1", ns, {"step": "post", "aap": {"job_template_id": 42, "url": "https://aap.example.com",
                                                                   "token_secret": "aap-token", "timeout": 600}})
    vms = [{"name": "web-01"}, {"id": "vm-1042", "name": "db-01"}]
    options = [{"type": "cold"},
               {"type": "warm", "preserve_static_ips": True, "target_power_state": "on", "migrate_shared_disks": False,
                "skip_guest_conversion": True, "transfer_network": "openshift-mtv/transfer"},
               {"type": "live", "target_power_state": "off", "transfer_network": "transfer"}]
    for option in options:
        yield mtv.forklift_object("Plan", "wave-1", ns, mtv.plan_spec("vc", ns, "wave-1", "apps", vms, option,
                                                                      {"pre": "wave-1-pre", "post": "wave-1-post"}))
    yield mtv.forklift_object("Migration", "wave-1-1", ns, {"plan": {"name": "wave-1", "namespace": ns}})


def manifests():
    return list(vms()) + list(policies()) + list(mtv_objects())


def typescript(items, unknown=False):
    """The manifests as typed constants; with ``unknown``, each with one field no type has, on a line of its own
    (the line numbers are returned)."""
    lines = ["import type * as T from './types';"]
    marked = []
    for i, manifest in enumerate(items):
        if unknown:
            # Into the deepest object of the spec: a field in the wrong place is what a typo looks like.
            target = manifest.get("spec") or manifest
            for key in deepest(target):
                target = target[key]
            target["vmshiftUnknownField"] = True
        body = json.dumps(manifest, indent=1, sort_keys=True).splitlines()
        lines.append("export const manifest%d: T.%s = %s" % (i, manifest["kind"], body[0]))
        for line in body[1:]:
            lines.append(line)
            if '"vmshiftUnknownField"' in line:
                marked.append(len(lines))
        lines[-1] += ";"
    return "\n".join(lines) + "\n", marked


# Fields that are maps of free keys (any key is right there), so no place for an unknown field.
MAPS = ("labels", "annotations", "nodeSelector", "data", "options", "requests")


def deepest(obj, path=()):
    best = path
    for key, value in sorted(obj.items()) if isinstance(obj, dict) else ():
        if isinstance(value, dict) and key not in MAPS:
            found = deepest(value, path + (key,))
            if len(found) > len(best):
                best = found
    return list(best)


def main():
    work = os.path.abspath(sys.argv[1])
    items = manifests()
    good, _unused = typescript(json.loads(json.dumps(items)))
    bad, marked = typescript(json.loads(json.dumps(items)), unknown=True)
    os.makedirs(os.path.join(work, "src"), exist_ok=True)
    with open(TYPES) as f:
        good_types = f.read()
    for name, text in (("types.ts", good_types), ("manifests.ts", good), ("unknown_fields.ts", bad)):
        with open(os.path.join(work, "src", name), "w") as f:
            f.write(text)
    tsc = os.path.join(work, "node_modules", ".bin", "tsc")
    argv = [tsc, "--strict", "--noEmit", "--skipLibCheck", "--target", "es2022", "--module", "esnext",
            "--moduleResolution", "bundler", "src/manifests.ts", "src/unknown_fields.ts"]
    proc = subprocess.run(argv, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    errors = re.findall(r"^src/(\w+)\.ts\((\d+),\d+\): error (TS\d+): (.*)$", proc.stdout, re.M)
    wrong = [e for e in errors if e[0] == "manifests"]
    refused = set(int(e[1]) for e in errors if e[0] == "unknown_fields" and e[2] == "TS2353")
    missed = [line for line in marked if line not in refused]
    print("%d manifests (%s) checked against the upstream types with %s" % (
        len(items), ", ".join(sorted(set(m["kind"] for m in items))), os.path.basename(tsc)))
    if proc.returncode not in (0, 1, 2) or not errors and proc.stdout.strip():
        sys.exit("tsc did not run as expected:\n" + proc.stdout[-3000:])
    for e in wrong:
        print("  refused: src/%s.ts:%s %s %s" % e)
    for line in missed:
        print("  an unknown field was NOT refused: src/unknown_fields.ts:%d" % line)
    extra = [e for e in errors if e[0] == "unknown_fields" and int(e[1]) not in marked]
    for e in extra:
        print("  unexpected: src/%s.ts:%s %s %s" % e)
    if wrong or missed or extra:
        sys.exit("the manifests do not match the upstream types (files in %s/src)" % work)
    print("type check: all %d manifests match the upstream types, and all %d injected unknown fields are refused" % (
        len(items), len(marked)))


if __name__ == "__main__":
    main()
