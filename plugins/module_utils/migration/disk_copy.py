# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disk copy engine: a source read in parallel ranged chunks and written straight into the target
image (a sparse raw file, or a qcow2 image with preallocated metadata written in place), zero blocks
left as holes, every chunk verified and its checksum journaled, a killed copy resumed.

It knows nothing about vSphere or libvirt: ``read(offset, view)`` fills a buffer with the source's bytes (the
vSphere datastore reader, or a local file in unit tests) and the target is a path. Threads suffice:
TLS decryption, hashing, socket and file I/O all release the GIL.

Verification: every write is checked for its full length, and what stops one (a full pool) is raised. A
chunk is journaled with its checksum only after the target was flushed, so a journal line never claims
bytes that are not on disk. A rerun skips journaled chunks but reads each back and compares its
checksum with the journal, so a chunk damaged after it was journaled fails the run; a chunk it copies
again is written whole, zero blocks included, so nothing an earlier run left there survives. Data is
not read back right after it is written: that read comes from the page cache, which holds by
construction the bytes just written, so it could only fail on a short write, which the write's own
count shows (its cost: docs/design.md, "Why each speed decision"). What such a read-back might catch, two places of the disk sharing one place in the file, is
refused when a qcow2 image is opened.

The chunk checksum is CRC-32, as storage uses for accidental damage (Btrfs crc32c, iSCSI data digests):
it catches every burst of up to 32 bits and any other damage but for 1 in 2^32, at a fraction of a
cryptographic hash's CPU (docs/design.md, "Why each speed decision"). A cryptographic hash would add nothing: whoever can rewrite the target can
rewrite the journal beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_image import open_target

MIB = 1024 * 1024
DEFAULT_CHUNK = 16 * MIB  # per worker: one buffer of this size
ZERO_BLOCK = 1 * MIB  # zero detection granularity: an all-zero MiB is left as a hole
_ZEROS = bytes(ZERO_BLOCK)
JOURNAL_FLUSH_SECONDS = 1.0


def plan_chunks(size, chunk):
    """[(offset, length)] covering ``size`` bytes."""
    return [(offset, min(chunk, size - offset)) for offset in range(0, size, chunk)]


CHECKSUM = "crc32"


def checksum_of(data):
    return "%08x" % zlib.crc32(data)


def disk_checksum(chunk_checksums):
    """One value for a whole disk copied in these chunks: SHA-256 over the chunk checksums in order.
    The same source copied with the same chunk size always gives the same value."""
    return hashlib.sha256("".join(chunk_checksums).encode("ascii")).hexdigest()


