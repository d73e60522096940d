# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import neutral_spec, power_only
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import is_subset, merge_patch
from ansible_collections.vmshift.virt.plugins.module_utils.kubevirt.vm_manifest import (
    field_path,
    managed,
    render,
    run_strategy_of,
    validate,
)


def spec(**overrides):
    base = neutral_spec("web-01", uuid="4215c1d2-0000-4000-8000-000000000001", sockets=2, cores=2, memory_mib=4096,
                        disks=[{"name": "root", "size_bytes": 10 * 2 ** 30, "source": {"url": "http://img/rhel.qcow2"}},
                               {"name": "data", "size_bytes": 1536, "source": {"blank": True}},
                               {"name": "tools", "source": {"registry": "quay.io/x/tools:1"}}],
                        nics=[{"name": "nic0", "network": "apps/vlan-93", "mac": "00:50:56:AA:BB:CC"},
                              {"name": "nic1", "pod": True}],
                        cloud_init={"user_data": "#cloud-config\n", "network_config": "version: 2\n"})
    base.update(overrides)
    return base


def test_render_the_neutral_spec():
    vm = render(spec(), "apps", storage_class="rbd", access_mode="ReadWriteMany")
    assert (vm["apiVersion"], vm["kind"], vm["metadata"]["namespace"]) == ("kubevirt.io/v1", "VirtualMachine", "apps")
    assert vm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "vmshift.virt"
    assert vm["spec"]["runStrategy"] == "Always"
    root, data = vm["spec"]["dataVolumeTemplates"]
    assert root == {"metadata": {"name": "web-01-root"}, "spec": {
        "source": {"http": {"url": "http://img/rhel.qcow2"}},
        "storage": {"resources": {"requests": {"storage": "10240Mi"}}, "accessModes": ["ReadWriteMany"],
                    "storageClassName": "rbd"}}}
    assert data["spec"]["storage"]["resources"]["requests"]["storage"] == "1536"
    tmpl = vm["spec"]["template"]["spec"]
    assert tmpl["domain"]["cpu"] == {"sockets": 2, "cores": 2, "threads": 1}
    assert tmpl["domain"]["memory"] == {"guest": "4096Mi"}
    assert tmpl["domain"]["firmware"] == {"uuid": "4215c1d2-0000-4000-8000-000000000001"}
    assert [d["name"] for d in tmpl["domain"]["devices"]["disks"]] == ["root", "data", "tools", "cloudinitdisk"]
    assert tmpl["domain"]["devices"]["disks"][0]["bootOrder"] == 1
    assert tmpl["volumes"][2] == {"name": "tools", "containerDisk": {"image": "quay.io/x/tools:1"}}
    assert tmpl["volumes"][3]["cloudInitNoCloud"] == {"userData": "#cloud-config\n", "networkData": "version: 2\n"}
    assert tmpl["domain"]["devices"]["interfaces"] == [
        {"name": "nic0", "bridge": {}, "model": "virtio", "macAddress": "00:50:56:aa:bb:cc"},
        {"name": "nic1", "masquerade": {}, "model": "virtio"}]
    assert tmpl["networks"] == [{"name": "nic0", "multus": {"networkName": "apps/vlan-93"}}, {"name": "nic1", "pod": {}}]


def test_efi_secure_boot_and_instancetype():
    vm = render(spec(firmware={"type": "efi", "secure_boot": True}), "apps", instancetype="u1.medium",
                preference="rhel.9", run_strategy="Halted")
    domain = vm["spec"]["template"]["spec"]["domain"]
    assert domain["firmware"]["bootloader"] == {"efi": {"secureBoot": True}}
    assert domain["features"] == {"smm": {"enabled": True}}
    assert "cpu" not in domain and "memory" not in domain
    assert vm["spec"]["instancetype"] == {"name": "u1.medium", "kind": "VirtualMachineClusterInstancetype"}
    assert vm["spec"]["runStrategy"] == "Halted"


