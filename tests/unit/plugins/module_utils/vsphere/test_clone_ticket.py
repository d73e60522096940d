# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller hands a KVM host when it has no password to log in with (the login itself and the
ticket are tried against the simulator in tests/lab/test_session_lab.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import with_clone_ticket


def test_without_a_password_the_found_connection_is_passed_on_and_no_login_happens():
    args, login = with_clone_ticket(dict(name="web01", user="admin", port=None), dict(VMWARE_HOST="vc.example.com"))
    assert login is None
    assert args == dict(name="web01", username="admin", hostname="vc.example.com")


def test_a_task_option_wins_over_the_controller_environment():
    args, login = with_clone_ticket(dict(hostname="vc1", validate_certs=False), dict(VMWARE_HOST="vc2", VMWARE_VALIDATE_CERTS="true"))
    assert login is None and args == dict(hostname="vc1", validate_certs=False)


def test_bad_connection_values_are_refused_naming_the_fields_before_any_login():
    with pytest.raises(InvalidInput, match="port must be a number"):
        with_clone_ticket(dict(hostname="vc", username="u", pwd="p", port="https"), {})
    with pytest.raises(InvalidInput, match="hostname is required: set the hostname option or the VMWARE_HOST"):
        with_clone_ticket(dict(username="u"), dict(VMWARE_PASSWORD="p"))
