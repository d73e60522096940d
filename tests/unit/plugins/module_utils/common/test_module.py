# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module wrapper, run as a module runs: arguments in, one JSON result out."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import NotFound, WaitTimeout
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import Library, run_module
from ansible_collections.vmshift.virt.plugins.module_utils.common.service import reports_changes


def run(capsys, monkeypatch, service, libraries=(), args=None, **kwargs):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_module({"name": {"type": "str"}, "secret": {"type": "str", "no_log": True}}, service, libraries, **kwargs)
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_success_result_passes_through(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, lambda m: {"changed": True, "thing": m.params["name"]}, args={"name": "x"})
    assert code == 0 and result["changed"] is True and result["thing"] == "x"


def test_collection_error_is_one_message_without_traceback(capsys, monkeypatch):
    def service(module):
        raise NotFound("Failed to find VM 'web-01': it does not exist", known=["db-01"])

    code, result = run(capsys, monkeypatch, service, args={"secret": "hunter2"})
    assert code == 1
    assert result["msg"] == "Failed to find VM 'web-01': it does not exist"
    assert result["known"] == ["db-01"]
    assert "Traceback" not in result.get("exception", "")
    assert "hunter2" not in json.dumps(result)


def test_missing_library_uses_ansibles_message(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, lambda m: {}, libraries=[Library("pyvmomi", ImportError("no pyVmomi"), "tb")])
    assert code == 1
    assert "Failed to import the required Python library (pyvmomi)" in result["msg"]


@pytest.mark.parametrize("secret", ["hunter2", 'quo"te\\slash', "ünïcode"])
def test_a_secret_in_the_result_is_masked_and_never_printed(capsys, monkeypatch, secret):
    code, result = run(capsys, monkeypatch, lambda m: {"changed": False, "note": "login " + secret + " used", "more": ["x" + secret]},
                       args={"name": "x", "secret": secret})
    text = json.dumps(result, ensure_ascii=False)
    assert code == 0 and secret not in text and "********" in result["note"]
    assert result["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_a_result_without_secrets_keeps_the_invocation_masked(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, lambda m: {"changed": False, "vms": [{"name": "web-%d" % i} for i in range(3)]},
                       args={"name": "x", "secret": "hunter2"})
    assert code == 0 and "hunter2" not in json.dumps(result)
    assert result["invocation"]["module_args"] == {"name": "x", "secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert result["vms"][2] == {"name": "web-2"}


@pytest.mark.parametrize("bulk_result", [True, False])
def test_a_bulk_result_is_built_without_the_cycle_collector_which_comes_back_after(capsys, monkeypatch, bulk_result):
    import gc
    seen = []
    code, result = run(capsys, monkeypatch, lambda m: seen.append(gc.isenabled()) or {"changed": False}, bulk_result=bulk_result)
    assert code == 0 and seen == [not bulk_result] and gc.isenabled()


class Acting:
    """A service that acts, then fails (a wait that runs out after a start)."""

    def __init__(self, check_mode, own_details=None):
        self.check_mode = check_mode
        self.actions = []
        self.own_details = own_details or {}

    @reports_changes
    def run(self, act=True):
        if act:
            self.actions.extend(["define domain", "start domain"])
        raise WaitTimeout("Timed out waiting for VM 'web-01'", **self.own_details)


def test_a_failure_after_a_change_says_changed_and_what_is_left(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, lambda m: Acting(False).run())
    assert code == 1 and result["changed"] is True
    assert result["left"] == result["actions"] == ["define domain", "start domain"]


@pytest.mark.parametrize("service", [lambda m: Acting(True).run(), lambda m: Acting(False).run(act=False)],
                         ids=["check mode", "nothing done"])
def test_a_failure_before_any_change_says_unchanged(capsys, monkeypatch, service):
    code, result = run(capsys, monkeypatch, service)
    assert code == 1 and not result.get("changed") and "left" not in result


def test_a_failure_that_knows_better_keeps_its_own_account(capsys, monkeypatch):
    code, result = run(capsys, monkeypatch, lambda m: Acting(False, {"left": []}).run())
    assert result["changed"] is True and result["left"] == []


def test_warnings_of_a_result_are_ansible_warnings_not_a_result_key(capsys, monkeypatch):
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, message: warned.append(message))
    code, result = run(capsys, monkeypatch, lambda m: {"changed": False, "warnings": ["no node matches"]})
    assert code == 0 and warned == ["no node matches"] and "no node matches" not in json.dumps(result)
