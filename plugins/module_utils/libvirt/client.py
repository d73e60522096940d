# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt connection, lookups and error translation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback
import xml.etree.ElementTree as ET

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import (
    ConnectionFailure,
    NotFound,
    OperationFailure,
    failed_to,
)
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import Library

try:
    import libvirt
except ImportError as exc:
    LIBVIRT = Library("libvirt-python", exc, traceback.format_exc())
    libvirt = None
else:
    LIBVIRT = Library("libvirt-python")


def translate(exc, verb, kind, name):
    text = exc.get_error_message() if hasattr(exc, "get_error_message") else str(exc)
    return OperationFailure(failed_to(verb, kind, name, text))


def _quiet(_ctx, _err):
    """libvirt's error callback: nothing (errors come back as exceptions)."""


def libvirt_error():
    """The exception class to catch (a harmless stand-in when the library is missing)."""
    return libvirt.libvirtError if libvirt is not None else OSError


class LibvirtClient:
    """An open connection; use as a context manager."""

    def __init__(self, uri):
        self.uri = uri
        self.conn = None

    def __enter__(self):
        LIBVIRT.require()
        # libvirt prints every error to stderr by default; this client reports them as exceptions.
        libvirt.registerErrorHandler(_quiet, None)
        try:
            self.conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise ConnectionFailure(failed_to("connect to", "libvirt", self.uri, exc.get_error_message()))
        return self

    def __exit__(self, *exc_info):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def domain(self, name):
        """The domain, or None."""
        try:
            return self.conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise translate(exc, "look up", "domain", name)

    def pool(self, name):
        try:
            pool = self.conn.storagePoolLookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                known = ", ".join(sorted(p.name() for p in self.conn.listAllStoragePools())) or "none"
                raise NotFound(failed_to("find", "storage pool", name,
                                         "it does not exist on %s; known pools: %s" % (self.uri, known)))
            raise translate(exc, "look up", "storage pool", name)
        if not pool.isActive():
            raise OperationFailure(failed_to("use", "storage pool", name, "it is not active; start it (virsh pool-start %s)" % name))
        return pool

    @staticmethod
    def volume(pool, name):
        """The volume, or None."""
        try:
            return pool.storageVolLookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return None
            raise translate(exc, "look up", "volume", name)

    def host_interfaces(self):
        return set(i.name() for i in self.conn.listAllInterfaces())

    def networks(self):
        return set(n.name() for n in self.conn.listAllNetworks())

    def macs_in_use(self, skip_uuid=None):
        """{MAC: domain name} of every domain on the host but the one with ``skip_uuid``."""
        return dict((mac, dom.name()) for dom in self.conn.listAllDomains(0) if dom.UUIDString() != skip_uuid
                    for mac in macs_of(dom))


def macs_of(dom):
    """The MAC addresses of a domain's NICs in its persistent definition, lower case."""
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return [m.get("address").lower() for m in root.findall("devices/interface/mac") if m.get("address")]
