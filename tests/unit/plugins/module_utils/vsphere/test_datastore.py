# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import (
    disk_reader,
    extent_reads,
    parse_descriptor,
    pilot_read,
)

# As qemu-img writes it (monolithicFlat), and as ESXi does for a VMFS disk split in two.
QEMU_FLAT = """# Disk DescriptorFile
version=1
CID=44913f10
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW 65536 FLAT "disk1-flat.vmdk" 0

ddb.adapterType = "ide"
""" + "\x00" * 40
VMFS_TWO = """createType="vmfs"
RW 2048 VMFS "web-01-flat.vmdk"
RW 1024 FLAT "web-01-s002.vmdk" 8
RW 512 ZERO
"""


def test_flat_descriptor():
    assert parse_descriptor(QEMU_FLAT, "vm/disk1.vmdk") == [
        {"file": "vm/disk1-flat.vmdk", "offset": 0, "size": 65536 * 512, "type": "FLAT"}]


def test_extents_in_order_with_offsets_and_zero_extent():
    extents = parse_descriptor(VMFS_TWO, "web-01/web-01.vmdk")
    assert [(e["file"], e["offset"], e["size"]) for e in extents] == [
        ("web-01/web-01-flat.vmdk", 0, 2048 * 512), ("web-01/web-01-s002.vmdk", 8 * 512, 1024 * 512), (None, 0, 512 * 512)]


@pytest.mark.parametrize("text, message", [
    ("KDMV\x01\x00\x00\x00", "sparse VMDK"),
    ('createType="vmfsSparse"\nparentFileNameHint="web-01.vmdk"\nRW 2048 VMFSSPARSE "web-01-000001-delta.vmdk"\n',
     "snapshot delta of 'web-01.vmdk'; consolidate"),
    ('createType="monolithicSparse"\nRW 2048 SPARSE "x.vmdk"\n', "extent type SPARSE is not supported"),
    ('createType="vmfs"\n', "no extent found \\(createType vmfs\\)"),
])
def test_what_cannot_be_copied_is_refused_with_the_fix(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_descriptor(text, "web-01/web-01.vmdk")


def test_reads_across_extents_are_split_and_zero_extents_read_as_zeros():
    extents = [{"file": "a", "offset": 0, "size": 10, "type": "FLAT"}, {"file": "b", "offset": 5, "size": 10, "type": "FLAT"},
               {"file": None, "offset": 0, "size": 4, "type": "ZERO"}]
    assert [(e["file"], o, n) for e, o, n in extent_reads(extents, 8, 10)] == [("a", 8, 2), ("b", 5, 8)]

    class Files:
        @staticmethod
        def readinto(path, offset, view):
            view[:] = (path * 100).encode()[offset:offset + len(view)]
    read = disk_reader(Files(), extents)
    buf = bytearray(4)
    read(8, memoryview(buf))
    assert buf == b"aabb"
    buf = bytearray(6)
    read(18, memoryview(buf))
    assert buf == b"bb\x00\x00\x00\x00"
    with pytest.raises(OperationFailure, match="extents end at byte 24, before byte 26"):
        read(20, memoryview(bytearray(6)))


class Recording:
    """Datastore files that record the reads asked of them; the descriptor is VMFS_TWO."""

    def __init__(self):
        self.reads = []

    @staticmethod
    def read_text(path):
        assert path == "web-01/web-01.vmdk"
        return VMFS_TWO

    def readinto(self, path, offset, view):
        self.reads.append((path, offset, len(view)))


def test_a_pilot_read_samples_the_first_data_extent_within_its_bounds():
    files = Recording()
    done, seconds = pilot_read(files, "web-01/web-01.vmdk", 2 * 1024 * 1024, 60, chunk=256 * 1024)
    # the first extent is 2048 sectors (1 MiB): read whole, in chunks, from its start; the bound was larger
    assert done == 1024 * 1024 and seconds >= 0
    assert files.reads == [("web-01/web-01-flat.vmdk", i * 256 * 1024, 256 * 1024) for i in range(4)]
    files = Recording()
    assert pilot_read(files, "web-01/web-01.vmdk", 300 * 1024, 60, chunk=256 * 1024)[0] == 300 * 1024
    assert files.reads[-1] == ("web-01/web-01-flat.vmdk", 256 * 1024, 44 * 1024)
    # a time bound of nothing reads nothing more than it must
    assert pilot_read(Recording(), "web-01/web-01.vmdk", 1024 * 1024, 0)[0] == 0
