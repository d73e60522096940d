# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine on real files and real threads: the source is a local file read by offset."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import (
    MIB,
    Journal,
    RateLimit,
    copy_disk,
    plan_chunks,
    verify_disk,
)


@pytest.fixture
def source(tmp_path):
    """6 MiB: random, a zero MiB, random, then two zero MiB and a tail of 100 random bytes."""
    path = tmp_path / "source.raw"
    data = os.urandom(MIB) + bytes(MIB) + os.urandom(2 * MIB) + bytes(2 * MIB) + os.urandom(100)
    path.write_bytes(data)
    return str(path), data


def reader(path, log=None):
    def read(offset, length):
        if log is not None:
            log.append(offset)
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length)
    return read


def journal_for(tmp_path, data, chunk):
    return Journal(str(tmp_path / "copy.journal"), {"source": "s", "size": len(data), "chunk": chunk})


def test_plan_covers_the_disk_with_a_short_last_chunk():
    assert plan_chunks(10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert plan_chunks(0, 4) == []


def test_copy_is_exact_sparse_and_verified(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target.raw")
    stats = copy_disk(reader(path), len(data), target, journal_for(tmp_path, data, 2 * MIB), workers=3, chunk=2 * MIB)
    with open(target, "rb") as f:
        assert f.read() == data
    assert stats["written_bytes"] == 3 * MIB + 100  # the zero MiBs were not written
    assert os.stat(target).st_blocks * 512 < len(data) - 2 * MIB  # and are holes
    assert verify_disk(target, len(data), 2 * MIB, stats["chunk_digests"]) == []


def test_a_damaged_byte_is_found(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target.raw")
    stats = copy_disk(reader(path), len(data), target, journal_for(tmp_path, data, MIB), chunk=MIB)
    with open(target, "r+b") as f:
        f.seek(3 * MIB + 7)
        byte = f.read(1)
        f.seek(3 * MIB + 7)
        f.write(bytes([byte[0] ^ 1]))
    assert verify_disk(target, len(data), MIB, stats["chunk_digests"]) == [3 * MIB]


def test_a_rerun_resumes_from_the_journal(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target.raw")
    journal = journal_for(tmp_path, data, MIB)

    def failing(offset, length):
        if offset >= 4 * MIB:
            raise OSError("connection reset")
        return reader(path)(offset, length)
    with pytest.raises(OSError):
        copy_disk(failing, len(data), target, journal, workers=1, chunk=MIB)
    kept = journal.load()
    assert sorted(kept) == [0, MIB, 2 * MIB, 3 * MIB]  # what was copied before the failure is journaled
    reads = []
    stats = copy_disk(reader(path, reads), len(data), target, journal, workers=2, chunk=MIB)
    assert sorted(reads) == [4 * MIB, 5 * MIB, 6 * MIB]
    assert stats["resumed_bytes"] == 4 * MIB
    with open(target, "rb") as f:
        assert f.read() == data
    assert verify_disk(target, len(data), MIB, stats["chunk_digests"]) == []


def test_a_journal_of_another_copy_or_without_its_target_is_not_trusted(tmp_path, source):
    path, data = source
    target = str(tmp_path / "target.raw")
    copy_disk(reader(path), len(data), target, journal_for(tmp_path, data, MIB), chunk=MIB)
    other = Journal(str(tmp_path / "copy.journal"), {"source": "another", "size": len(data), "chunk": MIB})
    assert other.load() == {}
    os.unlink(target)
    reads = []
    copy_disk(reader(path, reads), len(data), target, journal_for(tmp_path, data, MIB), chunk=MIB)
    assert len(reads) == 7


def test_a_torn_journal_line_keeps_what_is_before_it(tmp_path, source):
    path, data = source
    journal = journal_for(tmp_path, data, MIB)
    copy_disk(reader(path), len(data), str(tmp_path / "t.raw"), journal, chunk=MIB)
    with open(journal.path, "a") as f:
        f.write('{"o": 99, "l"')
    assert len(journal.load()) == 7


def test_a_short_read_fails_the_copy(tmp_path, source):
    path, data = source
    with pytest.raises(Exception, match="returned 10 bytes"):
        copy_disk(lambda offset, length: b"x" * 10, len(data), str(tmp_path / "t.raw"),
                  journal_for(tmp_path, data, MIB), chunk=MIB)


def test_rate_limit_spaces_the_grants():
    now = [0.0]
    slept = []
    limit = RateLimit(100, clock=lambda: now[0], sleep=slept.append)
    limit.take(50)
    limit.take(50)
    assert slept == [0.5, 1.0]
    RateLimit(None, sleep=slept.append).take(10 ** 9)
    assert slept == [0.5, 1.0]
