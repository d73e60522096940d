# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_assess's service: run the rules, write the reports (only when their content changes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, OperationFailure, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.migration.assess import assess
from ansible_collections.vmshift.virt.plugins.module_utils.migration.report import html, markdown

TARGET_KEYS = {"type", "name_prefix", "network_map", "free_bytes", "free_cpus", "free_memory_mib", "existing_names",
               "existing_macs", "efi_available", "secure_boot_available", "max_disks", "guest_conversion",
               "conversion_available"}


def write_if_changed(path, text, check_mode):
    """Write atomically; True when the content changed (or would, in check mode)."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    if check_mode:
        return True
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vmshift-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def run_assessment(params, check_mode):
    target = params.get("target")
    if target:
        unknown = set(target) - TARGET_KEYS
        if unknown:
            raise InvalidInput("target has unknown keys %s; known: %s" % (sorted(unknown), ", ".join(sorted(TARGET_KEYS))))
        if target.get("type", "libvirt") not in ("libvirt", "kubevirt"):
            raise InvalidInput("target.type must be libvirt or kubevirt")
        if target.get("guest_conversion", "auto") not in ("auto", "always", "never"):
            raise InvalidInput("target.guest_conversion must be auto, always or never")
    for i, vm in enumerate(params["vms"]):
        if not isinstance(vm, dict) or not vm.get("name"):
            raise InvalidInput("vms[%d] has no name; pass the vms list that vsphere_vm_info returns" % i)
    results, summary = assess(params["vms"], target, params["migration_type"])
    out = {"changed": False, "results": results, "summary": summary, "report": None}
    if params.get("report_dir"):
        directory = params["report_dir"]
        if not os.path.isdir(directory):
            raise InvalidInput("report_dir '%s' is not a directory; create it first" % directory)
        title = params["report_title"]
        paths = {"markdown": os.path.join(directory, "assessment.md"), "html": os.path.join(directory, "assessment.html")}
        try:
            changed_md = write_if_changed(paths["markdown"], markdown(results, summary, title), check_mode)
            changed_html = write_if_changed(paths["html"], html(results, summary, title), check_mode)
        except OSError as exc:
            raise OperationFailure(failed_to("write", "assessment report in", directory, str(exc)))
        out["changed"] = changed_md or changed_html
        out["report"] = paths
    if params["fail_on_critical"] and summary["blocked_vms"]:
        blocked = [r["name"] for r in results if r["blocked"]]
        raise InvalidInput("%d VM(s) blocked by critical concerns: %s" % (len(blocked), ", ".join(blocked)),
                           results=results, summary=summary, report=out["report"])
    return out
