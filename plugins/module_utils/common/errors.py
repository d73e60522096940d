# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for the whole collection.

Backends translate their library's exceptions into these (see ``<backend>/errors.py``), so a
module body never catches a library exception and the module wrapper turns every one of them into
a single ``fail_json`` with a clear message: "Failed to <verb> <kind> '<name>': <reason>".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class VmshiftError(Exception):
    """Base of every error this collection raises on purpose.

    ``details`` is returned beside ``msg`` in the failed result (never secrets).
    """

    def __init__(self, message, **details):
        super(VmshiftError, self).__init__(message)
        self.message = message
        self.details = details


class InvalidInput(VmshiftError):
    """The user's input is wrong; raised before anything changes. Name the field and the fix."""


class ConnectionFailure(VmshiftError):
    """The endpoint cannot be reached, or its TLS certificate is not trusted."""


class AuthenticationFailure(VmshiftError):
    """The endpoint refused the credentials."""


class NotFound(VmshiftError):
    """An object the user named does not exist."""


class Conflict(VmshiftError):
    """The target already holds something that clashes (a name, a MAC, a different UUID)."""


class WaitTimeout(VmshiftError):
    """A bounded wait ran out."""


class OperationFailure(VmshiftError):
    """The backend refused or failed an operation."""


class MissingLibrary(VmshiftError):
    """A Python library the module needs is not installed where the module runs."""

    def __init__(self, library, reason=None, **details):
        self.library = library
        self.reason = reason
        super(MissingLibrary, self).__init__("missing required library %s" % library, **details)


def failed_to(verb, kind, name, reason):
    """The collection's one message shape for a failed operation."""
    if name:
        return "Failed to %s %s '%s': %s" % (verb, kind, name, reason)
    return "Failed to %s %s: %s" % (verb, kind, reason)
