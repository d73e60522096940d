# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection argument specs shared by modules; each has a doc fragment of the same meaning
(plugins/doc_fragments/<backend>.py). The environment fallbacks are those that AAP's credential
types inject, so a job template needs no extra variables. The Kubernetes connection options are
kubernetes.core's own (k8s/client.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback


def vsphere_argument_spec():
    return dict(
        hostname=dict(type="str", fallback=(env_fallback, ["VMWARE_HOST"])),
        username=dict(type="str", aliases=["user"], fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", aliases=["pass", "pwd"], no_log=True,
                      fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["VMWARE_CA_PATH"])),
    )


def libvirt_argument_spec():
    return dict(
        uri=dict(type="str", default="qemu:///system", fallback=(env_fallback, ["LIBVIRT_DEFAULT_URI"])),
    )


def libvirt_guest_argument_spec():
    """How a domain is run and waited for (libvirt_vm, vm_migrate)."""
    return dict(
        domain_type=dict(type="str", default="kvm", choices=["kvm", "qemu"]),
        serial_log=dict(type="path"),
        wait_for=dict(type="str", default="running", choices=["none", "running", "serial", "ip", "agent"]),
        serial_pattern=dict(type="str"),
        wait_timeout=dict(type="int", default=300),
    )
