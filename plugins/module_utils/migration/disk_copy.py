# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disk copy engine: a source read in parallel ranged chunks into a sparse raw file, each chunk's
SHA-256 journaled, the target verified against those checksums, a killed copy resumed.

It knows nothing about vSphere or libvirt: ``read(offset, length)`` returns the source's bytes (the
vSphere datastore reader, or a local file in unit tests) and the target is a path. Threads suffice:
TLS decryption, hashing and file writes all release the GIL.

The journal is the resume point. A chunk is journaled only after its data was flushed to the target
(fdatasync), so a journal line never claims bytes that are not on disk, even after a crash of the
host. A rerun trusts the journal; the final verification reads every chunk back and compares it with
the checksum taken from the source, so a chunk damaged after it was journaled fails the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure

MIB = 1024 * 1024
DEFAULT_CHUNK = 64 * MIB
ZERO_BLOCK = 1 * MIB  # zero detection granularity: an all-zero MiB is left as a hole
_ZEROS = bytes(ZERO_BLOCK)
JOURNAL_FLUSH_SECONDS = 1.0


def plan_chunks(size, chunk):
    """[(offset, length)] covering ``size`` bytes."""
    return [(offset, min(chunk, size - offset)) for offset in range(0, size, chunk)]


def digest_of(data):
    return hashlib.sha256(data).hexdigest()


def disk_digest(chunk_digests):
    """One checksum for a whole disk copied in these chunks: SHA-256 over the chunk checksums in order.
    The same source copied with the same chunk size always gives the same value."""
    return hashlib.sha256("".join(chunk_digests).encode("ascii")).hexdigest()


