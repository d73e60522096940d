# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module wrapper every vmshift.virt module runs through.

A module is: DOCUMENTATION/EXAMPLES/RETURN, an argument spec, and ``run_module(spec, service)``.
The wrapper builds the AnsibleModule, reports missing Python libraries with Ansible's standard
message, calls the service with the module, and turns any VmshiftError into one ``fail_json``:
no traceback for an expected failure, the message names what failed and why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import gc

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import MissingLibrary, VmshiftError


class Library:
    """The outcome of an optional import, recorded where the import happens."""

    def __init__(self, pip_name, import_error=None, traceback=None):
        self.pip_name = pip_name
        self.import_error = import_error
        self.traceback = traceback

    @property
    def present(self):
        return self.import_error is None

    def require(self):
        if not self.present:
            raise MissingLibrary(self.pip_name, reason=str(self.import_error))


@contextlib.contextmanager
def without_cycle_collector(active=True):
    """Python's cycle collector off (when ``active``) while a large, acyclic result is built (reference
    counting still frees every object). The collector walks all live objects each time enough new ones
    exist, which for facts of thousands of VMs (millions of objects, none in a cycle) is much of the time
    (docs/design.md, "Why each speed decision"). Not for long runs that make cycles (exceptions, threads)."""
    enabled = gc.isenabled()
    if active:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_module(argument_spec, service, libraries=(), bulk_result=False, **module_kwargs):
    """Build the module, check libraries, run ``service(module) -> result dict``, exit. ``bulk_result``: the
    service builds a large result in one short run, and Ansible copies it again to mask no_log values
    and to write it: the cycle collector stays off until the result is written (see without_cycle_collector)."""
    module_kwargs.setdefault("supports_check_mode", True)
    with without_cycle_collector(bulk_result):
        module = AnsibleModule(argument_spec=argument_spec, **module_kwargs)
        for library in libraries:
            if not library.present:
                module.fail_json(msg=missing_required_lib(library.pip_name), exception=library.traceback)
        error = None
        try:
            result = service(module)
        except VmshiftError as exc:
            error = exc
        # Fail outside the except block: ansible-core >= 2.19 attaches the active exception's traceback
        # to fail_json, and an expected failure is a message, not a traceback.
        if isinstance(error, MissingLibrary):
            module.fail_json(msg=missing_required_lib(error.library, reason=error.reason))
        if error is not None:
            module.fail_json(msg=error.message, **error.details)
        for warning in result.pop("warnings", None) or []:
            module.warn(warning)  # ansible-core 2.19 deprecates warnings passed to exit_json
        module.exit_json(**result)
