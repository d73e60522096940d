# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One source VM of a migration: found by name, moref or UUID, its facts (as vsphere_vm_info gives
them), and the only things a migration does to it: read its power state, shut it down, power it back
on, and leave a note in a custom attribute. Never a reconfiguration, never a deletion."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import time

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import InvalidInput, NotFound, OperationFailure, WaitTimeout, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.waiter import Waiter
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.discovery import (
    vsphere_call,
    custom_field_names,
    fetch_facts,
    retrieve_summary,
)
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.errors import translate
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import plain_tree, split_datastore_path

try:
    from pyVmomi import vim, vmodl
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    vim = vmodl = None

TASK_TIMEOUT = 600


def chosen_vm(params):
    """The name, moref or UUID the task chose its source VM by, for messages."""
    return params.get("name") or params.get("moref") or params.get("uuid")


class SourceVm:
    def __init__(self, client, moid, facts):
        self.client = client
        self.vm = vim.VirtualMachine(moid, client.si._stub)
        self.facts = facts
        # A claim renewed every few seconds for hours reads the time and the attribute's key each time: both are
        # read once here, so a renewal costs vCenter two calls (read the note, write it), not four.
        self._clock = None  # (vCenter's time, this host's monotonic clock) when it was read
        self._fields = {}  # attribute name -> its definition, once found

    @staticmethod
    def inventory(client):
        """What finding a VM needs of the estate, as plain data: one read serves a batch of migrations."""
        objects = retrieve_summary(client)
        vms = [(moid, props) for moid, (kind, props) in objects.items() if kind == "VirtualMachine"]
        return {"names": dict((moid, props.get("name")) for moid, props in vms),
                "hosts": dict((moid, props["runtime.host"]._moId) for moid, props in vms if props.get("runtime.host") is not None),
                "tree": plain_tree(objects), "fields": custom_field_names(client)}

    @classmethod
    def find(cls, client, params, inventory=None):
        """By moref, instance or BIOS UUID, or name (a name must be unique in the selection)."""
        given = [key for key in ("name", "moref", "uuid") if params.get(key)]
        if len(given) != 1:
            raise InvalidInput("give exactly one of name, moref or uuid to choose the source VM (given: %s)"
                               % (", ".join(given) or "none"))
        inventory = inventory or cls.inventory(client)
        names = inventory["names"]
        if params.get("moref"):
            found = [params["moref"]] if params["moref"] in names else []
        elif params.get("uuid"):
            index = client.content.searchIndex
            ref = (vsphere_call(client, index.FindByUuid, None, params["uuid"], True, True)
                   or vsphere_call(client, index.FindByUuid, None, params["uuid"], True, False))
            found = [ref._moId] if ref is not None else []
        else:
            found = sorted(moid for moid, name in names.items() if name == params["name"])
        what = chosen_vm(params)
        if not found:
            raise NotFound(failed_to("find", "source VM", what, "no VM of that %s on %s" % (given[0], client.endpoint)))
        if len(found) > 1:
            raise InvalidInput(failed_to("choose", "source VM", what, "%d VMs have that name (%s); give moref or uuid"
                                         % (len(found), ", ".join(found))))
        facts = fetch_facts(params, found, inventory["tree"], inventory["fields"], client)
        if not facts:
            raise NotFound(failed_to("find", "source VM", what, "it was deleted while it was being read"))
        if facts[0]["template"]:
            raise InvalidInput(failed_to("migrate", "source VM", what, "it is a template; deploy a VM from it first"))
        return cls(client, found[0], facts[0])

    def _call(self, verb, func, *args):
        try:
            return func(*args)
        except (vmodl.MethodFault, OSError) as exc:
            raise translate(exc, verb, "source VM", self.facts["name"], self.client.endpoint)

    def _task(self, verb, task_func):
        task = self._call(verb, task_func)
        try:
            Waiter().wait(lambda: self._call(verb, lambda: task.info.state), lambda state: state in ("success", "error"),
                          TASK_TIMEOUT, "the task", interval=0.2)
        except WaitTimeout:
            raise OperationFailure(failed_to(verb, "source VM", self.facts["name"], "the task did not finish in %ds"
                                             % TASK_TIMEOUT))
        if task.info.state == "error":
            raise OperationFailure(failed_to(verb, "source VM", self.facts["name"], getattr(task.info.error, "msg", None)
                                             or str(task.info.error)))
        return task.info.result

    def power_state(self):
        return self._call("read the power state of", lambda: str(self.vm.runtime.powerState))

    def shut_down(self, timeout):
        """A guest shutdown through VMware Tools when they run, waited for up to ``timeout`` seconds;
        then (or without Tools) a power off. Returns how it went off."""
        if self._call("read the tools status of", lambda: self.vm.guest.toolsRunningStatus) == "guestToolsRunning":
            self._call("shut down", self.vm.ShutdownGuest)
            try:
                Waiter().wait(self.power_state, lambda state: state == "poweredOff", timeout, "the guest shutdown")
                return "guest shutdown"
            except WaitTimeout:
                pass
            self._task("power off", self.vm.PowerOffVM_Task)
            return "power off after %ds guest shutdown timeout" % timeout
        self._task("power off", self.vm.PowerOffVM_Task)
        return "power off (VMware Tools not running)"

    def power_on(self):
        self._task("power on", self.vm.PowerOnVM_Task)

    def disk_markers(self, files_of):
        """What says each disk changed. ``files_of``: {"[datastore] descriptor path": [its files' names]} (the
        descriptor and its extents, in the descriptor's folder). Returns, by the same key, the CBT changeId
        (None when change tracking is off) and [size, modification time] of each file as the datastore browser
        reports it (a file it does not list is left out, and its absence is the change)."""
        devices = self._call("read the disks of", lambda: self.vm.config.hardware.device) or []
        change_ids = dict((d.backing.fileName, getattr(d.backing, "changeId", None) or None)
                          for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
        stores = dict((ds.name, ds) for ds in self._call("read the datastores of", lambda: self.vm.datastore) or [])
        markers = {}
        for name, files in files_of.items():
            datastore, path = split_datastore_path(name)
            if datastore not in stores:
                raise OperationFailure(failed_to("read", "source disk", name, "its datastore is not one of the VM's"))
            spec = vim.host.DatastoreBrowser.SearchSpec(
                query=[vim.host.DatastoreBrowser.Query()], matchPattern=sorted(posixpath.basename(f) for f in files),
                details=vim.host.DatastoreBrowser.FileInfo.Details(fileSize=True, modification=True))
            found = self._task("browse the datastore of", lambda: stores[datastore].browser.SearchDatastore_Task(
                datastorePath="[%s] %s" % (datastore, posixpath.dirname(path)), searchSpec=spec))
            markers[name] = {"change_id": change_ids.get(name), "files": dict(
                (f.path, [f.fileSize, f.modification.isoformat() if f.modification else None]) for f in found.file or [])}
        return markers

    def server_time(self):
        """vCenter's clock, in seconds since the epoch: one clock for every host that reads a claim. Read once,
        then advanced by this host's monotonic clock, which no step of its wall clock moves."""
        if self._clock is None:
            self._clock = (self._call("read the time of", self.client.si.CurrentTime).timestamp(), time.monotonic())
        return self._clock[0] + time.monotonic() - self._clock[1]

    def _field(self, attribute):
        manager = self.client.content.customFieldsManager
        if manager is None:
            return manager, None
        if attribute not in self._fields:
            field = next((f for f in self._call("read custom attributes of", lambda: manager.field) or [] if f.name == attribute), None)
            if field is None:
                return manager, None  # not defined yet: looked up again next time
            self._fields[attribute] = field
        return manager, self._fields[attribute]

    def read_note(self, attribute):
        """The value of a custom attribute as vCenter has it now (None: not set)."""
        if not attribute:
            return None
        dummy, field = self._field(attribute)
        if field is None:
            return None
        values = [v.value for v in self._call("read custom attributes of", lambda: self.vm.customValue) or [] if v.key == field.key]
        # The last: govmomi's simulator appends a value per SetField where vCenter replaces it.
        return values[-1] if values else None

    def note(self, attribute, value):
        """Set a custom attribute (defined if missing); not a reconfiguration of the VM."""
        if not attribute:
            return
        manager, field = self._field(attribute)
        if manager is None:
            return
        if field is None:
            try:
                field = manager.AddCustomFieldDef(attribute, vim.VirtualMachine)
            except vim.fault.DuplicateName:
                field = self._field(attribute)[1]  # another migration (of this wave, or on another host) defined it just now
            except (vmodl.MethodFault, OSError) as exc:
                raise translate(exc, "define custom attribute for", "source VM", self.facts["name"], self.client.endpoint)
            self._fields[attribute] = field
        self._call("note the migration on", manager.SetField, self.vm, field.key, value)
