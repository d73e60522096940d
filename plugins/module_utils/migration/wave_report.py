# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wave reports: each VM's outcome from vm_migrate's result, a wave summary, and a summary across
waves; as JSON (for the next job, and the estimates of later waves) and HTML (for a person: a table, and a
timeline of each VM's steps with the copy rate over time, drawn as inline SVG). Pure builders, and the
wave reports of a directory read back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
from html import escape

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput


def read_wave_reports(directory):
    """{wave number: the wave's report ({summary, vms})} of every wave-<N>.json in ``directory`` ({} when none);
    InvalidInput naming the directory when one cannot be read."""
    reports = {}
    try:
        for path in glob.glob(os.path.join(directory, "wave-*.json")):
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            reports[report["summary"]["wave"]] = report
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("report_dir %s: a wave report cannot be read (%s); move it away or fix it" % (directory, exc))
    return reports


OUTCOMES = ("migrated", "already migrated", "failed", "not started")
KEPT = ("msg", "failed_step", "steps", "disks", "domain", "source", "wait", "rollback", "actions", "guest")


def outcome(entry):
    """One VM: {name, target, outcome, seconds, bytes, bytes_per_second, ...} from the role's entry
    {name, target, result} (result: vm_migrate's, or None when it was never started)."""
    result = entry.get("result")
    out = {"name": entry["name"], "target": entry.get("target"), "source_host": entry.get("source_host")}
    if result is None:
        out.update(outcome="not started", msg=entry.get("reason") or "the wave stopped before this VM")
        return out
    out.update((k, result[k]) for k in KEPT if k in result)
    if result.get("failed"):
        out["outcome"] = "failed"
    elif result.get("changed"):
        out["outcome"] = "migrated"
    else:
        out["outcome"] = "already migrated"
    disks = result.get("disks") or []
    copied = sum(d.get("copied_bytes") or 0 for d in disks if not d.get("skipped"))
    copy_seconds = sum(d.get("seconds") or 0 for d in disks if not d.get("skipped"))
    out["bytes"] = copied
    out["bytes_per_second"] = int(copied / copy_seconds) if copy_seconds else None
    out["seconds"] = round(sum(s.get("seconds") or 0 for s in result.get("steps") or []), 2)
    # already migrated: the steps are those of the run that migrated it, when vm_migrate's record had them
    out["downtime_seconds"] = downtime(result.get("steps")) if out["outcome"] != "failed" else None
    return out


def downtime(steps):
    """Seconds from the source's power-off to the end of the start on the target (the guest up as wait_for
    says), when the steps say both with their start times; else None."""
    by_name = dict((s["step"], s) for s in steps or [])
    off, up = by_name.get("power_off"), by_name.get("start")
    if not (off and up and off.get("started") and up.get("started") and up.get("seconds") is not None) or up.get("failed"):
        return None
    return round(up["started"] + up["seconds"] - off["started"], 1)


def wave_summary(wave, outcomes, seconds=None, limits=None, estimate=None):
    """The wave's counts, bytes, seconds and failed VMs, with the limits it ran with and the estimate made
    before it (migration_estimate's, without its VMs: each VM's is in its outcome)."""
    counts = dict((o, sum(1 for r in outcomes if r["outcome"] == o)) for o in OUTCOMES)
    copied = sum(r.get("bytes") or 0 for r in outcomes if r["outcome"] == "migrated")  # what this wave's runs copied
    return {"wave": wave, "vms": len(outcomes), "counts": counts, "bytes": copied, "seconds": seconds,
            "bytes_per_second": int(copied / seconds) if seconds else None,
            "failed": sorted(r["name"] for r in outcomes if r["outcome"] == "failed"), "limits": limits,
            "estimate": dict((k, v) for k, v in estimate.items() if k != "vms") if estimate else None}


def with_estimates(outcomes, estimate):
    """Each outcome with its VM's estimate ({copy_seconds, downtime_seconds, from}), when there is one."""
    by_name = dict((vm["name"], vm) for vm in (estimate or {}).get("vms") or [])
    return [dict(r, estimate=dict((k, by_name[r["name"]][k]) for k in ("copy_seconds", "downtime_seconds", "from")))
            if r["name"] in by_name else r for r in outcomes]


def guest_text(guest):
    """What inspection found, in a line: the OS, what would keep it from booting, the names pinned."""
    if not guest:
        return ""
    if not guest.get("inspected"):
        return "not inspected: %s" % guest.get("reason")
    parts = [" ".join(str(guest.get(k) or "") for k in ("distro", "version")).strip() or str(guest.get("type"))]
    if guest.get("virtio_block") is False:
        parts.append("no virtio drivers in its initramfs")
    parts.extend("%(name)s pinned to %(mac)s" % p for p in guest.get("pins") or [])
    parts.extend(guest.get("concerns") or [])
    return "; ".join(parts)


def _mib(nbytes):
    return "%.1f MiB" % ((nbytes or 0) / 1048576.0)


def _or_blank(value):
    return "" if value is None else str(value)


def _rate(bps):
    return "%.0f MB/s" % (bps / 1e6) if bps else ""


STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;max-width:40em;overflow-wrap:anywhere}"
         ".failed{color:#b00020}.migrated{color:#1b5e20}")

