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
