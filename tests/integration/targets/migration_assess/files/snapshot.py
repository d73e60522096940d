# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: take (or remove every) snapshot of a simulator VM, with pyVmomi.

    python snapshot.py create|remove VM_NAME    (connection from VMWARE_* and VMWARE_CA_PATH)
"""
import os
import ssl
import sys
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim


def main():
    action, name = sys.argv[1], sys.argv[2]
    si = SmartConnect(host=os.environ["VMWARE_HOST"], port=int(os.environ["VMWARE_PORT"]),
                      user=os.environ["VMWARE_USER"], pwd=os.environ["VMWARE_PASSWORD"],
                      sslContext=ssl.create_default_context(cafile=os.environ["VMWARE_CA_PATH"]))
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vm = next(v for v in view.view if v.name == name)
        task = vm.CreateSnapshot_Task("vmshift-test", "", False, False) if action == "create" \
            else vm.RemoveAllSnapshots_Task()
        while task.info.state not in ("success", "error"):
            time.sleep(0.1)
        if task.info.state == "error":
            sys.exit(str(task.info.error))
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main()
