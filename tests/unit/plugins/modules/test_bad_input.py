# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, fuzz-style: each module is run as Ansible runs it (its argument spec, run_module) with bad
values drawn at random (seeded) for its fields: wrong types, negative numbers, bad MACs, bad names. Every
one must fail before any client is made (vSphere, libvirt, Kubernetes), with a message naming the field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import random

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient
from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import LibvirtClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.modules import kubevirt_vm, libvirt_vm, migration_plan, vm_migrate

SEED = 20261205
PER_FIELD = 4  # bad values drawn for each field

BAD = {
    "count": [-1, -5, 0, "lots", 1.5, [], {}],  # a whole number of 1 or more
    "size": [-1, -1024, "lots", 2.5, [], {}],  # a whole number of 0 or more
    "mac": ["zz:zz:zz:zz:zz:zz", "52:54:00:12:34", "52-54-00-12-34-56", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00", "52:54:00:12:34:56:78", 42, ""],
    "domain_name": ["a/b", "web\n01", " web", "web ", "x" * 201, "tab\there", 7],
    "k8s_name": ["Web_01", "web.01", "-web", "web-", "x" * 64, "WEB", "web 01"],
    "dict": ["four", 4, ["a"]],
}

LIBVIRT_SPEC = {"name": "web-01", "memory_mib": 256, "cpu": {"sockets": 1, "cores": 1},
                "disks": [{"name": "root", "size_bytes": 1048576, "source": {"blank": True}}],
                "nics": [{"network": "default", "mac": "52:54:00:12:34:56"}, {"network": "default", "mac": "52:54:00:12:34:57"}]}
KUBEVIRT_SPEC = {"name": "web-01", "memory_mib": 256,
                 "nics": [{"network": "br-vlan10", "mac": "02:00:00:00:00:01"}]}
VSPHERE = {"hostname": "vcenter.example.com", "username": "migrator", "password": "s3cret-pw"}
PLAN_VMS = [{"name": "web-01", "cpu": {"count": 2}, "memory_mib": 2048, "disks": [{"capacity_bytes": 1 << 30}]}]
PLAN_TARGETS = [{"name": "kvm1", "cpus": 16, "memory_mib": 65536, "storage_bytes": 1 << 40}]

# (module, valid arguments, the path of a field, the kind of bad value, the field as the message names it)
FIELDS = [
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "name"), "domain_name", "spec.name"),
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "memory_mib"), "count", "spec.memory_mib"),
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "cpu", "cores"), "count", "spec.cpu.cores"),
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "cpu"), "dict", "spec.cpu"),
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "nics", 0, "mac"), "mac", "spec.nics[0].mac"),
    (libvirt_vm, {"spec": LIBVIRT_SPEC}, ("spec", "disks", 0, "size_bytes"), "size", "spec.disks[0]"),
    (kubevirt_vm, {"spec": KUBEVIRT_SPEC}, ("spec", "name"), "k8s_name", "spec.name"),
    (kubevirt_vm, {"spec": KUBEVIRT_SPEC}, ("spec", "memory_mib"), "count", "spec.memory_mib"),
    (kubevirt_vm, {"spec": KUBEVIRT_SPEC}, ("spec", "nics", 0, "mac"), "mac", "spec.nics[0].mac"),
    (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"), ("overrides", "memory_mib"), "count", "overrides.memory_mib"),
    (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"), ("overrides", "name"), "domain_name", "overrides.name"),
    (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"), ("overrides", "cpu", "sockets"), "count", "overrides.cpu.sockets"),
    (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"), ("chunk_size_mib",), "count", "chunk_size_mib"),
    (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"), ("copy_workers",), "count", "copy_workers"),
    (vm_migrate, dict(VSPHERE, vms=[{"name": "web-01"}], uri="qemu:///system"), ("parallel",), "count", "parallel"),
    (migration_plan, {"vms": PLAN_VMS, "targets": PLAN_TARGETS}, ("targets", 0, "cpus"), "size", "targets[0].cpus"),
    (migration_plan, {"vms": PLAN_VMS, "targets": PLAN_TARGETS}, ("vms", 0, "memory_mib"), "size", "vms[0].memory_mib"),
    (migration_plan, {"vms": PLAN_VMS, "targets": PLAN_TARGETS}, ("vms", 0, "cpu", "count"), "count", "vms[0].cpu.count"),
    (migration_plan, {"vms": PLAN_VMS, "targets": PLAN_TARGETS}, ("constraints", "max_parallel"), "count", "constraints.max_parallel"),
]


def cases():
    rng = random.Random(SEED)
    for module, args, path, kind, field in FIELDS:
        for value in rng.sample(BAD[kind], min(PER_FIELD, len(BAD[kind]))):
            yield pytest.param(module, args, path, value, field, id="%s-%s-%r" % (module.__name__.rsplit(".", 1)[-1], field, value))


def with_value(args, path, value):
    args = copy.deepcopy(args)
    node = args
    for key in path[:-1]:
        if isinstance(node, dict) and key not in node:
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return args


@pytest.fixture
def no_clients(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a client was made before the bad input was refused")
    monkeypatch.setattr(VsphereClient, "from_params", classmethod(refuse))
    monkeypatch.setattr(LibvirtClient, "__init__", refuse)
    monkeypatch.setattr(KubeClient, "__init__", refuse)


def run(module, args, capsys, monkeypatch):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("module, args, path, value, field", list(cases()))
def test_bad_input_fails_before_any_client_naming_the_field(module, args, path, value, field, capsys, monkeypatch, no_clients):
    code, result = run(module, with_value(args, path, value), capsys, monkeypatch)
    assert code == 1, result
    assert not result.get("changed")
    # Ansible's own type check names the option by its last key; the module's checks name the whole path.
    assert field in result["msg"] or (len(path) == 1 and path[0] in result["msg"]) or \
        (path[-1] in result["msg"] and path[0] in result["msg"]), result["msg"]


def test_the_valid_arguments_pass_the_checks(capsys, monkeypatch, no_clients):
    """The base arguments are valid: each module gets as far as making its client (which the fixture refuses)."""
    for module, args in ((libvirt_vm, {"spec": LIBVIRT_SPEC}), (kubevirt_vm, {"spec": KUBEVIRT_SPEC}),
                         (vm_migrate, dict(VSPHERE, name="web-01", uri="qemu:///system"))):
        with pytest.raises(AssertionError, match="a client was made"):
            run(module, args, capsys, monkeypatch)
    code, result = run(migration_plan, {"vms": PLAN_VMS, "targets": PLAN_TARGETS}, capsys, monkeypatch)
    assert code == 0 and result["waves"][0]["vms"][0]["target"] == "kvm1"


def test_two_nics_with_one_mac_are_refused(capsys, monkeypatch, no_clients):
    spec = copy.deepcopy(LIBVIRT_SPEC)
    spec["nics"][1]["mac"] = spec["nics"][0]["mac"].upper()
    code, result = run(libvirt_vm, {"spec": spec}, capsys, monkeypatch)
    assert code == 1 and "spec.nics[1].mac 52:54:00:12:34:56 is also spec.nics[0].mac" in result["msg"].replace(
        "52:54:00:12:34:56".upper(), "52:54:00:12:34:56")


def test_an_unplaced_vm_fails_the_plan_when_asked(capsys, monkeypatch):
    args = {"vms": PLAN_VMS, "targets": [dict(PLAN_TARGETS[0], memory_mib=1024)], "fail_on_unplaced": True}
    code, result = run(migration_plan, args, capsys, monkeypatch)
    assert code == 1 and result["msg"].startswith("1 VM(s) cannot be placed: web-01 (no target has room: kvm1: 1024 MiB left")
    assert result["unplaced"][0]["name"] == "web-01"
    code, result = run(migration_plan, dict(args, fail_on_unplaced=False), capsys, monkeypatch)
    assert code == 0 and result["unplaced"][0]["name"] == "web-01"


@pytest.mark.parametrize("args, message", [
    ({"overrides": {"nmae": "x"}}, "nmae. Supported parameters include"),
    ({"overrides": {"memory_mib": "lots"}}, "memory_mib"),
    ({"vms": [{"name": "a", "moref": "vm-1"}]}, "parameters are mutually exclusive: name|moref|uuid found in vms"),
    ({"vms": [{"overrides": {"name": "x"}}]}, "one of the following is required: name, moref, uuid found in vms"),
    ({"vms": [{"moref": "vm-1", "pool": "other"}]}, "pool. Supported parameters include"),
    ({"vms": [{"moref": "vm-1", "overrides": {"cpus": 2}}]}, "cpus. Supported parameters include"),
])
def test_vm_migrate_refuses_a_bad_batch_entry_or_override_by_its_argument_spec(args, message, capsys, monkeypatch, no_clients):
    base = dict(VSPHERE, uri="qemu:///system")
    if "vms" not in args:
        base["name"] = "web-01"
    code, result = run(vm_migrate, dict(base, **args), capsys, monkeypatch)
    assert code == 1 and message in result["msg"], result["msg"]
