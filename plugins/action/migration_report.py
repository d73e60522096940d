# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmshift.virt.migration_report (documented in plugins/modules/migration_report.py): the reports are for
the people and jobs on the controller, so they are written there, in the task's own process: no module
start-up on a host (measured: ~0.35 s of every wave)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess_service import write_if_changed
from ansible_collections.vmshift.virt.plugins.module_utils.migration.wave_report import (
    outcome,
    overall,
    read_wave_reports,
    summary_html,
    wave_html,
    wave_summary,
    with_estimates,
)
from ansible_collections.vmshift.virt.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = dict(
    wave=dict(type="int", required=True),
    vms=dict(type="list", elements="dict", required=True),
    seconds=dict(type="float"),
    report_dir=dict(type="path", required=True),
    limits=dict(type="dict"),
    estimate=dict(type="dict"),
)


def keep_earlier(path, outcomes, summary):
    """A rerun finds VMs already migrated: the report keeps the run that migrated them (its bytes, timings,
    estimate and wall time), so rerunning a finished wave leaves the report as it was."""
    try:
        with open(path, encoding="utf-8") as f:
            earlier = json.load(f)
    except (OSError, ValueError):
        return outcomes, summary
    before = dict((r["name"], r) for r in earlier.get("vms") or [])
    kept = [before[r["name"]] if r["outcome"] == "already migrated" and before.get(r["name"], {}).get("outcome") == "migrated"
            else r for r in outcomes]
    if not any(r["outcome"] in ("migrated", "failed") for r in outcomes):
        earlier_summary = earlier.get("summary") or {}
        summary = dict(summary, **dict((k, earlier_summary[k]) for k in ("seconds", "estimate", "limits") if k in earlier_summary))
    return kept, summary


def write_reports(params, check_mode):
    directory = params["report_dir"]
    for i, entry in enumerate(params["vms"]):
        if not entry.get("name"):
            raise InvalidInput("vms[%d] has no name" % i)
    outcomes = with_estimates([outcome(e) for e in params["vms"]], params.get("estimate"))
    paths = dict((k, os.path.join(directory, n % params["wave"] if "%" in n else n)) for k, n in (
        ("json", "wave-%d.json"), ("html", "wave-%d.html"), ("summary_json", "summary.json"), ("summary_html", "summary.html")))
    try:
        outcomes, kept = keep_earlier(paths["json"], outcomes, {"seconds": params["seconds"], "limits": params.get("limits"),
                                                                "estimate": params.get("estimate")})
        summary = wave_summary(params["wave"], outcomes, kept["seconds"], kept["limits"], kept["estimate"])
        if not check_mode:
            os.makedirs(directory, exist_ok=True)
        changed = write_if_changed(paths["json"], json.dumps({"summary": summary, "vms": outcomes}, indent=1, sort_keys=True),
                                   check_mode)
        changed = write_if_changed(paths["html"], wave_html(summary, outcomes), check_mode) or changed
        summaries = dict((wave, report["summary"]) for wave, report in read_wave_reports(directory).items())
        summaries[params["wave"]] = summary
        ordered = [summaries[k] for k in sorted(summaries)]
        total = overall(ordered)
        changed = write_if_changed(paths["summary_json"], json.dumps({"overall": total, "waves": ordered}, indent=1,
                                                                     sort_keys=True), check_mode) or changed
        changed = write_if_changed(paths["summary_html"], summary_html(ordered), check_mode) or changed
    except (OSError, ValueError, KeyError) as exc:
        raise OperationFailure(failed_to("write", "migration report in", directory, str(exc)))
    return {"changed": changed, "summary": summary, "overall": total, "vms": outcomes, "paths": paths}


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def work(self, params, check_mode):
        return write_reports(params, check_mode)
