# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's login and the KVM host's clone of it (vm_migrate's vsphere_login: controller),
against the lab's vSphere simulator (govmomi's, which spends a clone ticket at its first use as vCenter does)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from pyVmomi import vim

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import AuthenticationFailure
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient, with_clone_ticket

ENV = os.environ


def vm_names(client):
    view = client.content.viewManager.CreateContainerView(client.content.rootFolder, [vim.VirtualMachine], True)
    return sorted(vm.name for vm in view.view)


def test_the_host_gets_a_ticket_in_place_of_the_password_that_clones_the_session_once():
    task = dict(name="DC0_H0_VM0", ca_path=ENV["VMSHIFT_LAB_CA"], pwd=ENV["VMWARE_PASSWORD"])
    controller = dict(VMWARE_HOST=ENV["VMWARE_HOST"], VMWARE_PORT=ENV["VMWARE_PORT"], VMWARE_USER=ENV["VMWARE_USER"])
    args, login = with_clone_ticket(task, controller)
    try:
        assert ENV["VMWARE_PASSWORD"] not in repr(args)
        assert sorted(args) == ["ca_path", "hostname", "name", "port", "session_ticket", "username", "validate_certs"]
        params = dict(args, password=None)
        with VsphereClient.from_params(params) as host:
            assert host.content.sessionManager.currentSession.userName == ENV["VMWARE_USER"]
            assert vm_names(host) == vm_names(login) and "DC0_H0_VM0" in vm_names(host)
        with pytest.raises(AuthenticationFailure, match="refused the session ticket: a clone ticket is good once"):
            with VsphereClient.from_params(params):
                pass
    finally:
        login.__exit__(None, None, None)
