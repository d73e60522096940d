# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-run-per-VM guards. The lab's vm_migrate target runs them against the vSphere simulator with two
real runs; here the rules, with a source that keeps its note in memory (the note API and a clock only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import Conflict
from ansible_collections.vmshift.virt.plugins.module_utils.migration import guard
from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import HostLock, SourceClaim, new_owner, parse_note


class NoteSource:
    """The part of SourceVm a claim uses: one VM's attributes and vCenter's clock."""

    def __init__(self, now=1000.0):
        self.notes = {}
        self.now = now

    def read_note(self, attribute):
        return self.notes.get(attribute)

    def note(self, attribute, value):
        self.notes[attribute] = value

    def server_time(self):
        return self.now


def owner(host="kvm1", pid=None, name="web"):
    return dict(new_owner("qemu:///system", name), host=host, pid=pid or os.getpid())


def test_parse_note_tells_claims_from_other_values():
    assert parse_note(None) == ("free", {})
    assert parse_note("") == ("free", {})
    assert parse_note('migrating {"host": "a"}') == ("claimed", {"host": "a"})
    assert parse_note('left {"host": "a", "left": ["x"]}') == ("left", {"host": "a", "left": ["x"]})
    assert parse_note("migrated to qemu:///system as web at 2026") == ("migrated", {})
    assert parse_note("migrating soon, says Bob") == ("free", {})  # a person's note is no claim


def test_a_second_lock_on_one_vm_is_refused_naming_the_holder(tmp_path):
    first = HostLock(str(tmp_path), "uuid-1")
    first.acquire(owner(name="web"), check_mode=False)
    second = HostLock(str(tmp_path), "uuid-1")
    with pytest.raises(Conflict) as err:
        second.acquire(owner(name="web2"), check_mode=False)
    assert "a migration to qemu:///system as 'web' from kvm1" in err.value.message
    assert "wait for that run to end" in err.value.message
    assert err.value.details["held_by"]["as"] == "web"
    with pytest.raises(Conflict):
        HostLock(str(tmp_path), "uuid-1").acquire(owner(), check_mode=True)  # check mode sees it too
    HostLock(str(tmp_path), "uuid-2").acquire(owner(), check_mode=False)  # another VM is free
    first.release()
    second.acquire(owner(name="web2"), check_mode=False)
    assert second.previous["as"] == "web"  # the last holder, gone now


def test_the_lock_of_a_killed_run_is_free(tmp_path):
    code = ("import sys, time; sys.path[:0] = %r\n"
            "from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import HostLock, new_owner\n"
            "HostLock(%r, 'uuid-1').acquire(new_owner('t', 'web'), False); print('held', flush=True); time.sleep(60)"
            % (sys.path, str(tmp_path)))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"held"
        with pytest.raises(Conflict):
            HostLock(str(tmp_path), "uuid-1").acquire(owner(), check_mode=False)
    finally:
        child.kill()
        child.wait()
    lock = HostLock(str(tmp_path), "uuid-1")
    lock.acquire(owner(), check_mode=False)
    assert lock.previous["pid"] == child.pid


def test_a_lock_timeout_waits_for_the_run_that_holds_the_lock_to_end(tmp_path):
    first = HostLock(str(tmp_path), "uuid-1")
    first.acquire(owner(name="web"), check_mode=False)
    now = [0.0]

    def sleep(seconds):  # the holder ends after 3 s of waiting
        now[0] += seconds
        if now[0] >= 3:
            first.release()

    waiting = HostLock(str(tmp_path), "uuid-1")
    waiting.acquire(owner(name="web2"), check_mode=False, timeout=10, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 3 and waiting.previous["as"] == "web"
    # a holder that outlasts the timeout: refused after it, saying how long it waited; check mode never waits
    with pytest.raises(Conflict) as err:
        HostLock(str(tmp_path), "uuid-1").acquire(owner(), check_mode=False, timeout=5, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 8 and "after 5 s of waiting" in err.value.message
    with pytest.raises(Conflict) as err:
        HostLock(str(tmp_path), "uuid-1").acquire(owner(), check_mode=True, timeout=5, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 8 and "give lock_timeout to wait for it" not in err.value.message


def test_check_mode_creates_no_lock_file(tmp_path):
    HostLock(str(tmp_path / "work"), "uuid-1").acquire(owner(), check_mode=True)
    assert not (tmp_path / "work").exists()


def claimed(source, holder, alive):
    source.note("vmshift.migrated", guard.CLAIMED + json.dumps(dict(holder, alive=alive, since="2026-12-05T10:00:00Z")))


def test_a_live_claim_from_another_host_blocks_with_who_and_since():
    source = NoteSource()
    claimed(source, owner(host="kvm2", name="web"), alive=source.now - 30)
    claim = SourceClaim(source, "vmshift.migrated", owner())
    message = claim.blocker({})
    assert "a migration to qemu:///system as 'web' from kvm2" in message
    assert "since 2026-12-05T10:00:00Z" in message and "renewed 30 s ago" in message


def test_a_claim_not_renewed_for_the_lease_is_taken_over():
    source = NoteSource()
    claimed(source, owner(host="kvm2"), alive=source.now - guard.LEASE_STALE - 1)
    claim = SourceClaim(source, "vmshift.migrated", owner())
    assert claim.blocker({}) is None
    assert "not renewed for 301 s" in claim.taken_over


def test_a_claim_of_a_dead_run_on_this_host_is_taken_over_at_once():
    source = NoteSource()
    dead = owner(pid=2 ** 22 + 7)  # above the kernel's pid limit: no process has it
    claimed(source, dead, alive=source.now)
    claim = SourceClaim(source, "vmshift.migrated", owner())
    assert claim.blocker({}) is None and "that run is gone" in claim.taken_over
    alive_pid = owner()  # this process: alive, but its host lock was free, so it is the run that held it
    claimed(source, alive_pid, alive=source.now)
    assert SourceClaim(source, "vmshift.migrated", owner()).blocker({"token": alive_pid["token"]}) is None
    assert SourceClaim(source, "vmshift.migrated", owner()).blocker({}) is not None


def test_left_is_taken_over_on_its_host_only():
    source = NoteSource()
    source.note("vmshift.migrated", guard.LEFT + json.dumps(dict(owner(host="kvm2"), left=["file /p/web.qcow2"])))
    message = SourceClaim(source, "vmshift.migrated", owner()).blocker({})
    assert "failed and left file /p/web.qcow2" in message and "rerun it on kvm2" in message
    claim = SourceClaim(source, "vmshift.migrated", owner(host="kvm2"))
    assert claim.blocker({}) is None and "file /p/web.qcow2" in claim.taken_over


def test_a_completed_migration_or_a_free_note_does_not_block_and_is_put_back_after_a_clean_failure():
    source = NoteSource()
    source.note("vmshift.migrated", "migrated to qemu+ssh://kvm9/system as web at 2026")
    claim = SourceClaim(source, "vmshift.migrated", owner(), sleep=lambda s: None)
    assert claim.blocker({}) is None
    claim.take()
    assert parse_note(source.notes["vmshift.migrated"])[0] == "claimed"
    claim.release(claim.previous)
    assert source.notes["vmshift.migrated"] == "migrated to qemu+ssh://kvm9/system as web at 2026"


class RacingSource(NoteSource):
    """A rival's whole take() runs right after this run's last read of the note and before its write: two claims
    written at once."""
    rival = None

    def read_note(self, attribute):
        value = super(RacingSource, self).read_note(attribute)
        rival, self.rival = self.rival, None
        if rival is not None:
            rival.take()
        return value


def test_of_two_claims_written_at_once_the_last_writer_wins_and_the_other_backs_off():
    source = RacingSource()
    first = SourceClaim(source, "vmshift.migrated", owner(host="kvm1"), sleep=lambda s: None)
    second = SourceClaim(source, "vmshift.migrated", owner(host="kvm2"), sleep=lambda s: None)
    assert first.blocker({}) is None and second.blocker({}) is None  # both read a free note
    source.rival = second
    first.take()  # it reads the note free again, the rival writes, then it writes: the last writer
    with pytest.raises(Conflict) as err:
        second.confirm()
    assert err.value.details["lost_claim"] and "from kvm1" in err.value.message
    first.confirm()
    assert not second.ours() and first.ours()
    second.release("migrated to somewhere")  # not its claim any more: nothing written
    assert parse_note(source.notes["vmshift.migrated"])[1]["host"] == "kvm1"
    first.release(left=["domain web"])
    kind, holder = parse_note(source.notes["vmshift.migrated"])
    assert kind == "left" and holder["left"] == ["domain web"]


def test_a_claim_a_rival_wrote_while_this_run_prepared_stops_it_before_it_writes():
    """The preflight (guest inspection: minutes) runs between the first read of the note and the claim."""
    source = NoteSource()
    first = SourceClaim(source, "vmshift.migrated", owner(host="kvm1"), sleep=lambda s: None)
    second = SourceClaim(source, "vmshift.migrated", owner(host="kvm2"), sleep=lambda s: None)
    assert first.blocker({}) is None and second.blocker({}) is None
    second.take()
    with pytest.raises(Conflict) as err:
        first.take()
    assert "as 'web' from kvm2" in err.value.message and "holds it" in err.value.message
    assert parse_note(source.notes["vmshift.migrated"])[1]["host"] == "kvm2" and first.written_at is None
    # a rival that claimed, migrated and released meanwhile: the note changed, this run stops too
    third = SourceClaim(source, "vmshift.migrated", owner(host="kvm3"), sleep=lambda s: None)
    second.release("migrated to qemu+ssh://kvm2/system as web at 2026")
    assert third.blocker({}) is None
    source.note("vmshift.migrated", "migrated to qemu+ssh://kvm4/system as web at 2027")
    with pytest.raises(Conflict, match="changed while this run prepared .* nothing was changed"):
        third.take()
    assert source.notes["vmshift.migrated"] == "migrated to qemu+ssh://kvm4/system as web at 2027"


def test_without_an_attribute_the_claim_does_nothing():
    source = NoteSource()
    claim = SourceClaim(source, "", owner())
    assert claim.blocker({}) is None
    claim.take()
    claim.confirm()
    assert claim.ours() and source.notes == {}


def test_each_renewal_carries_how_far_the_migration_is():
    import time
    source = NoteSource()
    claim = SourceClaim(source, "vmshift.migrated", owner(), renew_every=0.05,
                        status=lambda: {"step": "copy", "done": 512, "total": 1024, "rate": 100, "eta": 5})
    claim.take()
    deadline = time.monotonic() + 5
    while "progress" not in parse_note(source.notes["vmshift.migrated"])[1] and time.monotonic() < deadline:
        time.sleep(0.02)
    kind, holder = parse_note(source.notes["vmshift.migrated"])
    claim.release("migrated to somewhere")
    assert kind == "claimed" and holder["progress"] == {"step": "copy", "done": 512, "total": 1024, "rate": 100, "eta": 5,
                                                        "at": 1000.0}
    assert SourceClaim(source, "a", owner(), renew_every=600).renew_every == guard.LEASE_RENEW  # never beyond the lease