COLORS = {"preflight": "#b0bec5", "power_off": "#ffb300", "copy": "#1e88e5", "pin_names": "#8e24aa", "convert": "#5e35b1",
          "define": "#43a047", "start": "#00897b", "mark_done": "#6d4c41"}


def _copy_rate(outcomes):
    """[(seconds since epoch, bytes per second of all copies then)]: each copy's rate spread evenly over its step."""
    changes = []
    for r in outcomes:
        copy = next((s for s in r.get("steps") or [] if s["step"] == "copy" and s.get("started") and s.get("seconds")), None)
        if copy and r.get("bytes"):
            rate = r["bytes"] / copy["seconds"]
            changes += [(copy["started"], rate), (copy["started"] + copy["seconds"], -rate)]
    points, level = [], 0.0
    for when, delta in sorted(changes):
        level += delta
        points.append((when, max(0.0, level)))
    return points


def timeline_svg(outcomes, width=960):
    """Each VM a row, its steps as bars on one time axis (a failed step marked), its downtime at the end of
    the row, and below them the copy rate of the whole wave over time. Inline SVG, no script."""
    timed = [s for r in outcomes for s in r.get("steps") or [] if s.get("started")]
    if not timed:
        return ""
    t0 = min(s["started"] for s in timed)
    total = max(max(s["started"] + (s.get("seconds") or 0) for s in timed) - t0, 0.1)
    left, right, row, chart = 170, 110, 18, 70
    scale = (width - left - right) / total
    rows_end = 20 + row * len(outcomes)
    height = rows_end + 30 + chart + 20
    out = ["<svg xmlns='http://www.w3.org/2000/svg' class='timeline' width='%d' height='%d' role='img' "
           "aria-label='Timeline of the wave: each VM&#39;s steps, and the copy rate'>" % (width, height)]
    for tick in range(6):
        x = left + (width - left - right) * tick / 5.0
        out.append("<line x1='%.1f' y1='12' x2='%.1f' y2='%d' stroke='#eee'/><text x='%.1f' y='10' font-size='10' "
                   "text-anchor='middle'>%.0f s</text>" % (x, x, rows_end, x, total * tick / 5.0))
    for i, r in enumerate(outcomes):
        y = 20 + row * i
        out.append("<g class='vm' data-vm='%s' data-outcome='%s'><text x='0' y='%d' font-size='11'>%s</text>" % (
            escape(r["name"], True), escape(r["outcome"], True), y + 12, escape(r["name"][:26])))
        for step in r.get("steps") or []:
            if not step.get("started"):
                continue
            x = left + (step["started"] - t0) * scale
            w = max(1.0, (step.get("seconds") or 0) * scale)
            out.append("<rect class='step %s%s' x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'%s><title>%s: %s s</title></rect>" % (
                escape(step["step"], True), " failed" if step.get("failed") else "", x, y + 2, w, row - 4,
                COLORS.get(step["step"], "#999"), " stroke='#b00020' stroke-width='2'" if step.get("failed") else "",
                escape(step["step"]), step.get("seconds")))
            if step.get("failed"):
                out.append("<text class='failed-mark' x='%.1f' y='%d' font-size='13' fill='#b00020'>&#10007; %s</text>" % (
                    x + w + 2, y + 13, escape(step["step"])))
        note = ("down %.1f s" % r["downtime_seconds"]) if r.get("downtime_seconds") is not None else r["outcome"]
        out.append("<text x='%d' y='%d' font-size='11'>%s</text></g>" % (width - right + 6, y + 12, escape(note)))
    points = _copy_rate(outcomes)
    peak = max([rate for dummy, rate in points] + [1.0])
    base = rows_end + 30 + chart
    path = ["%.1f,%d" % (left, base)]
    level = 0.0
    for when, rate in points:
        x = left + (when - t0) * scale
        path += ["%.1f,%.1f" % (x, base - level / peak * chart), "%.1f,%.1f" % (x, base - rate / peak * chart)]
        level = rate
    out.append("<text x='0' y='%d' font-size='11'>copy rate</text><text x='0' y='%d' font-size='10'>peak %s</text>"
               "<polyline class='copy-rate' fill='none' stroke='#1e88e5' points='%s'/><line x1='%d' y1='%d' x2='%d' y2='%d' "
               "stroke='#999'/></svg>" % (base - chart + 12, base - chart + 26, _rate(peak), " ".join(path), left, base,
                                          width - right, base))
    return "".join(out)


