# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MTV manifests as current Forklift reads them (pkg/apis/forklift/v1beta1 plan.go, hook.go)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.migration.mtv import check, hook_manifest, plan_spec

VMS = [{"id": "vm-1", "name": "web-01", "ignored": True}, {"id": "vm-2"}]
DEFAULTS = {"type": "cold", "preserve_static_ips": True, "target_power_state": "auto", "migrate_shared_disks": True,
            "skip_guest_conversion": False, "transfer_network": None}


def params(**overrides):
    out = dict(DEFAULTS, state="present", vms=VMS, hooks=[], warm=None, network_map={"VM Network": "pod"},
               storage_map={"ds": "sc"}, vsphere={"hostname": "vc", "username": "u", "password": "p"})
    out.update(overrides)
    return out


def test_the_defaults_write_type_and_only_what_differs_from_mtv_defaults():
    spec = plan_spec("vmware", "openshift-mtv", "wave-1", "apps", VMS, DEFAULTS)
    assert spec["type"] == "cold" and "warm" not in spec
    assert spec["preserveStaticIPs"] is True
    for field in ("migrateSharedDisks", "skipGuestConversion", "targetPowerState", "transferNetwork"):
        assert field not in spec
    assert spec["vms"] == [{"id": "vm-1", "name": "web-01"}, {"id": "vm-2"}]
    assert spec["map"]["network"] == {"name": "wave-1-network", "namespace": "openshift-mtv"}


def test_every_option_lands_in_its_forklift_field():
    options = dict(DEFAULTS, type="warm", preserve_static_ips=False, target_power_state="off", migrate_shared_disks=False,
                   skip_guest_conversion=True, transfer_network="storage/xfer-net")
    spec = plan_spec("vmware", "openshift-mtv", "wave-2", "apps", VMS, options, {"post": "wave-2-post", "pre": "wave-2-pre"})
    assert (spec["type"], spec["warm"]) == ("warm", True)  # warm too, for MTV releases that read only spec.warm
    assert "preserveStaticIPs" not in spec
    assert (spec["migrateSharedDisks"], spec["skipGuestConversion"], spec["targetPowerState"]) == (False, True, "off")
    assert spec["transferNetwork"] == {"name": "xfer-net", "namespace": "storage"}
    assert spec["vms"][1]["hooks"] == [{"step": "PostHook", "hook": {"name": "wave-2-post", "namespace": "openshift-mtv"}},
                                       {"step": "PreHook", "hook": {"name": "wave-2-pre", "namespace": "openshift-mtv"}}]
    assert plan_spec("vmware", "ns", "w", "apps", VMS, dict(DEFAULTS, transfer_network="xfer"))["transferNetwork"] == {
        "name": "xfer", "namespace": "apps"}


def test_hooks_run_an_image_with_its_playbook_or_launch_an_aap_job_template():
    image = hook_manifest("wave-1", "openshift-mtv", {"step": "pre", "image": "quay.io/kubev2v/hook-runner",
                                                      "playbook": "- hosts: localhost\n", "deadline": 300,
                                                      "service_account": "hooks", "aap": None})
    assert image["kind"] == "Hook" and image["metadata"] == {"name": "wave-1-pre", "namespace": "openshift-mtv"}
    assert base64.b64decode(image["spec"].pop("playbook")).decode() == "- hosts: localhost\n"
    assert image["spec"] == {"image": "quay.io/kubev2v/hook-runner", "deadline": 300, "serviceAccount": "hooks"}
    hook = {"step": "post", "aap": {"job_template_id": 42, "url": "https://aap", "token_secret": "aap-token", "timeout": 600}}
    aap = hook_manifest("wave-1", "openshift-mtv", hook)
    assert aap["spec"] == {"aap": {"jobTemplateId": 42, "url": "https://aap", "timeout": 600,
                                   "tokenSecret": {"name": "aap-token", "namespace": "openshift-mtv"}}}


def test_warm_is_read_as_type_with_a_warning_and_refused_when_it_contradicts_type():
    given = params(type=None, warm=True)
    assert check(given) == ["warm is deprecated (MTV deprecates spec.warm): use type: warm"]
    assert given["type"] == "warm"
    with pytest.raises(InvalidInput, match="warm: True contradicts type: cold"):
        check(params(type="cold", warm=True))
    unset = params(type=None)
    assert check(unset) == [] and unset["type"] == "cold"


def test_one_hook_a_step():
    with pytest.raises(InvalidInput, match=r"one hook a step \(pre, post\); post is given twice"):
        check(params(hooks=[{"step": "post", "image": "a"}, {"step": "post", "image": "b"}]))
