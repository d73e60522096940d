# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: change the lab simulator's VMs the way an estate would be, with pyVmomi.

    python vsphere_helper.py snapshot-create VM
    python vsphere_helper.py snapshot-remove VM
    python vsphere_helper.py set-attribute VM NAME VALUE     (defines the custom attribute if needed)

The connection comes from VMWARE_HOST/PORT/USER/PASSWORD and VMWARE_CA_PATH.
"""
import os
import ssl
import sys
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim


def wait(task):
    while task.info.state not in ("success", "error"):
        time.sleep(0.1)
    if task.info.state == "error":
        sys.exit(str(task.info.error))


def main():
    action, name = sys.argv[1], sys.argv[2]
    si = SmartConnect(host=os.environ["VMWARE_HOST"], port=int(os.environ["VMWARE_PORT"]),
                      user=os.environ["VMWARE_USER"], pwd=os.environ["VMWARE_PASSWORD"],
                      sslContext=ssl.create_default_context(cafile=os.environ["VMWARE_CA_PATH"]))
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vm = next(v for v in view.view if v.name == name)
        if action == "snapshot-create":
            wait(vm.CreateSnapshot_Task("vmshift-test", "", False, False))
        elif action == "snapshot-remove":
            wait(vm.RemoveAllSnapshots_Task())
        elif action == "set-attribute":
            attribute, value = sys.argv[3], sys.argv[4]
            manager = content.customFieldsManager
            field = next((f for f in manager.field if f.name == attribute), None)
            if field is None:
                field = manager.AddCustomFieldDef(name=attribute, moType=vim.VirtualMachine)
            manager.SetField(entity=vm, key=field.key, value=value)
        else:
            sys.exit("unknown action %s" % action)
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main()
