# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The assessment as a person reads it: Markdown and a self-contained HTML page."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(results, summary, title="Migration assessment"):
    lines = ["# %s" % title, "",
             "%d VMs: %d ready, %d blocked. Concerns: %d critical, %d warning, %d info." % (
                 summary["vms"], summary["ready_vms"], summary["blocked_vms"], summary["critical"],
                 summary["warning"], summary["info"]), ""]
    for result in results:
        status = "BLOCKED" if result["blocked"] else "ready"
        lines += ["## %s (%s) — %s" % (_md(result["name"]), _md(result["moref"]), status), ""]
        if not result["concerns"]:
            lines += ["No concerns.", ""]
            continue
        lines += ["| severity | concern | fix |", "| --- | --- | --- |"]
        lines += ["| %s | %s | %s |" % (c["severity"], _md(c["message"]), _md(c["fix"])) for c in result["concerns"]]
        lines.append("")
    return "\n".join(lines)


def html(results, summary, title="Migration assessment"):
    colour = {"critical": "#b00020", "warning": "#8a6d00", "info": "#3b5b92"}
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title><style>"
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.blocked{color:#b00020}"
             "</style></head><body>" % escape(title),
             "<h1>%s</h1>" % escape(title),
             "<table><tr><th>VMs</th><th>ready</th><th>blocked</th><th>critical</th><th>warning</th><th>info</th></tr>"
             "<tr>%s</tr></table>" % "".join("<td>%d</td>" % summary[k] for k in
                                             ("vms", "ready_vms", "blocked_vms", "critical", "warning", "info"))]
    for result in results:
        parts.append("<h2%s>%s <small>(%s)</small> — %s</h2>" % (
            " class='blocked'" if result["blocked"] else "", escape(str(result["name"])), escape(str(result["moref"])),
            "BLOCKED" if result["blocked"] else "ready"))
        if not result["concerns"]:
            parts.append("<p>No concerns.</p>")
            continue
        parts.append("<table><tr><th>severity</th><th>concern</th><th>fix</th></tr>")
        for c in result["concerns"]:
            parts.append("<tr><td style='color:%s'>%s</td><td>%s</td><td>%s</td></tr>" % (
                colour[c["severity"]], c["severity"], escape(c["message"]), escape(c["fix"])))
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
