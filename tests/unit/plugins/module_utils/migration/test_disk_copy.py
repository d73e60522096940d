# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine on real files and real threads: the source is a local file read by offset."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import zlib

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import (
    MIB,
    Journal,
    RateLimit,
    copy_disk,
    checksum_of,
    copy_blocks,
    plan_chunks,
)
from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_image import open_target, qcow2_places, shared_place
from ansible_collections.vmshift.virt.plugins.module_utils.migration import disk_copy


@pytest.fixture
def source(tmp_path):
    """6 MiB: random, a zero MiB, random, then two zero MiB and a tail of one random sector."""
    path = tmp_path / "source.raw"
    data = os.urandom(MIB) + bytes(MIB) + os.urandom(2 * MIB) + bytes(2 * MIB) + os.urandom(512)
    path.write_bytes(data)
    return str(path), data


def reader(path, log=None):
    def read(offset, view):
        if log is not None:
            log.append(offset)
        with open(path, "rb") as f:
            f.seek(offset)
            assert f.readinto(view) == len(view)
    return read


def reset_at(path, limit):
    """A source whose connection drops at ``limit`` (a killed or failed copy)."""
    def read(offset, view):
        if offset >= limit:
            raise OSError("connection reset")
        reader(path)(offset, view)
    return read


def journal_for(tmp_path, data, chunk):
    return Journal(str(tmp_path / "copy.journal"), {"source": "s", "size": len(data), "chunk": chunk})


def killed_at_4_mib(tmp_path, source, target, fmt="raw"):
    """A copy of ``source`` into ``target`` in 1 MiB chunks whose source went away at 4 MiB; its journal."""
    path, data = source
    journal = journal_for(tmp_path, data, MIB)
    with pytest.raises(OSError):
        copy_disk(reset_at(path, 4 * MIB), len(data), target, fmt, journal, workers=1, chunk=MIB)
    return journal


