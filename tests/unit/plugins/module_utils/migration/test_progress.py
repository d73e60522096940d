# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wave's progress: what a migration says of itself, and what the controller makes of the notes. The lab's
AAP stage reads the lines of a real wave; here the rules, with the notes of a simulated vCenter in memory
(a stand-in for the property collection: one dict of values per poll)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

from ansible_collections.vmshift.virt.plugins.module_utils.migration import progress
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import CLAIMED, LEFT
from ansible_collections.vmshift.virt.plugins.module_utils.migration.migrate import status_of
from ansible_collections.vmshift.virt.plugins.module_utils.migration.progress import Follower, describe, live_html, state_of

GIB = 1024 ** 3


def claimed(**progress_):
    return CLAIMED + json.dumps({"host": "kvm1", "progress": progress_})


def test_a_migration_says_its_step_and_during_the_copy_its_bytes(tmp_path):
    done = tmp_path / "disk0.progress.json"
    done.write_text(json.dumps({"bytes_done": 300, "bytes_per_second": 100}))
    disks = [{"size": 1000, "present": False, "progress": str(done)},
             {"size": 500, "present": True, "progress": str(tmp_path / "none.json")},
             {"size": 200, "present": False, "progress": str(tmp_path / "not-begun.json")}]
    assert status_of([{"step": "copy", "seconds": None}], True, disks) == {
        "step": "copy", "done": 800, "total": 1700, "rate": 100, "eta": 9}
    assert status_of([{"step": "preflight", "seconds": 0.4}], False, disks) == {"step": "waiting for a slot"}
    assert status_of([], False, disks) == {"step": "preflight"}


def test_a_state_in_a_few_words():
    assert describe(state_of(claimed(step="copy", done=GIB, total=2 * GIB, rate=120e6, eta=12))) == "copy 50 % of 2.0 GiB, 120 MB/s, 12 s left"
    assert describe(state_of(claimed(step="define"))) == "define"
    assert describe(state_of("migrated to qemu:///system as web at 2026-12-06T10:00:00Z")) == "migrated"
    assert describe(state_of(LEFT + json.dumps({"left": ["domain web"]}))) == "failed, left something to roll back"
    assert describe(state_of(None)) == "waiting"


class Notes:
    """The notes of the wave's VMs as each poll reads them: one dict per poll, the last one kept."""

    def __init__(self, polls):
        self.polls = polls
        self.reads = []

    def __call__(self, client, morefs, attribute):
        self.reads.append(list(morefs))
        return dict((m, self.polls[min(len(self.reads), len(self.polls)) - 1].get(m)) for m in morefs)


VMS = [{"name": "db", "moref": "vm-1", "target": "kvm1"}, {"name": "app", "moref": "vm-2", "target": "kvm2"}]


def test_one_line_per_vm_whose_state_changed_and_a_live_page(tmp_path, monkeypatch):
    notes = Notes([{"vm-1": claimed(step="copy", done=0, total=GIB)},
                   {"vm-1": claimed(step="copy", done=0, total=GIB)},  # no change: no line
                   {"vm-1": "migrated to kvm1", "vm-2": claimed(step="power_off")}])
    monkeypatch.setattr(progress, "notes", notes)
    page = tmp_path / "reports" / "wave-3.html"
    follower = Follower(None, VMS, "vmshift.migrated", wave=3, page=str(page), interval=30)
    assert follower.poll() == ["db: copy 0 % of 1.0 GiB"]
    assert follower.poll() == []
    assert follower.poll() == ["db: migrated", "app: power_off"]
    assert follower.done == {"vm-1"} and follower.live()
    html = page.read_text()
    assert "<meta http-equiv='refresh' content='30'>" in html and "data-vm='db' data-state='migrated'" in html
    assert "data-vm='app' data-state='claimed'" in html
    follower.poll()
    assert notes.reads[-1] == ["vm-2"]  # a VM done is read no more


def test_once_its_own_job_ended_it_follows_the_others_until_they_end_or_none_holds_a_claim(monkeypatch):
    said = []
    own_done = threading.Event()

    class JobEnds(Notes):  # the job that follows ends after the first poll
        def __call__(self, *args):
            got = super(JobEnds, self).__call__(*args)
            own_done.set()
            return got
    # vm-1 is the job's own; vm-2's migration runs in another job, then its claim is released (rolled back)
    monkeypatch.setattr(progress, "notes", JobEnds([
        {"vm-1": claimed(step="copy", done=1, total=2), "vm-2": claimed(step="copy", done=1, total=2)},
        {"vm-1": "migrated to kvm1", "vm-2": claimed(step="start")}, {"vm-2": None}]))
    follower = Follower(None, VMS, "vmshift.migrated", interval=0.01)
    follower.own = {"vm-1"}
    follower.follow(said.append, own_done)
    assert said == ["db: copy 50 % of 0.0 GiB", "app: copy 50 % of 0.0 GiB", "db: migrated", "app: start",
                    "app: ended, its claim released (failed and rolled back, or not started)"]
    # a VM of another job that is never claimed (its job stopped before it): two quiet polls, and it ends
    monkeypatch.setattr(progress, "notes", Notes([{}]))
    follower = Follower(None, VMS, "vmshift.migrated", interval=0.01)
    follower.own = {"vm-1"}
    follower.follow(said.append, own_done)
    assert follower.done == {"vm-1"}
    # another job's VM still claimed, but the task's timeout is near: following ends, the job's result is safe
    import time
    monkeypatch.setattr(progress, "notes", Notes([{"vm-2": claimed(step="copy", done=1, total=2)}]))
    follower = Follower(None, VMS, "vmshift.migrated", interval=0.01)
    follower.own = {"vm-1"}
    began = time.monotonic()
    follower.follow(said.append, own_done, deadline=time.monotonic() + 0.2)
    assert time.monotonic() - began < 1 and "vm-2" not in follower.done


def test_a_rerun_of_a_finished_wave_says_nothing_and_writes_no_page(monkeypatch, tmp_path):
    monkeypatch.setattr(progress, "notes", Notes([{"vm-1": "migrated to kvm1", "vm-2": LEFT + "{}"}]))
    follower = Follower(None, VMS, "vmshift.migrated", page=str(tmp_path / "wave-1.html"))
    assert follower.poll() == [] and follower.done == {"vm-1", "vm-2"} and not (tmp_path / "wave-1.html").exists()


def test_the_live_page_shows_each_vm_with_its_bar():
    html = live_html(2, [("db", "kvm1", state_of(claimed(step="copy", done=GIB, total=4 * GIB))), ("app", "kvm1", state_of(None))], 10)
    assert html.count("class='vm'") == 2 and "<rect width='50' height='12' fill='#1e88e5'/>" in html and "waiting" in html
