# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, NotFound
from ansible_collections.vmshift.virt.plugins.module_utils.common.vm_spec import check_spec, missing_for_power, wants_running


@pytest.mark.parametrize("spec,state,expected", [
    ({}, "present", True), ({"power_state": "stopped"}, "present", False), ({"power_state": "stopped"}, "started", True),
    ({}, "stopped", False), ({}, "restarted", True),
])
def test_wants_running(spec, state, expected):
    assert wants_running(spec, state) is expected


def test_check_spec_needs_only_a_name_to_remove_or_power():
    calls = []
    check_spec({"name": "a"}, "absent", calls.append, "domain")
    check_spec({"name": "a"}, "stopped", calls.append, "domain")
    assert calls == []
    check_spec({"name": "a", "memory_mib": 1}, "started", calls.append, "domain")
    assert calls == [{"name": "a", "memory_mib": 1}]
    with pytest.raises(InvalidInput, match="spec.name is required: the VirtualMachine name"):
        check_spec({}, "absent", calls.append, "VirtualMachine")


def test_missing_for_power_names_the_verb():
    err = missing_for_power("restarted", "domain", "web-01")
    assert isinstance(err, NotFound)
    assert err.message == "Failed to restart domain 'web-01': it does not exist; give the full spec to create it"
