# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A qcow2 image written and read in place through ``qemu-nbd`` on a private UNIX socket: the copy
engine writes qcow2 directly, with no raw staging file and no conversion pass.

The client speaks the NBD fixed-newstyle handshake with NBD_OPT_EXPORT_NAME and simple replies, and
only READ, WRITE, FLUSH and DISC: the small part of the protocol every NBD server implements
(https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure

NBDMAGIC = b"NBDMAGIC"
IHAVEOPT = 0x49484156454F5054
REQUEST_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
OPT_EXPORT_NAME = 1
FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH = 0, 1, 2, 3
MAX_REQUEST = 32 * 1024 * 1024  # qemu-nbd's largest request


def _die_with_parent():
    """In the child: SIGTERM when the module process dies, even by kill -9, so no qemu-nbd is left
    holding the image's lock (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: a leftover qemu-nbd is reported by the next run's lock failure


def _recv_into(sock, view):
    got = 0
    while got < len(view):
        k = sock.recv_into(view[got:])
        if not k:
            raise OperationFailure("the NBD server closed the connection")
        got += k


def _recv_exact(sock, n):
    buf = bytearray(n)
    _recv_into(sock, memoryview(buf))
    return buf


class NbdConnection:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        head = _recv_exact(self.sock, 18)
        magic, opt_magic, flags = struct.unpack(">8sQH", bytes(head))
        if magic != NBDMAGIC or opt_magic != IHAVEOPT or not flags & FLAG_FIXED_NEWSTYLE:
            raise OperationFailure("not a fixed-newstyle NBD server")
        no_zeroes = flags & FLAG_NO_ZEROES
        self.sock.sendall(struct.pack(">I", FLAG_FIXED_NEWSTYLE | no_zeroes))
        self.sock.sendall(struct.pack(">QII", IHAVEOPT, OPT_EXPORT_NAME, 0))
        self.size, _tflags = struct.unpack(">QH", bytes(_recv_exact(self.sock, 10)))
        if not no_zeroes:
            _recv_exact(self.sock, 124)
        self.handle = 0

    def _request(self, kind, offset, length, data=None):
        self.handle += 1
        self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, kind, self.handle, offset, length))
        if data is not None:
            self.sock.sendall(data)
        magic, error, handle = struct.unpack(">IIQ", bytes(_recv_exact(self.sock, 16)))
        if magic != REPLY_MAGIC or handle != self.handle:
            raise OperationFailure("unexpected NBD reply")
        if error:
            raise OperationFailure("NBD %s at offset %d failed: %s" % (
                {CMD_READ: "read", CMD_WRITE: "write", CMD_FLUSH: "flush"}[kind], offset, os.strerror(error)))

    def pwrite(self, data, offset):
        view = memoryview(data)
        for start in range(0, len(view), MAX_REQUEST):
            piece = view[start:start + MAX_REQUEST]
            self._request(CMD_WRITE, offset + start, len(piece), piece)

    def readinto(self, view, offset):
        for start in range(0, len(view), MAX_REQUEST):
            piece = view[start:start + MAX_REQUEST]
            self._request(CMD_READ, offset + start, len(piece))
            _recv_into(self.sock, piece)

    def flush(self):
        self._request(CMD_FLUSH, 0, 0)

    def close(self):
        try:
            self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_DISC, 0, 0, 0))
        except OSError:
            pass
        self.sock.close()


class NbdServer:
    """``qemu-nbd`` serving one image to up to ``clients`` connections, as a child process until closed."""

    def __init__(self, image, fmt, clients, timeout=30.0):
        self.dir = tempfile.mkdtemp(prefix="vmshift-nbd-")
        self.socket = os.path.join(self.dir, "nbd.sock")
        argv = ["qemu-nbd", "--persistent", "--socket", self.socket, "--format", fmt, "--shared", str(clients),
                "--cache", "writeback", image]
        try:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)
        except OSError as exc:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise OperationFailure("Failed to serve %s: qemu-nbd: %s" % (image, exc))
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = self.proc.communicate()[0] if self.proc.poll() is not None else b"no socket after %ds" % timeout
                self.close()
                raise OperationFailure("Failed to serve %s: qemu-nbd: %s"
                                       % (image, output.decode("utf-8", "replace").strip()[-300:]))
            time.sleep(0.02)
        self.local = threading.local()
        self.connections = []
        self.lock = threading.Lock()

    def connection(self):
        """This thread's connection."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = NbdConnection(self.socket)
            self.local.conn = conn
            with self.lock:
                self.connections.append(conn)
        return conn

    def close(self):
        for conn in getattr(self, "connections", []):
            conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()  # qemu-nbd flushes the image and exits
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
