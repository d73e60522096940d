# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wave reports: each VM's outcome from vm_migrate's result, a wave summary, and a summary across
waves; as JSON (for the next job) and HTML (for a person). Pure builders."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape

OUTCOMES = ("migrated", "already migrated", "failed", "not started")
KEPT = ("msg", "failed_step", "steps", "disks", "domain", "source", "wait", "rollback", "actions", "guest")


def outcome(entry):
    """One VM: {name, target, outcome, seconds, bytes, bytes_per_second, ...} from the role's entry
    {name, target, result} (result: vm_migrate's, or None when it was never started)."""
    result = entry.get("result")
    out = {"name": entry["name"], "target": entry.get("target")}
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
    return out


def wave_summary(wave, outcomes, seconds=None):
    counts = dict((o, sum(1 for r in outcomes if r["outcome"] == o)) for o in OUTCOMES)
    copied = sum(r.get("bytes") or 0 for r in outcomes)
    return {"wave": wave, "vms": len(outcomes), "counts": counts, "bytes": copied, "seconds": seconds,
            "bytes_per_second": int(copied / seconds) if seconds else None,
            "failed": sorted(r["name"] for r in outcomes if r["outcome"] == "failed")}


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


def _rate(bps):
    return "%.0f MB/s" % (bps / 1e6) if bps else ""


STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
         ".failed{color:#b00020}.migrated{color:#1b5e20}")


def wave_html(summary, outcomes):
    counts = summary["counts"]
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Wave %s</title><style>%s</style></head><body>"
             % (summary["wave"], STYLE),
             "<h1>Migration wave %s</h1>" % escape(str(summary["wave"])),
             "<p>%d VMs: %d migrated, %d already migrated, %d failed, %d not started. %s copied%s.</p>" % (
                 summary["vms"], counts["migrated"], counts["already migrated"], counts["failed"], counts["not started"],
                 _mib(summary["bytes"]), (" in %.1f s (%s)" % (summary["seconds"], _rate(summary["bytes_per_second"])))
                 if summary["seconds"] else ""),
             "<table><tr><th>VM</th><th>target</th><th>outcome</th><th>copied</th><th>rate</th>"
             "<th>steps (s)</th><th>guest</th><th>failure</th></tr>"]
    for r in outcomes:
        steps = ", ".join("%s %s" % (s["step"], s.get("seconds")) for s in r.get("steps") or [])
        failure = ""
        if r["outcome"] in ("failed", "not started"):
            failure = escape(str(r.get("msg") or ""))
            if r.get("rollback"):
                failure += "<br><i>rollback:</i> %s" % escape(", ".join(r["rollback"].get("actions") or []) or "nothing to undo")
        parts.append("<tr><td>%s</td><td>%s</td><td class='%s'>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            escape(r["name"]), escape(str(r.get("target") or "")), r["outcome"].split()[0], r["outcome"],
            _mib(r.get("bytes")), _rate(r.get("bytes_per_second")), escape(steps), escape(guest_text(r.get("guest"))), failure))
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
             "<th>copied</th><th>seconds</th><th>failed VMs</th></tr>"]
    for s in summaries:
        parts.append("<tr><td><a href='wave-%s.html'>%s</a></td><td>%d</td><td>%d</td><td>%d</td><td class='failed'>%d</td><td>%d</td>"
                     "<td>%s</td><td>%s</td><td>%s</td></tr>" % (
                         s["wave"], s["wave"], s["vms"], s["counts"]["migrated"], s["counts"]["already migrated"],
                         s["counts"]["failed"], s["counts"]["not started"], _mib(s["bytes"]), s["seconds"] or "",
                         escape(", ".join(s["failed"]))))
    parts.append("</table></body></html>")
    return "\n".join(parts)
