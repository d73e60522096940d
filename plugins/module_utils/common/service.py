# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every service holds: the backend client, the module's parameters, check mode, a waiter
and the list of actions taken (or, in check mode, that would be); and what every service's
``run`` does with a failure after it acted (``reports_changes``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.common.waiter import Waiter


def reports_changes(run):
    """For a service's ``run``: a failure once the service acted (``self.actions``, outside check mode) says
    ``changed=True``, with the actions and, in ``left``, what they made: these services undo nothing, so all
    of it stays (the last action may be the one that failed). A failure that says otherwise keeps its own."""
    @functools.wraps(run)
    def wrapper(self, *args, **kwargs):
        try:
            return run(self, *args, **kwargs)
        except VmshiftError as exc:
            if self.actions and not self.check_mode:
                for key in ("changed", "actions", "left"):
                    exc.details.setdefault(key, True if key == "changed" else list(self.actions))
            raise
    return wrapper


class Service:
    def __init__(self, client, params, check_mode, waiter=None):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.waiter = waiter or Waiter()
        self.actions = []


class VmService(Service):
    """A service of a VM given as a neutral spec (params["spec"])."""

    def __init__(self, client, params, check_mode, waiter=None):
        super(VmService, self).__init__(client, params, check_mode, waiter)
        self.spec = params["spec"]
        self.name = self.spec.get("name") if isinstance(self.spec, dict) else None
