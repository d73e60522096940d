# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab smoke tests: each real part of the lab answers as its real counterpart would.

- vSphere: govmomi's simulator (real vSphere API over TLS), read with pyVmomi, certificate checked.
- KVM: the real libvirt daemon and QEMU boot the lab's test guest, which prints its marker.
- Kubernetes: a STAND-IN (kmock's emulator, tests/lab/k8s_emulator.py), driven by the real
  kubernetes Python client; its stand-in controller plays KubeVirt's status.
Run by `tests/run.sh smoke` with the lab's environment (tests/lab/lab.sh env).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl
import time
import urllib.error
import urllib.request
import uuid

import libvirt
import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import dynamic
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

ENV = os.environ


def vcenter(cafile, password=None):
    return SmartConnect(host=ENV["VMWARE_HOST"], port=int(ENV["VMWARE_PORT"]), user=ENV["VMWARE_USER"],
                        pwd=password or ENV["VMWARE_PASSWORD"], sslContext=ssl.create_default_context(cafile=cafile))


def test_pyvmomi_reads_simulator_inventory_over_verified_tls():
    si = vcenter(ENV["VMSHIFT_LAB_CA"])
    try:
        content = si.RetrieveContent()
        assert content.about.apiType == "VirtualCenter"
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        names = sorted(vm.name for vm in view.view)
        view.Destroy()
        # the lab's model: 1 cluster pool and 1 standalone host, 2 VMs each
        assert names == ["DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_H0_VM0", "DC0_H0_VM1"]
    finally:
        Disconnect(si)


def test_simulator_refuses_unknown_ca_and_wrong_password():
    with pytest.raises(ssl.SSLCertVerificationError):
        vcenter(ENV["VMSHIFT_LAB_OTHER_CA"])
    with pytest.raises(vim.fault.InvalidLogin):
        vcenter(ENV["VMSHIFT_LAB_CA"], password="not-the-password")


def test_test_guest_boots_on_lab_libvirtd_and_prints_marker(tmp_path):
    name = "vmshift-smoke-%s" % uuid.uuid4().hex[:8]
    lab = ENV["VMSHIFT_LAB_DIR"]
    disk = os.path.join(lab, "pool", name + ".raw")
    serial = os.path.join(lab, "log", name + ".serial")
    with open(ENV["VMSHIFT_LAB_GUEST_IMAGE"], "rb") as src, open(disk, "wb") as dst:
        dst.write(src.read())
    xml = """<domain type='%s'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
      <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/>
      <target dev='vda' bus='virtio'/></disk>
      <serial type='file'><source path='%s'/><target port='0'/></serial></devices></domain>""" % (
        ENV["VMSHIFT_LAB_DOMAIN_TYPE"], name, disk, serial)
    conn = libvirt.open(ENV["LIBVIRT_DEFAULT_URI"])
    dom = conn.createXML(xml, 0)
    try:
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline:
            if os.path.exists(serial):
                with open(serial, errors="replace") as f:
                    text = f.read()
                if "VMSHIFT-GUEST-READY" in text:
                    break
            time.sleep(0.5)
        assert "VMSHIFT-GUEST-READY" in text, "no marker on the serial console; got: %r" % text[-500:]
    finally:
        dom.destroy()
        conn.close()
        os.unlink(disk)


@pytest.fixture
def kube():
    k8s_config.load_kube_config(config_file=ENV["K8S_AUTH_KUBECONFIG"])
    return dynamic.DynamicClient(k8s_client.ApiClient())


def test_kubernetes_client_creates_and_reads_virtualmachine_on_emulator(kube):
    """STAND-IN: the API is kmock's emulator and Ready is set by the lab's stand-in controller."""
    vms = kube.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
    name = "smoke-%s" % uuid.uuid4().hex[:8]
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": "vmshift-lab"},
            "spec": {"runStrategy": "Always", "template": {"spec": {"domain": {"devices": {}}}}}}
    created = vms.create(body=body, namespace="vmshift-lab")
    try:
        assert created.metadata.uid
        assert name in [i.metadata.name for i in vms.get(namespace="vmshift-lab").items]
        with pytest.raises(dynamic.exceptions.ConflictError):
            vms.create(body=body, namespace="vmshift-lab")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = vms.get(name=name, namespace="vmshift-lab")
            if got.status and got.status.ready:
                break
            time.sleep(0.2)
        assert got.status.printableStatus == "Running"
    finally:
        vms.delete(name=name, namespace="vmshift-lab")
    with pytest.raises(dynamic.exceptions.NotFoundError):
        vms.get(name=name, namespace="vmshift-lab")


def test_emulator_refuses_what_the_upstream_types_refuse(kube):
    """STAND-IN strictness: a VirtualMachine with a field KubeVirt's type does not have, or a patch that adds one, is
    refused as a strict API server refuses it (422); the same object without it is taken."""
    vms = kube.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
    name = "smoke-%s" % uuid.uuid4().hex[:8]
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "namespace": "vmshift-lab"},
            "spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"devices": {}, "cpus": 2}}}}}
    with pytest.raises(dynamic.exceptions.UnprocessibleEntityError) as refused:
        vms.create(body=body, namespace="vmshift-lab")
    assert "spec.template.spec.domain" in str(refused.value.body) and "cpus" in str(refused.value.body)
    del body["spec"]["template"]["spec"]["domain"]["cpus"]
    vms.create(body=body, namespace="vmshift-lab")
    try:
        with pytest.raises(dynamic.exceptions.UnprocessibleEntityError):
            vms.patch(name=name, namespace="vmshift-lab", body={"spec": {"runStrategy": "Halted", "running": "yes"}},
                      content_type="application/merge-patch+json")
        patched = vms.patch(name=name, namespace="vmshift-lab", body={"spec": {"runStrategy": "Manual"}},
                            content_type="application/merge-patch+json")
        assert patched.spec.runStrategy == "Manual"
    finally:
        vms.delete(name=name, namespace="vmshift-lab")


def test_emulator_requires_the_token_and_serves_every_api_the_collection_uses(kube):
    for api_version, kind in [
        ("kubevirt.io/v1", "VirtualMachineInstance"), ("cdi.kubevirt.io/v1beta1", "DataVolume"),
        ("nmstate.io/v1", "NodeNetworkConfigurationPolicy"),
        ("nmstate.io/v1beta1", "NodeNetworkConfigurationEnactment"), ("nmstate.io/v1beta1", "NodeNetworkState"),
        ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"), ("forklift.konveyor.io/v1beta1", "Provider"),
        ("forklift.konveyor.io/v1beta1", "NetworkMap"), ("forklift.konveyor.io/v1beta1", "StorageMap"),
        ("forklift.konveyor.io/v1beta1", "Plan"), ("forklift.konveyor.io/v1beta1", "Migration"),
        ("v1", "Namespace"), ("v1", "Secret"),
    ]:
        assert kube.resources.get(api_version=api_version, kind=kind).kind == kind
    server = k8s_client.Configuration.get_default_copy().host
    context = ssl.create_default_context(cafile=ENV["VMSHIFT_LAB_CA"])
    for token in ("wrong", None):
        request = urllib.request.Request(server + "/apis/kubevirt.io/v1")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, context=context)
        assert err.value.code == 401
