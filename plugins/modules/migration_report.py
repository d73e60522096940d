#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_report
short_description: Write a migration wave's report (JSON and HTML) and the summary across waves
version_added: 0.1.0
description:
  - From each VM's vmshift.virt.vm_migrate result, writes C(wave-<N>.json) and C(wave-<N>.html) in
    O(report_dir) (each VM's outcome, step timings, bytes copied, throughput, failures with the
    failed step, reason and rollback), then C(summary.json) and C(summary.html) over every wave report
    in that directory.
  - Files are written only when their content changes. Module invocations and connection details
    are never copied into a report.
author:
  - vmshift.virt maintainers (@vmshift)
attributes:
  check_mode:
    support: full
    description: Computes the reports and says whether they would change; writes nothing.
  diff_mode:
    support: none
    description: Returns no diff.
options:
  wave:
    description: The wave number.
    type: int
    required: true
  vms:
    description:
      - One entry per VM of the wave, C({name, target, result}), where C(result) is what
        vmshift.virt.vm_migrate returned (or is left out when the VM was never started, with an
        optional C(reason)).
    type: list
    elements: dict
    required: true
  seconds:
    description: The wave's wall time, for its throughput.
    type: float
  report_dir:
    description: Where the reports go (created if missing).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Report wave 1
  vmshift.virt.migration_report:
    wave: 1
    vms: "{{ wave_entries }}"
    seconds: 842.5
    report_dir: /var/tmp/migration/reports
"""

RETURN = r"""
summary:
  description: This wave's counts (migrated, already migrated, failed, not started), bytes, seconds and the failed VMs.
  returned: always
  type: dict
overall:
  description: The same across every wave report in O(report_dir).
  returned: always
  type: dict
vms:
  description: Each VM's outcome as written to the report.
  returned: always
  type: list
  elements: dict
paths:
  description: The files written.
  returned: always
  type: dict
"""

import glob
import json
import os

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import run_module
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess_service import write_if_changed
from ansible_collections.vmshift.virt.plugins.module_utils.migration.wave_report import (
    outcome,
    overall,
    summary_html,
    wave_html,
    wave_summary,
)


def keep_earlier(path, outcomes, seconds):
    """A rerun finds VMs already migrated: the report keeps the run that migrated them (its bytes, timings
    and wall time), so rerunning a finished wave leaves the report as it was."""
    try:
        with open(path, encoding="utf-8") as f:
            earlier = json.load(f)
    except (OSError, ValueError):
        return outcomes, seconds
    before = dict((r["name"], r) for r in earlier.get("vms") or [])
    kept = [before[r["name"]] if r["outcome"] == "already migrated" and before.get(r["name"], {}).get("outcome") == "migrated"
            else r for r in outcomes]
    if not any(r["outcome"] in ("migrated", "failed") for r in outcomes):
        seconds = (earlier.get("summary") or {}).get("seconds", seconds)
    return kept, seconds


def run(params, check_mode):
    directory = params["report_dir"]
    for i, entry in enumerate(params["vms"]):
        if not entry.get("name"):
            raise InvalidInput("vms[%d] has no name" % i)
    outcomes = [outcome(e) for e in params["vms"]]
    paths = dict((k, os.path.join(directory, n % params["wave"] if "%" in n else n)) for k, n in (
        ("json", "wave-%d.json"), ("html", "wave-%d.html"), ("summary_json", "summary.json"), ("summary_html", "summary.html")))
    try:
        outcomes, seconds = keep_earlier(paths["json"], outcomes, params["seconds"])
        summary = wave_summary(params["wave"], outcomes, seconds)
        if not check_mode:
            os.makedirs(directory, exist_ok=True)
        changed = write_if_changed(paths["json"], json.dumps({"summary": summary, "vms": outcomes}, indent=1, sort_keys=True),
                                   check_mode)
        changed = write_if_changed(paths["html"], wave_html(summary, outcomes), check_mode) or changed
        summaries = {}
        for path in glob.glob(os.path.join(directory, "wave-*.json")):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)["summary"]
            summaries[data["wave"]] = data
        summaries[params["wave"]] = summary
        ordered = [summaries[k] for k in sorted(summaries)]
        total = overall(ordered)
        changed = write_if_changed(paths["summary_json"], json.dumps({"overall": total, "waves": ordered}, indent=1,
                                                                     sort_keys=True), check_mode) or changed
        changed = write_if_changed(paths["summary_html"], summary_html(ordered), check_mode) or changed
    except (OSError, ValueError, KeyError) as exc:
        raise OperationFailure(failed_to("write", "migration report in", directory, str(exc)))
    return {"changed": changed, "summary": summary, "overall": total, "vms": outcomes, "paths": paths}


def main():
    run_module(dict(
        wave=dict(type="int", required=True),
        vms=dict(type="list", elements="dict", required=True),
        seconds=dict(type="float"),
        report_dir=dict(type="path", required=True),
    ), lambda module: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
