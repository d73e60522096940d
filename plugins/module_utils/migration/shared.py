# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the migrations of one batch share: the slots that bound how many act at once (CopySlots), the target
host's names and MACs (TargetHost), the estate read once and the vSphere session (Batch). A migration on its
own gets a batch of one: no limits."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from contextlib import contextmanager

from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.client import macs_of


class Batch:
    """A batch's shared parts: ``slots`` (CopySlots), ``host`` (TargetHost), ``inventory`` (the estate as
    SourceVm.inventory reads it, once for the batch) and ``session`` (the batch's vSphere session, joined:
    VsphereClient.shared_session)."""

    def __init__(self, slots=None, host=None, inventory=None, session=None):
        self.slots = slots or CopySlots()
        self.host = host or TargetHost()
        self.inventory = inventory
        self.session = session


class Turn:
    """A migration's place in its batch: the order it started in, the key of its per-key limit (its source's ESXi
    host), and whether it got its slot."""

    def __init__(self, order=0, key=None):
        self.order = order
        self.key = key
        self.acted = False


class NotStarted(Exception):
    """A batch stopped (more than max_failed failed) while this migration waited for its slot."""


class CopySlots:
    """How many migrations of a batch act (power-off, copy, conversion, define, start) at once: ``parallel``,
    and ``per_key`` with one key (the source's ESXi host). A batch starts migrations ahead of their slot, so
    the part before acting (the lock, the preflight, the claim on the source and the settle second that must
    pass before it is trusted) overlaps the copies before them instead of following them. Once more than
    ``max_failed`` migrations failed, a migration still waiting does not start. A migration that fails before
    its slot (in its preflight, say) is reported in its turn, as if it had waited for its slot first: a
    batch that stopped reports it as not started, as when migrations did not prepare ahead. Unlimited when
    made bare (one migration)."""

    def __init__(self, parallel=None, per_key=None, max_failed=None):
        self.parallel, self.per_key, self.max_failed = parallel, per_key, max_failed
        self.cond = threading.Condition()
        self.acting = 0
        self.by_key = {}
        self.failed = 0
        self.queued = {}  # order -> key: started migrations that have not had their turn yet

    def stopped(self):
        return self.max_failed is not None and self.failed > self.max_failed

    def busy(self, key):
        return ((self.parallel is not None and self.acting >= self.parallel)
                or (self.per_key is not None and self.by_key.get(key, 0) >= self.per_key))

    def join(self, order, key):
        """A migration started (by the batch's scheduler, in the order given): slots go to the earliest first."""
        with self.cond:
            self.queued[order] = key

    def leave(self, order):
        """A migration ended; if it never took its turn, the ones after it no longer wait for it."""
        with self.cond:
            if self.queued.pop(order, None) is not None:
                self.cond.notify_all()

    def waits(self, order, key):
        """Whether the migration ``order`` must wait: no slot for its key, or an earlier one could take it."""
        return self.busy(key) or any(o < order and not self.busy(k) for o, k in self.queued.items())

    @contextmanager
    def slot(self, key, order=0):
        """Wait for a slot (in the order the migrations started, as far as the limits allow); a migration that
        fails in it (an exception out of it) is counted before it frees."""
        with self.cond:
            while self.waits(order, key) and not self.stopped():
                self.cond.wait()
            self.queued.pop(order, None)
            self.cond.notify_all()
            if self.stopped():
                raise NotStarted("not started: %d migrations failed, more than max_failed %d" % (self.failed, self.max_failed))
            self.acting += 1
            self.by_key[key] = self.by_key.get(key, 0) + 1
        failed = False
        try:
            yield
        except Exception:
            failed = True
            raise
        finally:
            with self.cond:
                self.failed += failed
                self.acting -= 1
                self.by_key[key] -= 1
                self.cond.notify_all()


class TargetHost:
    """The target host as the migrations of one batch share it.

    ``view``: the names and MACs of the domains on the host, read fresh for each migration's preflight, each
    domain's XML parsed once per batch (its MACs kept by UUID), not once per migration.

    ``claim``: a migration whose preflight found nothing else wrong takes its source VM, its target name (and
    with it its volume files) and its MACs before it changes anything. What another migration of the batch
    took already is refused, naming that migration: two VMs of one batch bound for one name would otherwise
    write the same volume files, and two NICs with one MAC would break the network. The first migration to
    claim keeps it."""

    def __init__(self):
        self.macs_of = {}
        self.lock = threading.Lock()
        self.owners = {}

    def view(self, conn, own_uuid):
        """(names, MACs) of the host's domains, leaving out ``own_uuid`` (the domain a migration made in an earlier run)."""
        names, macs = [], []
        for dom in conn.listAllDomains(0):
            uuid = dom.UUIDString()
            if uuid == own_uuid:
                continue
            names.append(dom.name())
            if uuid not in self.macs_of:
                self.macs_of[uuid] = macs_of(dom)
            macs.extend(self.macs_of[uuid])
        return names, macs

    def claim(self, who, source, name, macs):
        """Take ``source`` (the source VM's UUID), ``name`` and ``macs`` for ``who``; [problem] for each another
        migration of the batch took already, and then nothing is taken."""
        wanted = [("source", source), ("name", name)] + [("mac", mac.lower()) for mac in macs]
        with self.lock:
            taken = [(kind, value, self.owners[(kind, value)]) for kind, value in wanted
                     if self.owners.get((kind, value), who) != who]
            if not taken:
                self.owners.update(((kind, value), who) for kind, value in wanted)
        fixes = {"source": "the batch migrates source VM %s also as %s; list each VM once",
                 "name": "the target name '%s' is also that of %s in this batch; give one of them overrides.name",
                 "mac": "MAC %s is also on %s in this batch; migrate one of them to another host or change the MAC in vSphere"}
        return [fixes[kind] % (value, owner) for kind, value, owner in taken]
