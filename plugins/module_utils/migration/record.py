# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A migration's record on the host that runs it (``work_dir/<source instance UUID>/state.json``): the source's
power state before the migration (written before the first change, so a crash cannot lose it), what was
created, each disk's change markers and copy statistics; and what a resume may trust of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import descriptor_cid


class Record:
    """The migration's record on disk: JSON, written atomically."""

    def __init__(self, directory):
        self.directory = directory
        self.path = os.path.join(directory, "state.json")
        self.data = {}

    def load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {}
        return self.data

    def save(self):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def created(self, kind, value):
        """Note something this migration made on the target, before making it."""
        items = self.data.setdefault("created", {}).setdefault(kind, [])
        if value not in items:
            items.append(value)
            self.save()

    def made(self, target):
        """What the migration made that is still there (``target``: the LibvirtClient), for a failure that was
        not rolled back."""
        created = self.data.get("created", {})
        return (["domain %s" % n for n in created.get("domain", []) if target.domain(n) is not None]
                + ["file %s" % p for p in created.get("files", []) if os.path.exists(p)])

    def delete_files(self):
        """Delete the files the migration made: ([what was deleted], [what could not be, and why])."""
        done, left = [], []
        for path in self.data.get("created", {}).get("files", []):
            if os.path.exists(path):
                try:
                    os.unlink(path)
                    done.append("delete %s" % path)
                except OSError as exc:
                    left.append("%s: %s" % (path, exc))
        return done, left

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def restart_changed_copies(record, source, disks, was_on):
    """Start over each disk whose copy began in an earlier run when its source may have changed since: the
    source VM ran in between, or its change markers (content ID, CBT changeId, files' size and modification
    time) differ from those recorded when the copy began, or none were recorded. Then record the markers.
    Returns what it did: one action per disk started over."""
    files_of = dict((d["source"], [d["descriptor"]] + [e["file"] for e in d["extents"] if e["file"]]) for d in disks)
    fresh = source.disk_markers(files_of)
    recorded = record.data.get("markers") or {}
    actions = []
    for disk in disks:
        fresh[disk["source"]]["cid"] = descriptor_cid(disk["files"].read_text(disk["descriptor"]))
        began = disk["present"] or os.path.exists(disk["part"]) or os.path.exists(disk["journal"])
        old = recorded.get(disk["source"])
        if not began:
            continue
        if was_on and old is not None:
            reason = "the source VM was powered on after this disk's copy began"
        elif old is None:
            reason = "no record of the source disk's state when its copy began"
        else:
            changed = [what for key, what in (("cid", "content ID"), ("change_id", "CBT changeId"),
                                              ("files", "files' size or modification time"))
                       if old.get(key) != fresh[disk["source"]].get(key)]
            reason = "the source disk changed after its copy began (%s)" % ", ".join(changed) if changed else None
        if reason:
            for path in (disk["part"], disk["path"], disk["journal"], disk["progress"]):
                if os.path.exists(path):
                    os.unlink(path)
            record.data.get("disks", {}).pop(disk["name"], None)
            disk.update(present=False, restarted=reason)
            actions.append("restart the copy of %s: %s" % (disk["source"], reason))
    record.data["markers"] = fresh
    record.save()
    return actions
