# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.vmshift.virt.plugins.action.migration_report import write_reports
from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput

MIGRATED = {"changed": True, "msg": "migrated", "steps": [{"step": "copy", "seconds": 2.0}],
            "disks": [{"copied_bytes": 1048576, "seconds": 0.5}], "domain": {"name": "db", "state": "running"},
            "guest": {"inspected": True, "type": "linux", "distro": "debian", "version": "12.15", "virtio_block": False,
                      "pins": [{"name": "ens192", "mac": "00:50:56:aa:bb:cc"}], "concerns": []}}
FAILED = {"failed": True, "msg": "copy failed (step copy; rolled back)", "failed_step": "copy"}


def params(tmp_path, vms, wave=1, seconds=10.0):
    return {"wave": wave, "vms": vms, "seconds": seconds, "report_dir": str(tmp_path / "reports")}


def test_a_wave_writes_its_reports_and_the_summary_across_waves(tmp_path):
    first = write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": MIGRATED},
                                            {"name": "app", "target": "kvm1", "result": FAILED}]), False)
    second = write_reports(params(tmp_path, [{"name": "web", "target": "kvm2", "reason": "the wave stopped"}], wave=2), False)
    assert first["changed"] and first["summary"]["counts"] == {"migrated": 1, "already migrated": 0, "failed": 1, "not started": 0}
    assert first["summary"]["failed"] == ["app"]
    written = ["summary.html", "summary.json", "wave-1.html", "wave-1.json", "wave-2.html", "wave-2.json"]
    assert sorted(os.listdir(str(tmp_path / "reports"))) == written
    with open(str(tmp_path / "reports" / "summary.json")) as f:
        assert [w["wave"] for w in json.load(f)["waves"]] == [1, 2]
    assert second["overall"]["vms"] == 3
    html = (tmp_path / "reports" / "wave-1.html").read_text()
    assert "copy failed" in html
    assert "debian 12.15; no virtio drivers in its initramfs; ens192 pinned to 00:50:56:aa:bb:cc" in html
    assert first["vms"][0]["guest"]["distro"] == "debian"  # what inspection read, in the JSON report


def test_a_rerun_of_a_finished_wave_keeps_the_report_as_it_was(tmp_path):
    write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": MIGRATED}]), False)
    before = (tmp_path / "reports" / "wave-1.json").read_text()
    rerun = write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": {"changed": False, "msg": "already migrated"}}],
                                 seconds=1.0), False)
    assert not rerun["changed"]
    assert rerun["vms"][0]["outcome"] == "migrated" and rerun["summary"]["seconds"] == 10.0
    assert (tmp_path / "reports" / "wave-1.json").read_text() == before


def test_check_mode_says_what_would_change_and_writes_nothing(tmp_path):
    result = write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": MIGRATED}]), True)
    assert result["changed"] and not (tmp_path / "reports").exists()


def test_an_entry_without_a_name_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InvalidInput, match=r"vms\[1\] has no name"):
        write_reports(params(tmp_path, [{"name": "db", "result": MIGRATED}, {"target": "kvm1"}]), False)
    assert not (tmp_path / "reports").exists()


def test_the_action_takes_exactly_the_options_its_module_page_documents():
    import yaml
    from ansible_collections.vmshift.virt.plugins.action.migration_report import ARGUMENT_SPEC
    from ansible_collections.vmshift.virt.plugins.modules.migration_report import DOCUMENTATION
    documented = yaml.safe_load(DOCUMENTATION)["options"]
    assert dict((k, (v["type"], v.get("required", False))) for k, v in documented.items()) == \
        dict((k, (v["type"], v.get("required", False))) for k, v in ARGUMENT_SPEC.items())
