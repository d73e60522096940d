# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from kubernetes.client.exceptions import ApiException

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import AuthenticationFailure, Conflict, NotFound
from ansible_collections.vmshift.virt.plugins.module_utils.k8s.client import KubeClient, conditions, translate, true_condition


def flaky(statuses):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(statuses):
            raise ApiException(status=statuses[len(calls) - 1], reason="busy")
        return "ok"
    return call, calls


def test_throttling_and_5xx_are_retried_within_bounds():
    call, calls = flaky([429, 503])
    assert KubeClient.call(call) == "ok" and len(calls) == 3


def test_other_errors_are_not_retried():
    call, calls = flaky([404])
    with pytest.raises(ApiException):
        KubeClient.call(call)
    assert len(calls) == 1


def test_translation_names_what_failed():
    assert isinstance(translate(ApiException(status=401), "get", "VirtualMachine", "web", "https://api:6443"), AuthenticationFailure)
    assert isinstance(translate(ApiException(status=404), "get", "VirtualMachine", "web"), NotFound)
    err = translate(ApiException(status=409, reason="Conflict"), "create", "VirtualMachine", "web")
    assert isinstance(err, Conflict) and err.message.startswith("Failed to create VirtualMachine 'web': ")


def test_true_condition_reads_an_object_or_a_status_entry():
    obj = {"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Degraded", "status": "True", "message": "1/3"}]}}
    assert true_condition(obj, "Ready") is None
    assert true_condition(obj, "Degraded")["message"] == "1/3"
    assert true_condition({"metadata": {}}, "Ready") is None and conditions(None) == []
    entry = {"id": "vm-1", "conditions": [{"type": "Succeeded", "status": "True"}]}
    assert true_condition(entry, "Succeeded") == {"type": "Succeeded", "status": "True"}
