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
count shows. It cost a sixth of a wave's time on the lab host (benchmarks/wave.py: 9.7 s with it, 8.2 s
without). What such a read-back might catch, two places of the disk sharing one place in the file, is
refused when a qcow2 image is opened.

The chunk checksum is CRC-32, as storage uses for accidental damage (Btrfs crc32c, iSCSI data digests):
it catches every burst of up to 32 bits and any other damage but for 1 in 2^32, at 6-7 GB/s
here against SHA-256's 1.9 GB/s, a third of the copy's CPU on a CPU-bound host (measured with
benchmarks/disk_copy.py). A cryptographic hash would add nothing: whoever can rewrite the target can
rewrite the journal beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import hashlib
import json
import os
import subprocess
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure

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


class ImageFile:
    """A target image written and read with pwrite/pread; ``places(offset, length)`` says where in the file a
    range of the disk lives."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def places(self, offset, length):
        return [(offset, 0, length)]

    def pwrite(self, data, offset):
        """Write all of ``data``: a short write goes on, and what stops it (a full pool) is raised."""
        view = memoryview(data)
        for place, start, length in self.places(offset, len(view)):
            while length:
                n = os.pwrite(self.fd, view[start:start + length], place)
                if not n:
                    raise OperationFailure("Failed to write %s: no byte written at byte %d" % (self.path, place))
                place, start, length = place + n, start + n, length - n

    def readinto(self, view, offset):
        for place, start, length in self.places(offset, len(view)):
            if os.preadv(self.fd, [view[start:start + length]], place) != length:
                raise OperationFailure("the target ended before byte %d" % (offset + start + length))

    def write_behind(self, offset, length):
        """Start writing a verified range to disk now (its pages are dirty, so they stay cached until written),
        so that the next flush waits for little and the copy does not fill the host's page cache."""
        for place, start, n in self.places(offset, length):
            os.posix_fadvise(self.fd, place, n, os.POSIX_FADV_DONTNEED)

    def flush(self):
        os.fdatasync(self.fd)

    def close(self):
        os.close(self.fd)


class RawFile(ImageFile):
    """A sparse raw file."""

    def __init__(self, path, size):
        super(RawFile, self).__init__(path)
        if os.fstat(self.fd).st_size != size:
            os.ftruncate(self.fd, size)


def qcow2_places(extents, starts, offset, length):
    """[(file offset, position in the range, length)] of the disk range [offset, offset + length) in a qcow2
    image whose ``extents`` (from ``qemu-img map``, sorted by start; ``starts`` their starts) all have a
    place in the file."""
    places = []
    index = bisect.bisect_right(starts, offset) - 1
    pos = 0
    while pos < length:
        if index < 0 or index >= len(extents) or extents[index]["start"] + extents[index]["length"] <= offset + pos:
            raise OperationFailure("byte %d of the disk has no place in the qcow2 file" % (offset + pos))
        extent = extents[index]
        n = min(length - pos, extent["start"] + extent["length"] - (offset + pos))
        places.append((extent["offset"] + offset + pos - extent["start"], pos, n))
        pos += n
        index += 1
    return places


def shared_place(extents):
    """(disk byte, disk byte) at one place in the file, from two extents whose places overlap, else None: each
    byte of the disk needs a place of its own, or one write would overwrite another."""
    by_place = sorted(extents, key=lambda e: e["offset"])
    for one, two in zip(by_place, by_place[1:]):
        if two["offset"] < one["offset"] + one["length"]:
            return one["start"] + two["offset"] - one["offset"], two["start"]
    return None


class Qcow2Image(ImageFile):
    """A qcow2 image with its metadata preallocated (``qemu-img create -o preallocation=metadata``, the layout
    virt-manager gives new disks): every cluster of the disk already has its place in the file, and
    ``qemu-img map`` says where. The copy writes and reads those places in the file directly, as for a raw
    file: no qemu process in the data path, no conversion pass. Zero blocks stay holes in the file (they
    take no space; the guest reads zeros there). The metadata never changes while the copy runs, so a
    killed copy leaves a consistent image."""

    def __init__(self, path, size):
        if not os.path.exists(path):
            run_tool(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", path, str(size)],
                     "create %s" % path)
        extents = json.loads(run_tool(["qemu-img", "map", "--output=json", "-f", "qcow2", path], "map %s" % path))
        for extent in extents:
            if extent.get("depth") != 0 or not extent.get("data") or "offset" not in extent:
                raise OperationFailure("Failed to copy into %s: bytes %d-%d of the disk have no place in the file (not "
                                       "a qcow2 image this copy made); delete the file (a rollback does) and rerun"
                                       % (path, extent["start"], extent["start"] + extent["length"] - 1))
        shared = shared_place(extents)
        if shared:
            raise OperationFailure("Failed to copy into %s: bytes %d and %d of the disk share one place in the file (a "
                                   "damaged qcow2 image); delete the file (a rollback does) and rerun" % ((path,) + shared))
        self.extents = sorted(extents, key=lambda e: e["start"])
        self.starts = [e["start"] for e in self.extents]
        super(Qcow2Image, self).__init__(path)

    def places(self, offset, length):
        return qcow2_places(self.extents, self.starts, offset, length)


def open_target(path, fmt, size, fresh):
    """The target image; ``fresh`` throws away whatever an earlier run left at ``path``."""
    if fresh and os.path.exists(path):
        os.unlink(path)
    return Qcow2Image(path, size) if fmt == "qcow2" else RawFile(path, size)


def copy_blocks(target, offset, data, length, holes):
    """Checksum the first ``length`` bytes of ``data`` and write them at ``offset`` a block (MiB) at a time,
    while the block is still in the CPU's cache. With ``holes`` (a new file: what is not written reads as
    zeros) an all-zero block is not written and stays a hole. Returns (checksum, bytes written)."""
    view = memoryview(data)
    crc, written = 0, 0
    for start in range(0, length, ZERO_BLOCK):
        n = min(ZERO_BLOCK, length - start)
        block = view[start:start + n]
        crc = zlib.crc32(block, crc)
        if not (holes and data.startswith(_ZEROS if n == ZERO_BLOCK else _ZEROS[:n], start)):
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


def run_tool(argv, what):
    """Run a tool (qemu-img, virt-v2v-in-place) and return its output; the tail of what it said is the reason
    when it fails."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise OperationFailure("Failed to %s: %s: %s" % (what, argv[0], exc))
    if proc.returncode != 0:
        said = (proc.stderr + proc.stdout).decode("utf-8", "replace").strip()
        raise OperationFailure("Failed to %s: %s exited %d: %s" % (what, argv[0], proc.returncode, said[-500:]))
    return proc.stdout


def transfer(read, size, part, final, fmt, journal, workers=4, chunk=DEFAULT_CHUNK, rate_limit=None, progress_path=None):
    """A whole disk: copied and verified into ``part`` (resumable), then renamed to ``final``.
    Raises OperationFailure naming the first damaged offset; returns the statistics and the disk's
    checksum (``checksum``)."""
    stats = copy_disk(read, size, part, fmt, journal, workers, chunk, rate_limit, progress_path)
    os.rename(part, final)
    stats["checksum"] = disk_checksum(stats.pop("chunk_checksums"))
    return stats
