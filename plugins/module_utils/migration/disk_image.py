# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy's target image: a sparse raw file, or a qcow2 image with preallocated metadata whose data is
written in place at the offsets ``qemu-img map`` gives (every write checked for its full length); and the
external tools (qemu-img, virt-v2v-in-place) run with their failure's reason."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import json
import os
import subprocess

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure


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
