# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One migration of a source VM at a time, and a resume that trusts only what is still true.

Two runs on one VM (two AAP jobs overlapping, a wave relaunched while it runs, a VM listed in two waves)
must never both act: the second would power the source off under the first, write the first's volumes,
and roll back what the first made. Two guards, taken before anything changes and held to the end:

- ``HostLock``: an exclusive ``flock`` on ``<work_dir>/<source>.lock`` on the host that runs the
  migration. The kernel drops it when its holder dies (``kill -9`` too), so a dead run's lock is free by
  construction and a rerun takes it over at once. The file is never deleted: deleting a locked file would
  let a third run lock a new file of the same name.
- ``SourceClaim``: the source VM's note attribute says ``migrating {...}`` with the owner (host, pid,
  target, name, since) and a lease renewed every ``LEASE_RENEW`` seconds, so a run on *another* target
  host sees it and is refused with who holds it and since when. Times are vCenter's clock, so hosts whose
  clocks differ agree. A claim is stale, and taken over, when its lease was not renewed for ``LEASE_STALE``
  seconds, or when its owner was a run on this host that is gone (its host lock is free, or its pid no
  longer runs). The note is read before the preflight and again right before the claim is written (a
  note that changed in between, a rival's claim or a migration completed elsewhere, stops the run before it
  changes anything). vSphere offers no compare-and-swap on an attribute: a claim is written, then read back
  ``CLAIM_SETTLE`` seconds later (by then a rival that read the note as free in the same moment has written
  it too, and the last writer wins; the other backs off), and read again before every step that acts on the
  source or the target.

A failed migration that could not undo everything leaves ``left {...}``: only a run on the same host
(which has the record of what is left) may take that over. A failed migration that undid everything puts
the note back as it was. ``migrated to ...`` (the note of a completed migration) does not block: migrating
a VM again, to another name or host, is a user's explicit choice (the rerun of a completed migration to the
same domain changes nothing before it gets here).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import socket
import threading
import time
import uuid

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import Conflict, failed_to

LEASE_RENEW = 60
LEASE_STALE = 300
CLAIM_SETTLE = 1.0
CLAIMED = "migrating "
LEFT = "left "
MIGRATED = "migrated to "


def new_owner(target, name):
    """Who this run is, as the lock and the claim show it."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex[:12], "target": target, "as": name}


def describe(owner):
    return "a migration to %s as '%s' from %s (pid %s) since %s" % (
        owner.get("target"), owner.get("as"), owner.get("host"), owner.get("pid"), owner.get("since"))


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError) as exc:
        return getattr(exc, "errno", None) == errno.EPERM
    return True


class HostLock:
    """The exclusive lock of one source VM's migration on this host."""

    def __init__(self, work_dir, key):
        self.path = os.path.join(work_dir, key + ".lock")
        self.fd = None
        self.previous = {}  # the owner of the last run that held it (dead: its lock is free)

    def _holder(self, fd):
        try:
            return json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        except ValueError:
            return {}

    def acquire(self, owner, check_mode, timeout=0, clock=time.monotonic, sleep=time.sleep):
        """Take the lock for ``owner``, waiting up to ``timeout`` seconds for a run that holds it to end, or raise
        Conflict naming its holder. In check mode the lock is only tried (nothing is created, nothing waited for)
        and released at once."""
        if check_mode and not os.path.exists(self.path):
            return
        if not check_mode:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY if check_mode else os.O_RDWR | os.O_CREAT, 0o600)
        deadline = clock() + (0 if check_mode else timeout)
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if check_mode else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() < deadline:
                    sleep(1)
                    continue
                holder = self._holder(fd)
                os.close(fd)
                waited = " after %d s of waiting" % timeout if timeout and not check_mode else ""
                fix = "" if timeout else ", or give lock_timeout to wait for it"
                raise Conflict(failed_to("migrate", "VM", owner["as"], "%s holds it on this host (lock %s)%s; a VM is migrated "
                                         "by one run at a time: wait for that run to end%s" % (describe(holder), self.path, waited, fix)),
                               held_by=holder)
        self.previous = self._holder(fd)
        if check_mode:
            os.close(fd)
            return
        data = json.dumps(owner, sort_keys=True).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        self.fd = fd

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def parse_note(value):
    """(kind, owner) of a note attribute's value: kind is claimed, left, migrated or free."""
    value = value or ""
    for kind, prefix in (("claimed", CLAIMED), ("left", LEFT)):
        if value.startswith(prefix):
            try:
                owner = json.loads(value[len(prefix):])
            except ValueError:
                break
            if isinstance(owner, dict):
                return kind, owner
    if value.startswith(MIGRATED):
        return "migrated", {}
    return "free", {}


