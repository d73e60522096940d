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
    # a rerun estimates again (from the first run's report), but the report keeps the estimate made for that run
    again = write_reports(dict(params(tmp_path, [{"name": "db", "target": "kvm1", "result": {"changed": False, "msg": "already migrated"}}],
                                      seconds=1.0), estimate={"seconds": 3.0, "bytes": 1, "from": "earlier waves", "vms": []},
                               limits={"parallel": 1}), False)
    assert not again["changed"] and (tmp_path / "reports" / "wave-1.json").read_text() == before


def test_a_rerun_after_the_controller_died_reports_the_run_that_migrated_the_vm(tmp_path):
    """The first run's controller was killed before it reported; its migration went on to its end on the KVM host.
    The rerun finds the VM already migrated, with the steps and disks of that run from vm_migrate's record."""
    steps = [{"step": "power_off", "started": 100.0, "seconds": 1.0}, {"step": "copy", "started": 101.0, "seconds": 16.0},
             {"step": "define", "started": 117.0, "seconds": 0.5}, {"step": "start", "started": 117.5, "seconds": 2.5}]
    found = {"changed": False, "msg": "already migrated (2026-12-07T05:33:48Z)", "steps": steps,
             "disks": [{"copied_bytes": 32 * 1048576, "seconds": 16.0}]}
    rerun = write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": found}], seconds=1.8), False)
    (vm,) = rerun["vms"]
    assert vm["outcome"] == "already migrated" and vm["downtime_seconds"] == 20.0 and vm["bytes"] == 32 * 1048576
    # the wave's own figures are this run's: it copied nothing
    assert rerun["summary"]["bytes"] == 0 and rerun["summary"]["counts"]["already migrated"] == 1
    html = (tmp_path / "reports" / "wave-1.html").read_text()
    assert "data-vm='db' data-outcome='already migrated'" in html and "down 20.0 s" in html


def test_check_mode_says_what_would_change_and_writes_nothing(tmp_path):
    result = write_reports(params(tmp_path, [{"name": "db", "target": "kvm1", "result": MIGRATED}]), True)
    assert result["changed"] and not (tmp_path / "reports").exists()


def test_an_entry_without_a_name_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InvalidInput, match=r"vms\[1\] has no name"):
        write_reports(params(tmp_path, [{"name": "db", "result": MIGRATED}, {"target": "kvm1"}]), False)
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("name", ["migration_report", "migration_estimate"])
def test_the_action_takes_exactly_the_options_its_module_page_documents(name):
    import importlib
    import yaml
    spec = importlib.import_module("ansible_collections.vmshift.virt.plugins.action." + name).ARGUMENT_SPEC
    page = yaml.safe_load(importlib.import_module("ansible_collections.vmshift.virt.plugins.modules." + name).DOCUMENTATION)
    documented = dict(page["options"])
    for fragment in page.get("extends_documentation_fragment") or []:  # vmshift.virt.<name>
        module = importlib.import_module("ansible_collections.vmshift.virt.plugins.doc_fragments." + fragment.split(".")[-1])
        documented.update(yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"])

    def shape(options):
        return dict((k, (v["type"], v.get("required", False), v.get("default"), shape(v.get("options") or v.get("suboptions") or {})))
                    for k, v in options.items())
    assert shape(documented) == shape(spec)


def steps(start, power_off, copy, define, start_seconds, failed=None):
    """vm_migrate's steps with their start times, one after the other from ``start``."""
    out, now = [], start
    for name, seconds in (("preflight", 0.5), ("power_off", power_off), ("copy", copy), ("define", define), ("start", start_seconds)):
        out.append(dict({"step": name, "started": now, "seconds": seconds}, **({"failed": True} if name == failed else {})))
        if name == failed:
            break
        now += seconds
    return out


def test_the_report_shows_each_vms_downtime_and_a_timeline_beside_the_estimate(tmp_path):
    t0 = 1765000000.0
    db = dict(MIGRATED, steps=steps(t0, 2.0, 10.0, 0.5, 3.0), disks=[{"copied_bytes": 500 * 1048576, "seconds": 10.0}])
    app = dict(FAILED, steps=steps(t0 + 1, 1.0, 4.0, 0, 0, failed="copy"))
    estimate = {"wave": 1, "seconds": 20.0, "span": 15.0, "overhead": 5.0, "bytes": 2 << 30, "from": "defaults",
                "vms": [{"name": "db", "copy_seconds": 9.0, "downtime_seconds": 14.0, "from": "defaults"}]}
    got = write_reports(dict(params(tmp_path, [{"name": "db", "target": "kvm1", "source_host": "esx1", "result": db},
                                               {"name": "app", "target": "kvm1", "result": app},
                                               {"name": "web", "target": "kvm1", "reason": "the wave stopped"}], seconds=18.0),
                             limits={"parallel": 2}, estimate=estimate), False)
    db_out = got["vms"][0]
    # down from the source's power-off to the end of the start: 2 + 10 + 0.5 + 3
    assert db_out["downtime_seconds"] == 15.5 and db_out["source_host"] == "esx1"
    assert db_out["estimate"] == {"copy_seconds": 9.0, "downtime_seconds": 14.0, "from": "defaults"}
    assert got["vms"][1]["downtime_seconds"] is None and "estimate" not in got["vms"][1]
    assert got["summary"]["estimate"] == dict((k, v) for k, v in estimate.items() if k != "vms")
    assert got["summary"]["limits"] == {"parallel": 2}
    html = (tmp_path / "reports" / "wave-1.html").read_text()
    assert "Estimated before the wave: 20 s" in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert [row.split("'")[0] for row in svg.split("data-vm='")[1:]] == ["db", "app", "web"]  # one row per VM
    assert "data-outcome='failed'" in svg and "class='step copy failed'" in svg and "failed-mark" in svg
    assert "down 15.5 s" in svg and "class='copy-rate'" in svg
    summary = (tmp_path / "reports" / "summary.html").read_text()
    assert "<th>estimated s</th>" in summary and "<td>20.0</td>" in summary


def test_a_pilot_that_cannot_log_in_leaves_the_defaults_and_never_stops_the_wave():
    from ansible_collections.vmshift.virt.plugins.action import migration_estimate
    # nothing listens on port 1: the login fails, a warning says so, and no rate is given
    params = dict(hostname="127.0.0.1", port=1, username="u", password="p", validate_certs=True, ca_path=None,
                  pilot_mib=64, pilot_seconds=1.0)
    assert migration_estimate.pilots(params, {"ds1": ("DC0", "web/web.vmdk")}) == {}
    assert migration_estimate.pilots(dict(params, hostname=""), {"ds1": ("DC0", "web/web.vmdk")}) == {}
