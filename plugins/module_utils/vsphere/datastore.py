# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a VM's disks from its datastore: vCenter's HTTPS ``/folder`` endpoint with the session's
cookie, ranged GETs, one keep-alive connection per thread; and the VMDK descriptor that says which
files (extents) hold the data."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re
import threading
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.retry import retry_call

SECTOR = 512
DESCRIPTOR_MAX = 64 * 1024
# Extent line: access, size in sectors, type, "file", optional offset in sectors.
_EXTENT = re.compile(r'^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$')
_CREATE_TYPE = re.compile(r'^\s*createType\s*=\s*"([^"]+)"', re.M)
_PARENT = re.compile(r'^\s*parentFileNameHint\s*=\s*"([^"]+)"', re.M)
# The content ID: ESXi gives the disk a new one the first time it is written after being opened.
_CID = re.compile(r'^\s*CID\s*=\s*([0-9a-fA-F]+)\s*$', re.M)
# Data the copy reads as it is (flat files), or as zeros.
FLAT_EXTENTS = ("FLAT", "VMFS", "VMFSRAW")
ZERO_EXTENTS = ("ZERO",)
TRANSIENT = (ConnectionResetError, ConnectionAbortedError, TimeoutError, http_client.RemoteDisconnected,
             http_client.IncompleteRead, BrokenPipeError)


def parse_descriptor(text, path):
    """[{file, offset, size, type}] of a VMDK descriptor, in order; the file paths relative to the
    datastore. Raises InvalidInput for what the copy cannot read (sparse or delta disks)."""
    if text.startswith("KDMV") or text.startswith("COWD"):
        raise InvalidInput(failed_to("read", "disk descriptor", path, "it is a sparse VMDK (monolithicSparse or "
                                     "streamOptimized); only flat and VMFS disks are copied"))
    parent = _PARENT.search(text)
    if parent:
        raise InvalidInput(failed_to("read", "disk descriptor", path, "it is a snapshot delta of '%s'; consolidate "
                                     "or delete the VM's snapshots before migrating" % parent.group(1)))
    create_type = _CREATE_TYPE.search(text)
    extents = []
    for line in text.splitlines():
        match = _EXTENT.match(line.rstrip("\x00"))
        if not match:
            continue
        access, sectors, kind, name, offset = match.groups()
        if kind not in FLAT_EXTENTS + ZERO_EXTENTS:
            raise InvalidInput(failed_to("read", "disk descriptor", path, "extent type %s is not supported; only flat "
                                         "and VMFS extents are copied (consolidate snapshots, inflate the disk)" % kind))
        extents.append({"file": posixpath.join(posixpath.dirname(path), name) if name else None,
                        "offset": int(offset or 0) * SECTOR, "size": int(sectors) * SECTOR, "type": kind})
    if not extents:
        raise InvalidInput(failed_to("read", "disk descriptor", path, "no extent found (createType %s)"
                                     % (create_type.group(1) if create_type else "unknown")))
    return extents


def descriptor_cid(text):
    """The content ID of a VMDK descriptor (lower case), or None."""
    match = _CID.search(text)
    return match.group(1).lower() if match else None


def extent_reads(extents, offset, length):
    """The (extent, offset in its file, length) pieces that make up [offset, offset + length) of the disk."""
    pieces = []
    start = 0
    for extent in extents:
        end = start + extent["size"]
        if offset < end and offset + length > start:
            lo, hi = max(offset, start), min(offset + length, end)
            pieces.append((extent, extent["offset"] + lo - start, hi - lo))
        start = end
    return pieces


class DatastoreFiles:
    """Files on one datastore of one datacenter, read over HTTPS with the vSphere session's cookie."""

    def __init__(self, host, port, ssl_context, cookie, datacenter, datastore, timeout=60):
        self.host = host
        self.port = port
        self.context = ssl_context
        self.cookie = cookie.split(";")[0]
        self.query = "dcPath=%s&dsName=%s" % (quote(datacenter, safe=""), quote(datastore, safe=""))
        self.timeout = timeout
        self.local = threading.local()

    def url(self, path):
        return "/folder/%s?%s" % (quote(path), self.query)

    def _connection(self, fresh=False):
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http_client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
            self.local.conn = conn
        return conn

    def _get(self, path, offset, view):
        """Fill ``view`` from the file at ``offset`` (a ranged GET); returns the bytes filled, fewer only at
        the end of a file (the server answers with what there is)."""
        conn = self._connection()
        last = offset + len(view) - 1
        try:
            conn.request("GET", self.url(path), headers={"Cookie": self.cookie, "Range": "bytes=%d-%d" % (offset, last)})
            response = conn.getresponse()
            if response.status not in (200, 206):
                response.read()
                raise OperationFailure(failed_to("read", "datastore file", path, "HTTP %d %s"
                                                 % (response.status, response.reason)))
            if response.status == 200:  # the server ignored the range (a small file): cut it here
                body = response.read()[offset:last + 1]
                view[:len(body)] = body
                return len(body)
            want = min(len(view), response.length if response.length is not None else len(view))
            got = 0
            while got < want:
                n = response.readinto(view[got:want])
                if not n:
                    raise http_client.IncompleteRead(b"", want - got)
                got += n
            return got
        except TRANSIENT:
            self._connection(fresh=True)
            raise

    def readinto(self, path, offset, view):
        """Fill ``view`` with the file's bytes from ``offset``; transient faults are retried."""
        got = retry_call(lambda: self._get(path, offset, view), TRANSIENT, retries=4, base=0.5)
        if got != len(view):
            raise OperationFailure(failed_to("read", "datastore file", path, "it ended at byte %d, before byte %d"
                                             % (offset + got, offset + len(view))))

    def read_text(self, path, limit=DESCRIPTOR_MAX):
        buf = bytearray(limit)
        got = retry_call(lambda: self._get(path, 0, memoryview(buf)), TRANSIENT, retries=4, base=0.5)
        return bytes(buf[:got]).decode("utf-8", "replace")

    def close(self):
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()


def disk_reader(files, extents):
    """readinto(offset, view) over a disk's extents; ZERO extents read as zeros."""
    def readinto(offset, view):
        pos = 0
        for extent, file_offset, size in extent_reads(extents, offset, len(view)):
            if extent["type"] in ZERO_EXTENTS:
                view[pos:pos + size] = bytes(size)
            else:
                files.readinto(extent["file"], file_offset, view[pos:pos + size])
            pos += size
        if pos != len(view):
            raise OperationFailure("the disk's extents end at byte %d, before byte %d" % (offset + pos, offset + len(view)))
    return readinto


def pilot_read(files, descriptor, max_bytes, max_seconds, chunk=8 * 1024 * 1024):
    """One stream's read rate from a disk on ``files``' datastore: the disk's first data read from its start, up to
    ``max_bytes`` or ``max_seconds``, whichever comes first (a bounded, read-only sample). (bytes read, seconds),
    or None for a disk with no data extent."""
    extents = [e for e in parse_descriptor(files.read_text(descriptor), descriptor) if e["type"] not in ZERO_EXTENTS]
    if not extents:
        return None
    extent = extents[0]
    size = min(max_bytes, extent["size"])
    view = memoryview(bytearray(min(chunk, size)))
    done, started = 0, time.monotonic()
    while done < size and time.monotonic() - started < max_seconds:
        n = min(len(view), size - done)
        files.readinto(extent["file"], extent["offset"] + done, view[:n])
        done += n
    return done, time.monotonic() - started
