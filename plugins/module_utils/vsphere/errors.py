# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Translate pyVmomi and connection exceptions into the collection's errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import (
    AuthenticationFailure,
    ConnectionFailure,
    NotFound,
    OperationFailure,
    failed_to,
)

try:
    from pyVmomi import vim, vmodl
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    vim = vmodl = None


def _fault_text(exc):
    return getattr(exc, "msg", None) or str(exc) or type(exc).__name__


def _walk(exc):
    """The exception and those it was raised from or during, outermost first."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def translate(exc, verb, kind, name, endpoint=None):
    """Return the VmshiftError for ``exc`` raised while trying to <verb> <kind> '<name>'."""
    for inner in _walk(exc):
        if vim is not None and isinstance(inner, vim.fault.InvalidLogin):
            return AuthenticationFailure(failed_to(
                verb, kind, name,
                "the server refused the user name or password; check username and password "
                "(or VMWARE_USER and VMWARE_PASSWORD)"))
        if isinstance(inner, ssl.SSLCertVerificationError) and "hostname mismatch" in (inner.verify_message or "").lower():
            return ConnectionFailure(failed_to(
                verb, kind, name,
                "the TLS certificate of %s was not issued for that host name (%s); set hostname to a name the "
                "certificate lists (its CN or subject alternative names)" % (endpoint, inner.verify_message)))
        if isinstance(inner, ssl.SSLCertVerificationError):
            return ConnectionFailure(failed_to(
                verb, kind, name,
                "the TLS certificate of %s is not trusted (%s); set ca_path to the CA that signed it, "
                "or validate_certs: false in a lab" % (endpoint, inner.verify_message or inner.reason)))
        if isinstance(inner, ssl.SSLError):
            return ConnectionFailure(failed_to(verb, kind, name, "TLS error talking to %s: %s" % (endpoint, inner)))
        if isinstance(inner, (socket.gaierror, ConnectionError, socket.timeout, TimeoutError)):
            return ConnectionFailure(failed_to(
                verb, kind, name, "cannot reach %s: %s; check hostname and port" % (endpoint, inner)))
        if vmodl is not None and isinstance(inner, vmodl.fault.ManagedObjectNotFound):
            return NotFound(failed_to(verb, kind, name, "it no longer exists on the server"))
        if vmodl is not None and isinstance(inner, vmodl.MethodFault):
            return OperationFailure(failed_to(verb, kind, name, _fault_text(inner)))
    return OperationFailure(failed_to(verb, kind, name, "%s: %s" % (type(exc).__name__, exc)))