class SourceClaim:
    """The claim on a source VM in its note attribute; a no-op when the attribute is empty (no note)."""

    def __init__(self, source, attribute, owner, clock=time.monotonic, sleep=time.sleep, renew_every=LEASE_RENEW, status=None):
        self.source = source
        self.attribute = attribute
        self.owner = owner
        self.renew_every = min(renew_every or LEASE_RENEW, LEASE_RENEW)
        self.status = status  # () -> how far the migration is, written with each renewal
        self.clock = clock
        self.sleep = sleep
        self.written_at = None
        self.lost = None
        self.taken_over = None
        self.dead = {}  # the owner of the last run that held this host's lock, as blocker() was given it
        self.seen = None  # the note as blocker() last read it
        self.previous = None  # a note before this run that was no claim, put back when a failed run undid everything
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def read(self):
        """(kind, owner, value) of the note as vCenter has it now."""
        value = self.source.read_note(self.attribute)
        return parse_note(value) + (value,)

    def blocker(self, dead):
        """None when this run may claim the source, else why not and the fix. ``dead``: the owner of the last
        run that held this host's lock (it is gone)."""
        self.dead = dead
        if not self.attribute:
            return None
        kind, holder, value = self.read()
        self.seen = value
        if kind in ("free", "migrated"):
            self.previous = value
            return None
        same_host = holder.get("host") == self.owner["host"]
        gone = same_host and (holder.get("token") == dead.get("token") or not _pid_alive(holder.get("pid")))
        if kind == "left":
            if same_host:
                self.taken_over = "took over from %s, which failed and left: %s" % (describe(holder), "; ".join(holder.get("left") or []))
                return None
            return ("%s failed and left %s there; rerun it on %s to roll back, or clean up and clear the attribute '%s'"
                    % (describe(holder), "; ".join(holder.get("left") or []) or "something", holder.get("host"), self.attribute))
        age = self.source.server_time() - float(holder.get("alive") or 0)
        if gone or age > LEASE_STALE:
            self.taken_over = "took over the claim of %s (%s)" % (
                describe(holder), "that run is gone" if gone else "not renewed for %d s" % age)
            return None
        return ("%s holds it (claim renewed %d s ago, in attribute '%s'); a VM is migrated by one run at a time: wait "
                "for that run to end (a claim not renewed for %d s is taken over)"
                % (describe(holder), age, self.attribute, LEASE_STALE))

    def _write(self, prefix, owner):
        self.source.note(self.attribute, prefix + json.dumps(owner, sort_keys=True))

    def take(self):
        """Check the note again, write the claim and start renewing it. The preflight (with guest inspection,
        minutes) runs between ``blocker`` and this: a rival that claimed the source meanwhile is refused here,
        before anything changes, and CLAIM_SETTLE has to cover only the time between this read and this write
        (one vCenter round trip)."""
        if not self.attribute:
            return
        before = self.seen
        blocker = self.blocker(self.dead)
        if not blocker and self.seen != before:  # e.g. a run elsewhere claimed and migrated it meanwhile
            blocker = ("its attribute '%s' changed while this run prepared (from %r to %r); nothing was changed: rerun to "
                       "act on what it says now" % (self.attribute, before, self.seen))
        if blocker:
            raise Conflict(failed_to("migrate", "VM", self.owner["as"], blocker))
        self.owner["since"] = self.owner.get("since") or _iso(self.source.server_time())
        self._write(CLAIMED, self._claim(self.source.server_time()))
        self.written_at = self.clock()
        self._thread = threading.Thread(target=self._renew, name="vmshift-claim-renewal")
        self._thread.daemon = True
        self._thread.start()

    def _renew(self):
        while not self._stop.wait(self.renew_every):
            with self._lock:
                if self._stop.is_set() or not self._still_ours():
                    return
                self._write(CLAIMED, self._claim(self.source.server_time()))

    def _claim(self, now):
        """The claim as written at ``now`` (vCenter's clock): the owner, the lease, how far the migration is."""
        progress = self.status() if self.status else None
        return dict(self.owner, alive=now, **({"progress": dict(progress, at=now)} if progress else {}))

    def _still_ours(self):
        kind, holder, value = self.read()
        if kind == "claimed" and holder.get("token") == self.owner["token"]:
            return True
        self.lost = describe(holder) if holder else "the attribute '%s' was changed to %r" % (self.attribute, value)
        self._stop.set()
        return False

    def confirm(self):
        """Raise Conflict unless the claim is still this run's; the first time, once a rival's write would show."""
        if not self.attribute or self.written_at is None:
            return
        wait = CLAIM_SETTLE - (self.clock() - self.written_at)
        if wait > 0:
            self.sleep(wait)
        if self.lost or not self._still_ours():
            raise Conflict(failed_to("migrate", "VM", self.owner["as"], "another run claimed the source VM: %s; "
                                     "this run stops without touching it" % self.lost), lost_claim=True)

    def ours(self):
        return not self.attribute or (self.written_at is not None and not self.lost and self._still_ours())

    def release(self, text=None, left=None):
        """Stop renewing, and if the claim is still ours replace it: with ``text`` (the outcome), with a
        ``left`` claim when something could not be undone, or with nothing."""
        if not self.attribute or self.written_at is None:
            return
        with self._lock:
            self._stop.set()
            if not self._still_ours():
                return
            if left:
                self._write(LEFT, dict(self.owner, left=left))
            else:
                self.source.note(self.attribute, text or "")


def _iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