def test_plan_covers_the_disk_with_a_short_last_chunk():
    assert plan_chunks(10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert plan_chunks(0, 4) == []


def image_bytes(path, fmt):
    """The guest-visible bytes of an image (qemu-img for qcow2)."""
    if fmt == "qcow2":
        raw = path + ".check"
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", path, raw], check=True)
        path = raw
    with open(path, "rb") as f:
        return f.read()


FORMATS = ["raw", "qcow2"]  # qcow2 needs qemu-img (qemu-utils), which the lab installs


@pytest.mark.parametrize("fmt", FORMATS)
def test_copy_is_exact_sparse_and_verified(tmp_path, source, fmt):
    path, data = source
    target = str(tmp_path / "target")
    stats = copy_disk(reader(path), len(data), target, fmt, journal_for(tmp_path, data, 2 * MIB), workers=3, chunk=2 * MIB)
    assert image_bytes(target, fmt) == data
    assert stats["written_bytes"] == 3 * MIB + 512  # the zero MiBs were not written
    assert os.stat(target).st_blocks * 512 < len(data) - 2 * MIB  # and take no space
    assert len(stats["chunk_checksums"]) == 4
    if fmt == "qcow2":  # a valid image whose metadata qemu agrees with
        subprocess.run(["qemu-img", "check", "-q", "-f", "qcow2", target], check=True)


def test_qcow2_places_follow_the_map_across_extents():
    extents = [{"start": 0, "length": 100, "offset": 1000}, {"start": 100, "length": 50, "offset": 5000}]
    starts = [0, 100]
    assert qcow2_places(extents, starts, 90, 20) == [(1090, 0, 10), (5000, 10, 10)]
    assert qcow2_places(extents, starts, 100, 50) == [(5000, 0, 50)]
    with pytest.raises(OperationFailure, match="byte 150 of the disk has no place"):
        qcow2_places(extents, starts, 140, 20)


def test_a_qcow2_file_not_made_by_the_copy_is_refused_before_writing(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", target, str(len(data))], check=True)  # no preallocation
    before = open(target, "rb").read()
    journal = journal_for(tmp_path, data, MIB)
    journal.start({0: (MIB, "x")})  # a journal says a chunk is there, so the file is kept
    with pytest.raises(OperationFailure, match="have no place in the file .*delete the file \\(a rollback does\\) and rerun"):
        copy_disk(reader(path), len(data), target, "qcow2", journal, chunk=MIB)
    assert open(target, "rb").read() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_rerun_resumes_from_the_journal(tmp_path, source, fmt):
    path, data = source
    target = str(tmp_path / "target")
    journal = killed_at_4_mib(tmp_path, source, target, fmt)
    kept = journal.load()
    assert sorted(kept) == [0, MIB, 2 * MIB, 3 * MIB]  # what was copied before the failure is journaled
    reads = []
    stats = copy_disk(reader(path, reads), len(data), target, fmt, journal, workers=2, chunk=MIB)
    assert sorted(reads) == [4 * MIB, 5 * MIB, 6 * MIB]
    assert stats["resumed_bytes"] == 4 * MIB
    assert image_bytes(target, fmt) == data


def test_a_byte_damaged_after_it_was_journaled_fails_the_rerun(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target")
    journal = killed_at_4_mib(tmp_path, source, target)
    with open(target, "r+b") as f:
        f.seek(2 * MIB + 7)
        byte = f.read(1)
        f.seek(2 * MIB + 7)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(OperationFailure, match=r"1 chunk\(s\) an earlier run copied differ from their journaled checksum \(first at byte 2097152\)"):
        copy_disk(reader(path), len(data), target, "raw", journal, chunk=MIB)


def test_a_journal_of_another_copy_or_without_its_target_is_not_trusted(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target.raw")
    copy_disk(reader(path), len(data), target, "raw", journal_for(tmp_path, data, MIB), chunk=MIB)
    other = Journal(str(tmp_path / "copy.journal"), {"source": "another", "size": len(data), "chunk": MIB})
    assert other.load() == {}
    os.unlink(target)
    reads = []
    copy_disk(reader(path, reads), len(data), target, "raw", journal_for(tmp_path, data, MIB), chunk=MIB)
    assert len(reads) == 7


def test_a_torn_journal_line_keeps_what_is_before_it(tmp_path, source):
    path, data = source
    journal = journal_for(tmp_path, data, MIB)
    copy_disk(reader(path), len(data), str(tmp_path / "t.raw"), "raw", journal, chunk=MIB)
    with open(journal.path, "a") as f:
        f.write('{"o": 99, "l"')
    assert len(journal.load()) == 7


class MemoryTarget:
    """A target that records its writes."""

    def __init__(self, size):
        self.bytes = bytearray(size)
        self.writes = []

    def pwrite(self, view, offset):
        self.writes.append((offset, len(view)))
        self.bytes[offset:offset + len(view)] = view


def test_copy_blocks_writes_non_zero_blocks_into_a_new_file_and_every_block_into_an_old_one():
    buf = bytearray(MIB) + bytearray(b"x" * (2 * MIB)) + bytearray(MIB) + bytearray(b"y" * 512)
    target = MemoryTarget(100 + len(buf))
    assert copy_blocks(target, 100, buf, len(buf), holes=True) == (checksum_of(buf), 2 * MIB + 512)
    assert target.writes == [(100 + MIB, MIB), (100 + 2 * MIB, MIB), (100 + 4 * MIB, 512)]
    assert target.bytes[100:] == buf

    old = MemoryTarget(len(buf))
    old.bytes[:] = b"z" * len(buf)  # what an earlier run left
    assert copy_blocks(old, 0, buf, len(buf), holes=False) == (checksum_of(buf), len(buf))
    assert old.bytes == buf


@pytest.mark.parametrize("n", [1, 4096, MIB])
def test_the_crc_of_zeros_appended_is_zlibs_without_reading_them(n):
    crc_of_zeros = disk_copy.ZerosCrc(n)
    for crc in [0, 1, 0x80000000, 0xFFFFFFFF] + [zlib.crc32(os.urandom(64)) for dummy in range(20)]:
        assert crc_of_zeros(crc) == zlib.crc32(bytes(n), crc)


def test_a_rerun_overwrites_what_an_earlier_run_left_in_a_zero_block(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target")
    journal = killed_at_4_mib(tmp_path, source, target)
    with open(target, "r+b") as f:  # bytes 4-5 MiB are zeros at the source and not journaled yet
        f.seek(4 * MIB + 10)
        f.write(b"stale")
    copy_disk(reader(path), len(data), target, "raw", journal, chunk=MIB)
    assert image_bytes(target, "raw") == data


def test_a_short_write_goes_on_and_a_write_that_stops_fails(tmp_path, monkeypatch):
    real = os.pwrite
    monkeypatch.setattr(disk_copy.os, "pwrite", lambda fd, view, place: real(fd, view[:1000], place))
    target = open_target(str(tmp_path / "t.raw"), "raw", 3 * MIB, fresh=True)
    data = os.urandom(MIB)
    target.pwrite(data, MIB)
    target.close()
    assert (tmp_path / "t.raw").read_bytes()[MIB:2 * MIB] == data

    monkeypatch.setattr(disk_copy.os, "pwrite", lambda fd, view, place: 0)
    target = open_target(str(tmp_path / "t.raw"), "raw", 3 * MIB, fresh=False)
    with pytest.raises(OperationFailure, match="Failed to write .*t.raw: no byte written at byte 1048576"):
        target.pwrite(data, MIB)
    target.close()


def test_two_places_of_the_disk_at_one_place_of_the_file_are_found():
    apart = [{"start": 0, "length": 100, "offset": 1000}, {"start": 100, "length": 50, "offset": 500}]
    assert shared_place(apart) is None
    overlapping = [{"start": 0, "length": 100, "offset": 1000}, {"start": 100, "length": 50, "offset": 1090}]
    assert shared_place(overlapping) == (90, 100)


def test_rate_limit_spaces_the_grants():
    now = [0.0]
    slept = []
    limit = RateLimit(100, clock=lambda: now[0], sleep=slept.append)
    limit.take(50)
    limit.take(50)
    assert slept == [0.5, 1.0]
    RateLimit(None, sleep=slept.append).take(10 ** 9)
    assert slept == [0.5, 1.0]