def test_comparison_ignores_server_additions_and_run_strategy():
    desired = render(spec(), "apps")
    current = render(spec(), "apps", run_strategy="Halted")
    current["metadata"].update(uid="x", resourceVersion="7")
    current["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["serial"] = "added-by-server"
    current["status"] = {"ready": True}
    assert is_subset(managed(desired), managed(current))
    changed = render(spec(memory_mib=8192), "apps")
    assert not is_subset(managed(changed), managed(current))
    fewer_nics = render(spec(nics=[{"name": "nic1", "pod": True}]), "apps")
    assert not is_subset(managed(fewer_nics), managed(current))
    # what kubevirt_vm decides and sends: nothing for the server's additions, the memory alone for a change
    assert merge_patch(managed(current), managed(desired), server_fields=True) == {}
    patch = merge_patch(managed(current), managed(changed), server_fields=True)
    assert patch == {"spec": {"template": {"spec": {"domain": {"memory": {"guest": "8192Mi"}}}}}}, patch


def test_instancetype_and_preference_by_kind():
    vm = render(spec(), "apps", instancetype={"name": "web-medium", "kind": "VirtualMachineInstancetype"},
                preference={"name": "rhel.9"}, run_strategy="RerunOnFailure")
    assert vm["spec"]["instancetype"] == {"name": "web-medium", "kind": "VirtualMachineInstancetype"}
    assert vm["spec"]["preference"] == {"name": "rhel.9", "kind": "VirtualMachineClusterPreference"}
    assert vm["spec"]["runStrategy"] == "RerunOnFailure"


@pytest.mark.parametrize("value,message", [
    ({"name": "x", "kind": "VirtualMachinePreference"}, "instancetype.kind 'VirtualMachinePreference' must be"),
    ({"kind": "VirtualMachineInstancetype"}, "instancetype must be a name, or a dict with name"),
    ({"name": "x", "revision": "1"}, "instancetype.revision is not known"),
])
def test_bad_instancetype(value, message):
    with pytest.raises(InvalidInput) as err:
        render(spec(), "apps", instancetype=value)
    assert message in str(err.value)


def test_hidden_fields_leave_the_diff_and_the_comparison():
    current = render(spec(), "apps")
    current["metadata"]["labels"]["kubemacpool.io/stamp"] = "2026-12-07"
    current["spec"]["template"]["metadata"]["annotations"] = {"kubevirt.io/latest-observed-api-version": "v1"}
    hidden = [field_path("metadata.labels[kubemacpool.io/stamp]"), field_path("spec.template.metadata.annotations"),
              field_path("spec.dataVolumeTemplates[1]"), field_path("spec.no.such.field")]
    assert hidden[0] == ["metadata", "labels", "kubemacpool.io/stamp"]
    assert hidden[2] == ["spec", "dataVolumeTemplates", 1]
    shown = managed(current, hidden)
    assert "kubemacpool.io/stamp" not in shown["metadata"]["labels"]
    assert "annotations" not in shown["spec"]["template"]["metadata"]
    assert [t["metadata"]["name"] for t in shown["spec"]["dataVolumeTemplates"]] == ["web-01-root"]
    assert "kubemacpool.io/stamp" in current["metadata"]["labels"], "the object itself is not changed"
    with pytest.raises(InvalidInput, match="not a field path"):
        field_path("..")


def test_run_strategy_of_old_running_field():
    assert run_strategy_of({"spec": {"running": True}}) == "Always"
    assert run_strategy_of({"spec": {"running": False}}) == "Halted"
    assert run_strategy_of({"spec": {"runStrategy": "Manual"}}) == "Manual"


@pytest.mark.parametrize("bad,message", [
    ({"name": "Web_01"}, "not a valid Kubernetes name"),
    ({"name": "a" * 64}, "not a valid Kubernetes name"),
    ({"memory_mib": 0}, "spec.memory_mib is required"),
    ({"disks": [{"name": "d", "size_bytes": 1, "source": {"vsphere": {}}}]}, "source vsphere cannot be used on KubeVirt"),
    ({"disks": [{"name": "d", "source": {"url": "http://x"}}]}, "size_bytes is required"),
    ({"disks": [{"name": "d", "size_bytes": 1, "source": {"pvc": {}}}]}, "exactly one of url, registry, pvc or blank"),
    ({"nics": [{"network": "a", "binding": "masquerade"}]}, "masquerade binding is for the pod network only"),
    ({"nics": [{}]}, "set exactly one of network"),
])
def test_bad_specs(bad, message):
    with pytest.raises(InvalidInput) as err:
        validate(spec(**bad))
    assert message in str(err.value)


def test_power_only():
    assert power_only({"name": "a"}, "stopped")
    assert not power_only({"name": "a"}, "present")
    assert not power_only({"name": "a", "memory_mib": 1}, "started")
