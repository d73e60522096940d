# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every VM service holds: the backend client, the module's parameters, check mode, a waiter,
the spec and the list of actions taken (or, in check mode, that would be)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.waiter import Waiter


class VmService:
    def __init__(self, client, params, check_mode, waiter=None):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.waiter = waiter or Waiter()
        self.spec = params["spec"]
        self.name = self.spec.get("name") if isinstance(self.spec, dict) else None
        self.actions = []
