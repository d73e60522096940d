# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's controller-only actions share (migration_report, migration_estimate): no module on a
host, the arguments checked against the action's spec, a failure of the collection's own reported as the
task's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import VmshiftError


class ControllerAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC and ``work(params, check_mode)``, which returns the result."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC = {}

    def work(self, params, check_mode):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            result.update(self.work(params, self._task.check_mode))
        except VmshiftError as exc:
            result.update(failed=True, msg=exc.message)
        return result
