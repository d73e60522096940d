# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.vmshift.virt.plugins.filter.wave_results import wave_results

VMS = [{"name": "db", "moref": "vm-1", "target": "kvm1"}, {"name": "app", "moref": "vm-2", "target": "kvm2"},
       {"name": "web", "moref": "vm-3", "target": "kvm1"}]


def test_each_started_vm_gets_its_own_result_in_the_wave_order():
    results = {"vm-3": {"changed": True, "msg": "migrated"}, "vm-1": {"failed": True, "msg": "copy failed"},
               "vm-2": {"changed": False, "not_started": True}}
    assert wave_results(VMS, results) == [
        {"name": "db", "target": "kvm1", "result": {"failed": True, "msg": "copy failed"}},
        {"name": "web", "target": "kvm1", "result": {"changed": True, "msg": "migrated"}},
    ]


def test_a_vm_without_a_result_is_named_in_the_error():
    with pytest.raises(AnsibleFilterError, match="vm-2"):
        wave_results(VMS, {"vm-1": {}, "vm-3": {}})