class Journal:
    """Append-only record of copied chunks, one JSON line each: {"o": offset, "l": length, "s": sha256}.
    The first line names the copy (source, size, chunk size); a journal for another copy is ignored."""

    def __init__(self, path, identity):
        self.path = path
        self.identity = identity

    def load(self):
        """{offset: (length, sha256)} from an earlier run of the same copy, else {}."""
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return {}
        if not lines or lines[0] != json.dumps(self.identity, sort_keys=True):
            return {}
        done = {}
        for line in lines[1:]:
            try:
                entry = json.loads(line)
                done[entry["o"]] = (entry["l"], entry["s"])
            except (ValueError, KeyError, TypeError):
                break  # a line torn by a kill: everything before it stands
        return done

    def start(self, done):
        """Rewrite the journal with the header and the chunks kept from an earlier run."""
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.identity, sort_keys=True) + "\n")
            for offset in sorted(done):
                f.write(json.dumps({"o": offset, "l": done[offset][0], "s": done[offset][1]}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def append(self, entries):
        with open(self.path, "a", encoding="utf-8") as f:
            for offset, length, sha in entries:
                f.write(json.dumps({"o": offset, "l": length, "s": sha}) + "\n")
            f.flush()
            os.fsync(f.fileno())


class RateLimit:
    """At most ``bytes_per_second`` across all workers (None: no limit)."""

    def __init__(self, bytes_per_second, clock=time.monotonic, sleep=time.sleep):
        self.rate = bytes_per_second
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.start = clock()
        self.granted = 0

    def take(self, nbytes):
        if not self.rate:
            return
        with self.lock:
            self.granted += nbytes
            due = self.start + self.granted / float(self.rate)
        delay = due - self.clock()
        if delay > 0:
            self.sleep(delay)


class Progress:
    """Bytes done, rate and ETA, written as JSON to ``path`` at most once a second (for a person or a
    job polling an async task)."""

    def __init__(self, path, total, already, clock=time.monotonic):
        self.path = path
        self.total = total
        self.done = already
        self.start_done = already
        self.clock = clock
        self.started = clock()
        self.written = 0.0

    def add(self, nbytes, force=False):
        self.done += nbytes
        now = self.clock()
        if self.path and (force or now - self.written >= 1.0):
            self.written = now
            elapsed = max(now - self.started, 1e-6)
            rate = (self.done - self.start_done) / elapsed
            snapshot = {"bytes_done": self.done, "bytes_total": self.total, "bytes_per_second": int(rate),
                        "eta_seconds": round((self.total - self.done) / rate, 1) if rate else None,
                        "percent": round(100.0 * self.done / self.total, 1) if self.total else 100.0}
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(snapshot, f)
            os.replace(tmp, self.path)


def write_chunk(fd, offset, data):
    """Write the chunk's non-zero MiB blocks; zero blocks stay holes. Returns the bytes written."""
    view = memoryview(data)
    written = 0
    for start in range(0, len(view), ZERO_BLOCK):
        block = view[start:start + ZERO_BLOCK]
        if block == _ZEROS[:len(block)]:
            continue
        os.pwrite(fd, block, offset + start)
        written += len(block)
    return written


def copy_disk(read, size, target, journal, workers=4, chunk=DEFAULT_CHUNK, rate_limit=None, progress_path=None):
    """Copy ``size`` bytes from ``read(offset, length)`` into the sparse raw file ``target``, resuming
    from ``journal``. Returns the copy's statistics and every chunk's checksum (in order)."""
    chunks = plan_chunks(size, chunk)
    planned = set(chunks)
    done = dict((o, v) for o, v in journal.load().items() if (o, v[0]) in planned)
    if not os.path.exists(target):
        done = {}  # the journal outlived its target: nothing of it can be trusted
    journal.start(done)
    todo = [c for c in chunks if c[0] not in done]
    limiter = RateLimit(rate_limit)
    progress = Progress(progress_path, size, sum(v[0] for v in done.values()))
    started = time.monotonic()
    cpu_before = os.times()
    written = 0
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size != size:
            os.ftruncate(fd, size)

        def one(offset, length):
            limiter.take(length)
            data = read(offset, length)
            if len(data) != length:
                raise OperationFailure("the source returned %d bytes at offset %d, not %d" % (len(data), offset, length))
            return offset, length, digest_of(data), write_chunk(fd, offset, data)

        pending = []
        last_flush = time.monotonic()
        with ThreadPoolExecutor(max(1, workers)) as pool:
            futures = [pool.submit(one, offset, length) for offset, length in todo]
            try:
                for future in as_completed(futures):
                    offset, length, sha, nbytes = future.result()
                    written += nbytes
                    done[offset] = (length, sha)
                    pending.append((offset, length, sha))
                    progress.add(length)
                    if time.monotonic() - last_flush >= JOURNAL_FLUSH_SECONDS:
                        os.fdatasync(fd)
                        journal.append(pending)
                        pending, last_flush = [], time.monotonic()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                if pending:  # what was copied before a failure is kept for the next run
                    os.fdatasync(fd)
                    journal.append(pending)
        progress.add(0, force=True)
    finally:
        os.close(fd)
    cpu_after = os.times()
    seconds = time.monotonic() - started
    copied = sum(length for offset, length in todo)
    return {
        "size_bytes": size,
        "copied_bytes": copied,
        "resumed_bytes": size - copied,
        "written_bytes": written,
        "seconds": round(seconds, 2),
        "bytes_per_second": int(copied / seconds) if seconds > 0 else None,
        "cpu_seconds": round((cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system), 2),
        "chunk_digests": [done[offset][1] for offset, length in chunks],
        "chunk_size": chunk,
    }


def verify_disk(target, size, chunk, chunk_digests, workers=4):
    """Read the target back and compare every chunk with the source's checksum; the offsets that differ."""
    chunks = plan_chunks(size, chunk)
    if len(chunks) != len(chunk_digests) or os.path.getsize(target) != size:
        return [0]
    fd = os.open(target, os.O_RDONLY)
    try:
        def check(index):
            offset, length = chunks[index]
            return None if digest_of(os.pread(fd, length, offset)) == chunk_digests[index] else offset
        with ThreadPoolExecutor(max(1, workers)) as pool:
            return sorted(o for o in pool.map(check, range(len(chunks))) if o is not None)
    finally:
        os.close(fd)


def run_tool(argv, what):
    """Run a tool (qemu-img, virt-v2v-in-place); its output's tail is the reason when it fails."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    except OSError as exc:
        raise OperationFailure("Failed to %s: %s: %s" % (what, argv[0], exc))
    if proc.returncode != 0:
        raise OperationFailure("Failed to %s: %s exited %d: %s" % (
            what, argv[0], proc.returncode, proc.stdout.decode("utf-8", "replace").strip()[-500:]))


def transfer(read, size, part, final, fmt, journal, workers=4, chunk=DEFAULT_CHUNK, rate_limit=None, progress_path=None):
    """A whole disk: copy into ``part`` (resumable), verify it against the source checksums, then make
    ``final``: a rename for raw, ``qemu-img convert`` plus ``qemu-img compare`` for qcow2. Raises
    OperationFailure naming the first damaged offset; returns the statistics and the disk checksum."""
    stats = copy_disk(read, size, part, journal, workers, chunk, rate_limit, progress_path)
    started = time.monotonic()
    bad = verify_disk(part, size, chunk, stats["chunk_digests"], workers)
    if bad:
        raise OperationFailure("Failed to verify disk '%s': %d chunk(s) differ from the source after the copy (first at "
                               "byte %d)" % (os.path.basename(final), len(bad), bad[0]), offsets=bad[:20])
    if fmt == "qcow2":
        run_tool(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", part, final], "convert %s to qcow2" % part)
        run_tool(["qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", part, final], "verify %s against %s" % (final, part))
        os.unlink(part)
    else:
        os.rename(part, final)
    stats["verify_seconds"] = round(time.monotonic() - started, 2)
    stats["sha256_chunks"] = disk_digest(stats.pop("chunk_digests"))
    return stats
