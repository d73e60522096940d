# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a claim's renewals cost vCenter: the time and the attribute's key are read once, the note each time."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from pyVmomi import vim

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere import source_vm
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.source_vm import SourceVm


class Counted:
    """A stand-in for pyVmomi's ServiceInstance and custom fields manager, counting the calls vCenter would get."""

    def __init__(self):
        self.calls = []
        self._stub = None
        self.defined = []
        self.values = []

    # ServiceInstance
    def CurrentTime(self):
        self.calls.append("CurrentTime")
        return datetime.datetime(2026, 12, 7, 6, 0, 0, tzinfo=datetime.timezone.utc)

    # CustomFieldsManager
    @property
    def field(self):
        self.calls.append("field")
        return list(self.defined)

    def AddCustomFieldDef(self, name, kind):
        self.calls.append("AddCustomFieldDef")
        field = vim.CustomFieldsManager.FieldDef(key=len(self.defined) + 100, name=name)
        self.defined.append(field)
        return field

    def SetField(self, vm, key, value):
        self.calls.append("SetField")
        self.values.append((key, value))


class Client:
    endpoint = "vcenter"

    def __init__(self, counted):
        self.si = counted
        self.content = type("Content", (), {"customFieldsManager": counted})()


def test_renewals_read_the_time_and_the_attribute_key_once(monkeypatch):
    counted = Counted()
    source = SourceVm(Client(counted), "vm-1", {"name": "web"})
    now = [1000.0]
    monkeypatch.setattr(source_vm.time, "monotonic", lambda: now[0])
    first = source.server_time()
    now[0] += 42.5
    assert source.server_time() == first + 42.5  # advanced by this host's monotonic clock
    assert counted.calls == ["CurrentTime"]
    source.note("vmshift.migrated", "migrating {}")  # defines the attribute: looked up, then added
    source.note("vmshift.migrated", "migrating {} again")
    source.note("vmshift.migrated", "migrated to qemu:///system")
    assert counted.calls == ["CurrentTime", "field", "AddCustomFieldDef", "SetField", "SetField", "SetField"]
    assert [key for key, dummy in counted.values] == [100, 100, 100]
