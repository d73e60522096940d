# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wave's progress while it runs, followed on the controller.

Each migration renews its claim on its source VM's note attribute with how far it is (guard.py: its step,
bytes copied, rate, seconds left). The controller reads the notes of the wave's VMs in one property
collection every ``interval`` seconds, over the vSphere session it logged in with, and says one compact line
for each VM whose state changed, and writes a live page (``wave-<N>.html``, refreshed by the browser) that
the wave's report replaces when the wave ends. Nothing is read from the KVM hosts, and nothing of Ansible's
async machinery is relied on: the notes are the migrations' own, and vCenter shows them too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from html import escape

from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import parse_note

GIB = 1024.0 ** 3


def notes(client, morefs, attribute):
    """{moref: the note attribute's value as vCenter has it now (None: not set)} of the VMs ``morefs``."""
    from pyVmomi import vim  # the controller's; present wherever vm_migrate logs in

    manager = client.content.customFieldsManager
    field = next((f for f in (manager.field if manager is not None else []) or [] if f.name == attribute), None)
    found = client.retrieve_objects(vim.VirtualMachine, list(morefs), ["customValue"])
    out = dict((moref, None) for moref in morefs)
    for moref, (dummy, props) in found.items():
        values = [v.value for v in props.get("customValue") or [] if field is not None and v.key == field.key]
        out[moref] = values[-1] if values else None  # the last: govmomi's simulator appends where vCenter replaces
    return out


def state_of(value):
    """What a note says of a migration: {state: claimed|migrated|left|free, progress, host}."""
    kind, holder = parse_note(value)
    return {"state": kind, "progress": holder.get("progress"), "host": holder.get("host")}


def describe(state):
    """A state in a few words: "copy 45 % of 2.0 GiB, 120 MB/s, 12 s left", "migrated", "failed, left: ..."."""
    if state["state"] == "migrated":
        return "migrated"
    if state["state"] == "left":
        return "failed, left something to roll back"
    if state["state"] == "free":
        return "ended, its claim released (failed and rolled back, or not started)" if state.get("ended") else "waiting"
    progress = state.get("progress") or {}
    text = progress.get("step") or "started"
    if progress.get("total"):
        text += " %d %% of %.1f GiB" % (100.0 * (progress.get("done") or 0) / progress["total"], progress["total"] / GIB)
        if progress.get("rate"):
            text += ", %.0f MB/s" % (progress["rate"] / 1e6)
        if progress.get("eta") is not None:
            text += ", %d s left" % progress["eta"]
    return text


def live_html(wave, rows, interval):
    """The live page: [(name, target, state)] as a table with a bar per VM, refreshed every ``interval`` s."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='%d'>"
             "<title>Wave %s (running)</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>" % (max(1, interval), escape(str(wave))),
             "<h1>Migration wave %s: running</h1><p>As of %s UTC; this page refreshes every %d s and becomes the wave's "
             "report when it ends.</p>" % (escape(str(wave)), time.strftime("%H:%M:%S", time.gmtime()), interval),
             "<table><tr><th>VM</th><th>target</th><th>state</th><th>copied</th></tr>"]
    for name, target, state in rows:
        progress = state.get("progress") or {}
        share = (progress.get("done") or 0) / float(progress["total"]) if progress.get("total") else (
            1.0 if state["state"] == "migrated" else 0.0)
        parts.append("<tr class='vm' data-vm='%s' data-state='%s'><td>%s</td><td>%s</td><td>%s</td><td><svg width='200' "
                     "height='12'><rect width='200' height='12' fill='#eee'/><rect width='%.0f' height='12' fill='%s'/></svg>"
                     "</td></tr>" % (escape(name, True), escape(state["state"], True), escape(name), escape(str(target or "")),
                                     escape(describe(state)), 200 * share, "#b00020" if state["state"] == "left" else "#1e88e5"))
    parts.append("</table></body></html>")
    return "\n".join(parts)


class Follower:
    """Follows the VMs ``vms`` ([{name, moref, target}]) of a wave: ``poll`` reads their notes and returns the
    lines for the VMs whose state changed, and writes the live page ``page`` when given."""

    def __init__(self, client, vms, attribute, wave=None, page=None, interval=30):
        self.client = client
        self.vms = vms
        self.attribute = attribute
        self.wave = wave
        self.page = page
        self.interval = interval
        self.said = {}
        self.last = {}  # moref -> the state last read
        self.claimed = set()  # VMs seen claimed: once their claim is gone they are done
        self.done = set()
        self.own = set()  # the VMs of the job that follows: done once it ended
        self.polled = False

    def poll(self):
        """[lines] for the VMs whose state changed since the last poll; the live page rewritten."""
        pending = [vm for vm in self.vms if vm["moref"] not in self.done]
        values = notes(self.client, [vm["moref"] for vm in pending], self.attribute)
        states = dict((moref, state_of(value)) for moref, value in values.items())
        lines = []
        first, self.polled = not self.polled, True
        for vm in pending:
            state = self.last[vm["moref"]] = states[vm["moref"]]
            if first and state["state"] in ("migrated", "left"):
                self.done.add(vm["moref"])  # the outcome of an earlier run: nothing of this one to say
                continue
            if state["state"] == "claimed":
                self.claimed.add(vm["moref"])
            elif state["state"] in ("migrated", "left") or vm["moref"] in self.claimed:
                self.done.add(vm["moref"])
            if state["state"] == "free" and vm["moref"] in self.claimed:
                state["ended"] = True
            text = describe(state)
            if (state["state"] != "free" or state.get("ended")) and self.said.get(vm["moref"]) != text:
                self.said[vm["moref"]] = text
                lines.append("%s: %s" % (vm["name"], text))
        if self.page and self.claimed:  # a rerun that finds everything done leaves the report as it was
            rows = [(vm["name"], vm.get("target"), self.last.get(vm["moref"]) or {"state": "free"}) for vm in self.vms]
            os.makedirs(os.path.dirname(self.page) or ".", exist_ok=True)
            tmp = self.page + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(live_html(self.wave, rows, self.interval))
            os.replace(tmp, self.page)
        return lines

    def live(self):
        """Whether a VM not done yet holds a claim (a migration of it runs somewhere)."""
        return any(vm["moref"] in self.claimed and vm["moref"] not in self.done for vm in self.vms)

    def follow(self, say, own_done, deadline=None):
        """Say the lines of each poll, every ``interval`` seconds. Once ``own_done`` is set (the job that follows
        ended), say its own VMs' (``own``) last states, and go on only while VMs of other jobs are not done and a
        migration of one of them holds a claim (two quiet polls end it), and not past ``deadline`` (a
        time.monotonic(): the task's own timeout, which must not take the job's result with it)."""
        quiet = 0
        while True:
            ended = own_done.is_set()
            for line in self.poll():
                say(line)
            if not ended:
                own_done.wait(self.interval)
                continue
            self.done.update(self.own)
            left = None if deadline is None else deadline - time.monotonic()
            if len(self.done) == len(self.vms) or (left is not None and left <= self.interval):
                return
            quiet = 0 if self.live() else quiet + 1
            if quiet >= 2:
                return
            time.sleep(self.interval)
