# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmshift.virt.migration_estimate (documented in plugins/modules/migration_estimate.py): the reports it reads
are the controller's, so it runs there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.vmshift.virt.plugins.module_utils.migration.estimate import DEFAULTS, estimate_wave
from ansible_collections.vmshift.virt.plugins.module_utils.migration.wave_report import read_wave_reports
from ansible_collections.vmshift.virt.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = dict(
    wave=dict(type="int", required=True),
    vms=dict(type="list", elements="dict", required=True),
    limits=dict(type="dict", required=True),
    report_dir=dict(type="path", required=True),
    defaults=dict(type="dict", default={}, options=dict(
        bytes_per_second=dict(type="int", default=DEFAULTS["bytes_per_second"]),
        other_seconds=dict(type="float", default=DEFAULTS["other_seconds"]),
        wave_seconds=dict(type="float", default=DEFAULTS["wave_seconds"]))),
)


def estimate(params):
    for i, vm in enumerate(params["vms"]):
        if not vm.get("name") or not vm.get("target"):
            raise InvalidInput("vms[%d] needs name and target (the plan's VMs have them): %r" % (i, vm))
    if not params["limits"].get("parallel") or params["limits"]["parallel"] < 1:
        raise InvalidInput("limits.parallel must be 1 or more (the plan's limits have it), not %r" % params["limits"].get("parallel"))
    reports = list(read_wave_reports(params["report_dir"]).values())
    return estimate_wave({"wave": params["wave"], "vms": params["vms"], "limits": params["limits"]}, reports, params["defaults"])


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def work(self, params, check_mode):
        return {"changed": False, "estimate": estimate(params)}
