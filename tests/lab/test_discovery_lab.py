# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery against the lab's vSphere simulator, below the module: what a unit test cannot show."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import discovery

ENV = os.environ
PARAMS = dict(hostname=ENV["VMWARE_HOST"], port=int(ENV["VMWARE_PORT"]), username=ENV["VMWARE_USER"],
              password=ENV["VMWARE_PASSWORD"], validate_certs=True, ca_path=ENV["VMSHIFT_LAB_CA"])


def test_a_vm_deleted_between_the_phases_is_left_out_not_fatal():
    everything = discovery.discover_vms(dict(PARAMS, workers=1))["vms"]
    real = everything[0]["moref"]
    # vm-999999 stands for a VM deleted after the summary phase listed it
    facts = discovery.fetch_facts(PARAMS, ["vm-999999", real], {}, {})
    assert [f["moref"] for f in facts] == [real]


def test_parallel_workers_return_the_same_vms_as_one():
    one = discovery.discover_vms(dict(PARAMS, workers=1))["vms"]
    two = discovery.discover_vms(dict(PARAMS, workers=2))["vms"]
    assert [v["moref"] for v in one] == [v["moref"] for v in two]
    assert one == two


def test_migrations_noting_a_new_attribute_at_once_all_succeed():
    """Several migrations finishing together each define the source note attribute if it is missing: the
    server answers all but the first with DuplicateName, which must not fail a migration."""
    import threading
    import uuid

    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.source_vm import SourceVm

    vms = discovery.discover_vms(dict(PARAMS, workers=1))["vms"][:6]
    attribute = "vmshift.it-%s" % uuid.uuid4().hex[:8]  # new on the server: every thread finds it missing
    barrier = threading.Barrier(len(vms))
    errors = []

    def note(facts):
        try:
            with VsphereClient.from_params(PARAMS) as client:
                source = SourceVm(client, facts["moref"], facts)
                barrier.wait()
                source.note(attribute, "migrated to " + facts["name"])
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("%s: %s" % (facts["name"], exc))
    threads = [threading.Thread(target=note, args=(vm,)) for vm in vms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    after = dict((v["name"], v["custom_attributes"].get(attribute)) for v in discovery.discover_vms(dict(PARAMS, workers=1))["vms"])
    assert all(after[v["name"]] == "migrated to " + v["name"] for v in vms)


def test_the_fast_reader_reads_what_pyvmomi_reads_from_the_simulator():
    """Every VM's full properties and the inventory tree, read from the same server through both readers."""
    from pyVmomi import vim

    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import client as vsphere_client
    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import VM_PROPERTIES, build_vms

    def collect():
        with vsphere_client.VsphereClient.from_params(PARAMS) as client:
            kinds = dict((getattr(vim, kind), paths) for kind, paths in discovery.TREE_PROPERTIES.items())
            kinds[vim.VirtualMachine] = VM_PROPERTIES
            return build_vms(client.retrieve(kinds), include_templates=True)

    fast = collect()
    fast_reader = vsphere_client.retrieve_properties
    vsphere_client.retrieve_properties = lambda collector, method, args: getattr(collector, method)(*args)
    try:
        slow = collect()
    finally:
        vsphere_client.retrieve_properties = fast_reader
    assert len(fast) >= 4 and fast == slow


def test_a_fault_from_the_server_is_the_exception_pyvmomi_raises():
    """The simulator answers a continuation with a fault (it pages nothing): the fast reader raises what
    pyVmomi raises for the same call."""
    import pytest
    from pyVmomi import vmodl

    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.fast_reader import retrieve_properties

    with VsphereClient.from_params(PARAMS) as client:
        collector = client.content.propertyCollector
        with pytest.raises(vmodl.MethodFault) as by_pyvmomi:
            collector.ContinueRetrievePropertiesEx(token="no-such-token")
        with pytest.raises(vmodl.MethodFault) as fast:
            retrieve_properties(collector, "ContinueRetrievePropertiesEx", ["no-such-token"])
    assert type(fast.value) is type(by_pyvmomi.value)