def _estimated(summary):
    estimate = summary.get("estimate")
    if not estimate:
        return ""
    return " Estimated before the wave: %.0f s for %s (%s)." % (estimate["seconds"], _mib(estimate["bytes"]), escape(estimate["from"]))


def wave_html(summary, outcomes):
    counts = summary["counts"]
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Wave %s</title><style>%s</style></head><body>"
             % (summary["wave"], STYLE),
             "<h1>Migration wave %s</h1>" % escape(str(summary["wave"])),
             "<p>%d VMs: %d migrated, %d already migrated, %d failed, %d not started. %s copied%s.</p>" % (
                 summary["vms"], counts["migrated"], counts["already migrated"], counts["failed"], counts["not started"],
                 _mib(summary["bytes"]), (" in %.1f s (%s)" % (summary["seconds"], _rate(summary["bytes_per_second"])))
                 if summary["seconds"] else "") + _estimated(summary),
             timeline_svg(outcomes),
             "<table><tr><th>VM</th><th>target</th><th>outcome</th><th>copied</th><th>rate</th><th>down (s)</th>"
             "<th>estimated down (s)</th><th>steps (s)</th><th>guest</th><th>failure</th></tr>"]
    for r in outcomes:
        steps = ", ".join("%s %s" % (s["step"], s.get("seconds")) for s in r.get("steps") or [])
        failure = ""
        if r["outcome"] in ("failed", "not started"):
            failure = escape(str(r.get("msg") or ""))
            if r.get("rollback"):
                failure += "<br><i>rollback:</i> %s" % escape(", ".join(r["rollback"].get("actions") or []) or "nothing to undo")
        parts.append("<tr><td>%s</td><td>%s</td><td class='%s'>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                     "<td>%s</td><td>%s</td></tr>" % (
                         escape(r["name"]), escape(str(r.get("target") or "")), r["outcome"].split()[0], r["outcome"],
                         _mib(r.get("bytes")), _rate(r.get("bytes_per_second")), _or_blank(r.get("downtime_seconds")),
                         _or_blank((r.get("estimate") or {}).get("downtime_seconds")), escape(steps),
                         escape(guest_text(r.get("guest"))), failure))
    parts.append("</table></body></html>")
    return "\n".join(parts)


def overall(summaries):
    total = dict((o, sum(s["counts"][o] for s in summaries)) for o in OUTCOMES)
    return {"waves": len(summaries), "vms": sum(s["vms"] for s in summaries), "counts": total,
            "bytes": sum(s["bytes"] for s in summaries), "failed": [n for s in summaries for n in s["failed"]]}


def summary_html(summaries):
    total = overall(summaries)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Migration summary</title><style>%s</style></head><body>" % STYLE,
             "<h1>Migration summary</h1>",
             "<p>%d waves, %d VMs: %d migrated, %d already migrated, %d failed, %d not started; %s copied.</p>" % (
                 total["waves"], total["vms"], total["counts"]["migrated"], total["counts"]["already migrated"],
                 total["counts"]["failed"], total["counts"]["not started"], _mib(total["bytes"])),
             "<table><tr><th>wave</th><th>VMs</th><th>migrated</th><th>already</th><th>failed</th><th>not started</th>"
             "<th>copied</th><th>seconds</th><th>estimated s</th><th>failed VMs</th></tr>"]
    for s in summaries:
        parts.append("<tr><td><a href='wave-%s.html'>%s</a></td><td>%d</td><td>%d</td><td>%d</td><td class='failed'>%d</td><td>%d</td>"
                     "<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                         s["wave"], s["wave"], s["vms"], s["counts"]["migrated"], s["counts"]["already migrated"],
                         s["counts"]["failed"], s["counts"]["not started"], _mib(s["bytes"]), s["seconds"] or "",
                         _or_blank((s.get("estimate") or {}).get("seconds")), escape(", ".join(s["failed"]))))
    parts.append("</table></body></html>")
    return "\n".join(parts)
