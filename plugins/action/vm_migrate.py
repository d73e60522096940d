# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmshift.virt.vm_migrate (documented in plugins/modules/vm_migrate.py): with ``vsphere_login: controller``
(the default) the vSphere login happens here, on the controller, and the KVM host gets a one-time clone
ticket in place of the password (see vsphere.client.with_clone_ticket); then the module runs as usual."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import VmshiftError
from ansible_collections.vmshift.virt.plugins.module_utils.migration.progress import Follower
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.client import with_clone_ticket

display = Display()


def start_following(client, args, progress, timeout):
    """A thread that says the progress of ``progress["vms"]`` while the module runs (see migration/progress.py):
    (own_done, thread): set own_done when the module returned, then join the thread."""
    interval = args.get("progress_interval") or 30
    follower = Follower(client, progress["vms"], args.get("source_note_attribute") or "vmshift.migrated", progress.get("wave"),
                        progress.get("page"), interval)
    follower.own = set(vm.get("moref") for vm in args.get("vms") or [args] if vm.get("moref"))
    own_done = threading.Event()
    # A task timeout would take the job's result with it: following the other jobs ends well before it.
    deadline = time.monotonic() + timeout - 2 * interval if timeout else None
    prefix = "wave %s: " % progress["wave"] if progress.get("wave") is not None else ""

    def follow():
        try:
            follower.follow(lambda line: display.display(prefix + line), own_done, deadline)
        except Exception as exc:  # progress is for people: a failure to read it never fails the migration
            display.warning("%sprogress no longer followed: %s" % (prefix, getattr(exc, "message", None) or exc))
    thread = threading.Thread(target=follow, name="vmshift-progress")
    thread.daemon = True
    thread.start()
    return own_done, thread


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args, login = dict(self._task.args), None
        if args.get("vsphere_login", "controller") == "controller" and not args.get("session_ticket"):
            try:
                args, login = with_clone_ticket(args, os.environ)
            except VmshiftError as exc:
                return dict(result, failed=True, changed=False, msg="%s (the login is on the controller; with "
                            "vsphere_login: host the KVM host logs in itself)" % exc.message)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        progress = args.pop("progress", None)  # the controller's: the module has nothing to do with it
        following = None
        if progress and progress.get("vms") and not self._task.check_mode and not wrap_async:
            if login is None:
                display.warning("progress is read with the controller's vSphere login (vsphere_login: controller); "
                                "this job runs without it")
            else:
                following = start_following(login, args, progress, self._task.timeout)
        try:
            result = merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async))
        finally:
            if following is not None:
                own_done, thread = following
                own_done.set()  # its last states said, the follower goes on while other jobs' migrations run
                thread.join()
            # An async module may not have cloned the session yet: its login is left to vCenter's idle timeout.
            if login is not None and not wrap_async:
                login.__exit__(None, None, None)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