class Journal:
    """Append-only record of copied chunks, one JSON line each: {"o": offset, "l": length, "c": checksum}.
    The first line names the copy (source, size, chunk size, checksum); a journal for another copy is
    ignored."""

    def __init__(self, path, identity):
        self.path = path
        self.identity = dict(identity, checksum=CHECKSUM)

    def load(self):
        """{offset: (length, checksum)} from an earlier run of the same copy, else {}."""
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
                done[entry["o"]] = (entry["l"], entry["c"])
            except (ValueError, KeyError, TypeError):
                break  # a line torn by a kill: everything before it stands
        return done

    def start(self, done):
        """Rewrite the journal with the header and the chunks kept from an earlier run."""
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.identity, sort_keys=True) + "\n")
            for offset in sorted(done):
                f.write(json.dumps({"o": offset, "l": done[offset][0], "c": done[offset][1]}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def append(self, entries):
        with open(self.path, "a", encoding="utf-8") as f:
            for offset, length, checksum in entries:
                f.write(json.dumps({"o": offset, "l": length, "c": checksum}) + "\n")
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


class ZerosCrc:
    """``zlib.crc32(bytes(n), crc)`` for one ``n``, without reading ``n`` bytes. A CRC over zeros appended to a CRC
    is a linear map of that CRC over GF(2), plus a constant: both come from 33 CRCs of ``n`` zeros, the map kept
    as four tables of 256 (one per byte of the CRC). Zero blocks are common in disks (thin disks read as flat
    files are mostly zeros): a zero MiB costs a tenth of reading it (docs/design.md, "Why each speed decision")."""

    def __init__(self, n):
        zeros = bytes(n)
        self.constant = zlib.crc32(zeros, 0)
        basis = [zlib.crc32(zeros, 1 << bit) ^ self.constant for bit in range(32)]
        self.tables = []
        for byte in range(4):
            table = [0] * 256
            for value in range(1, 256):
                low = value & -value
                table[value] = table[value ^ low] ^ basis[8 * byte + low.bit_length() - 1]
            self.tables.append(table)

    def __call__(self, crc):
        t0, t1, t2, t3 = self.tables
        return self.constant ^ t0[crc & 0xFF] ^ t1[(crc >> 8) & 0xFF] ^ t2[(crc >> 16) & 0xFF] ^ t3[crc >> 24]


_ZEROS_CRC = []  # ZerosCrc(ZERO_BLOCK), made by the first copy (its 33 MiB of CRC are not paid at import)


def copy_blocks(target, offset, data, length, holes):
    """Checksum the first ``length`` bytes of ``data`` and write them at ``offset`` a block (MiB) at a time,
    while the block is still in the CPU's cache. With ``holes`` (a new file: what is not written reads as
    zeros) an all-zero block is not written and stays a hole. Returns (checksum, bytes written)."""
    if not _ZEROS_CRC:
        _ZEROS_CRC.append(ZerosCrc(ZERO_BLOCK))
    zeros_crc = _ZEROS_CRC[0]
    view = memoryview(data)
    crc, written = 0, 0
    for start in range(0, length, ZERO_BLOCK):
        n = min(ZERO_BLOCK, length - start)
        block = view[start:start + n]
        zero = data.startswith(_ZEROS if n == ZERO_BLOCK else _ZEROS[:n], start)
        crc = zeros_crc(crc) if zero and n == ZERO_BLOCK else zlib.crc32(block, crc)
        if not (holes and zero):
            target.pwrite(block, offset + start)
            written += n
    return "%08x" % crc, written


class Buffers:
    """Chunk buffers shared by every copy of the process (a wave runs many): a copy's worker takes one for
    each chunk and gives it back, so memory is allocated and faulted in once per worker, not per chunk
    or per disk."""

    def __init__(self):
        self.lock = threading.Lock()
        self.free = {}

    def take(self, size):
        with self.lock:
            kept = self.free.get(size)
            if kept:
                return kept.pop()
        return bytearray(size)

    def give(self, buf):
        with self.lock:
            self.free.setdefault(len(buf), []).append(buf)


BUFFERS = Buffers()


def differ_error(what, bad):
    return OperationFailure("Failed to verify disk '%s': %d chunk(s) an earlier run copied differ from their journaled "
                            "checksum (first at byte %d); delete the file (a rollback does) and rerun" % (what, len(bad), bad[0]), offsets=bad[:20])


def copy_disk(read, size, path, fmt, journal, workers=4, chunk=DEFAULT_CHUNK, rate_limit=None, progress_path=None):
    """Copy ``size`` bytes from ``read(offset, view)`` (fills the view) into the image ``path`` (raw or qcow2), resuming
    from ``journal``: each chunk kept from an earlier run is read back and compared with its journaled
    checksum. Returns the statistics and every chunk's checksum, in order."""
    chunks = plan_chunks(size, chunk)
    planned = set(chunks)
    done = dict((o, v) for o, v in journal.load().items() if (o, v[0]) in planned) if os.path.exists(path) else {}
    journal.start(done)
    kept = sorted(done)
    todo = [c for c in chunks if c[0] not in done]
    limiter = RateLimit(rate_limit)
    progress = Progress(progress_path, size, sum(v[0] for v in done.values()))
    started = time.monotonic()
    written = cpu_seconds = 0
    fresh = not done
    target = open_target(path, fmt, size, fresh)
    try:
        def one(offset, length):
            limiter.take(length)
            cpu = time.thread_time()  # this copy's own CPU, also when other copies share the process
            data = BUFFERS.take(chunk)
            try:
                read(offset, memoryview(data)[:length])
                checksum, nbytes = copy_blocks(target, offset, data, length, holes=fresh)
            finally:
                BUFFERS.give(data)
            target.write_behind(offset, length)
            return offset, length, checksum, nbytes, time.thread_time() - cpu

        def recheck(offset):
            length = done[offset][0]
            buf = BUFFERS.take(chunk)
            try:
                back = memoryview(buf)[:length]
                target.readinto(back, offset)
                return offset if checksum_of(back) != done[offset][1] else None
            finally:
                BUFFERS.give(buf)

        pending = []
        last_flush = time.monotonic()
        with ThreadPoolExecutor(max(1, workers)) as pool:
            futures = [pool.submit(one, offset, length) for offset, length in todo]
            try:
                for future in as_completed(futures):
                    offset, length, checksum, nbytes, cpu = future.result()
                    written += nbytes
                    cpu_seconds += cpu
                    done[offset] = (length, checksum)
                    pending.append((offset, length, checksum))
                    progress.add(length)
                    if time.monotonic() - last_flush >= JOURNAL_FLUSH_SECONDS:
                        target.flush()
                        journal.append(pending)
                        pending, last_flush = [], time.monotonic()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                if pending:  # what was copied before a failure is kept for the next run
                    target.flush()
                    journal.append(pending)
            copied_at = time.monotonic()
            bad = [offset for offset in pool.map(recheck, kept) if offset is not None]
        target.flush()
        progress.add(0, force=True)
    finally:
        target.close()
    if bad:
        raise differ_error(os.path.basename(path), sorted(bad))
    copied = sum(length for offset, length in todo)
    seconds = copied_at - started
    return {
        "size_bytes": size,
        "copied_bytes": copied,
        "resumed_bytes": size - copied,
        "written_bytes": written,
        "seconds": round(seconds, 2),
        "verify_seconds": round(time.monotonic() - copied_at, 2),
        "bytes_per_second": int(copied / seconds) if seconds > 0 else None,
        "cpu_seconds": round(cpu_seconds, 2),
        "chunk_checksums": [done[offset][1] for offset, length in chunks],
        "chunk_size": chunk,
    }


def transfer(read, size, part, final, fmt, journal, workers=4, chunk=DEFAULT_CHUNK, rate_limit=None, progress_path=None):
    """A whole disk: copied and verified into ``part`` (resumable), then renamed to ``final``.
    Raises OperationFailure naming the first damaged offset; returns the statistics and the disk's
    checksum (``checksum``)."""
    stats = copy_disk(read, size, part, fmt, journal, workers, chunk, rate_limit, progress_path)
    os.rename(part, final)
    stats["checksum"] = disk_checksum(stats.pop("chunk_checksums"))
    return stats
