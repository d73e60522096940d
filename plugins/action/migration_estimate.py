# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmshift.virt.migration_estimate (documented in plugins/modules/migration_estimate.py): the reports it reads
are the controller's, and so is the vSphere login of its pilot reads, so it runs there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.utils.display import Display

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import vsphere_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.migration.estimate import DEFAULTS, estimate_wave, pilot_disks
from ansible_collections.vmshift.virt.plugins.module_utils.migration.wave_report import read_wave_reports
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import VsphereClient
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import pilot_read
from ansible_collections.vmshift.virt.plugins.plugin_utils.controller_action import ControllerAction

display = Display()
MIB = 1024 * 1024

ARGUMENT_SPEC = dict(
    vsphere_argument_spec(),
    pilot_mib=dict(type="int", default=64),
    pilot_seconds=dict(type="float", default=10.0),
    wave=dict(type="int", required=True),
    vms=dict(type="list", elements="dict", required=True),
    limits=dict(type="dict", required=True),
    report_dir=dict(type="path", required=True),
    defaults=dict(type="dict", default={}, options=dict(
        bytes_per_second=dict(type="int", default=DEFAULTS["bytes_per_second"]),
        shutdown_seconds=dict(type="float", default=DEFAULTS["shutdown_seconds"]),
        conversion_seconds=dict(type="float", default=DEFAULTS["conversion_seconds"]),
        boot_seconds=dict(type="float", default=DEFAULTS["boot_seconds"]),
        step_seconds=dict(type="float", default=DEFAULTS["step_seconds"]),
        wave_seconds=dict(type="float", default=DEFAULTS["wave_seconds"]))),
    targets=dict(type="dict", default={}),
)


def pilots(params, disks):
    """{datastore: bytes per second} from a pilot read of one disk on each of ``disks``' datastores; none without a
    vSphere host (hostname unset) or with pilot_mib 0. A login or a read that fails is warned about and left out
    (the estimate then uses the default rate for those VMs): an estimate never stops a wave, and a controller that
    cannot reach vSphere (vm_migrate's vsphere_login: host) still gets one."""
    rates = {}
    if not disks or not params["hostname"] or params["pilot_mib"] <= 0:
        return rates
    try:
        with VsphereClient.from_params(params) as client:
            for datastore, (datacenter, path) in sorted(disks.items()):
                files = client.datastore_files(datacenter, datastore)
                try:
                    sample = pilot_read(files, path, params["pilot_mib"] * MIB, params["pilot_seconds"])
                except (VmshiftError, OSError) as exc:
                    display.warning("migration_estimate: no pilot read of datastore %s (%s); its VMs' copy rate is "
                                    "the default" % (datastore, getattr(exc, "message", exc)))
                    continue
                finally:
                    files.close()
                if sample and sample[0] and sample[1] > 0:
                    rates[datastore] = sample[0] / sample[1]
    except VmshiftError as exc:
        display.warning("migration_estimate: no pilot reads (%s); the copy rates no earlier wave gives are the "
                        "defaults" % exc.message)
    return rates


def estimate(params):
    for i, vm in enumerate(params["vms"]):
        if not vm.get("name") or not vm.get("target"):
            raise InvalidInput("vms[%d] needs name and target (the plan's VMs have them): %r" % (i, vm))
    if not params["limits"].get("parallel") or params["limits"]["parallel"] < 1:
        raise InvalidInput("limits.parallel must be 1 or more (the plan's limits have it), not %r" % params["limits"].get("parallel"))
    if params["pilot_mib"] < 0 or params["pilot_seconds"] <= 0:
        raise InvalidInput("pilot_mib must be 0 (no pilot read) or more, and pilot_seconds more than 0")
    reports = list(read_wave_reports(params["report_dir"]).values())
    wave = {"wave": params["wave"], "vms": params["vms"], "limits": params["limits"]}
    return estimate_wave(wave, reports, params["defaults"], pilots(params, pilot_disks(wave, reports)), params["targets"])


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def work(self, params, check_mode):
        return {"changed": False, "estimate": estimate(params)}
