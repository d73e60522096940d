# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_migrate's batch against the lab's real libvirtd, below the module: what a unit test cannot show."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import uuid

import libvirt

from ansible_collections.vmshift.virt.plugins.module_utils.migration.batch import final_states

URI = os.environ["LIBVIRT_DEFAULT_URI"]


def test_a_batch_reports_each_domain_as_libvirt_has_it_after_the_last_migration():
    name = "vmshift-final-%s" % uuid.uuid4().hex[:8]
    conn = libvirt.open(URI)
    dom = conn.defineXML("<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"
                         % (os.environ["VMSHIFT_LAB_DOMAIN_TYPE"], name))
    try:
        # what the migrations returned when each ended: all claimed running
        defined = {"changed": True, "domain": {"name": name, "uuid": dom.UUIDString(), "state": "running"}}
        gone = {"changed": True, "domain": {"name": name + "-gone", "uuid": str(uuid.uuid4()), "state": "running"}}
        failed = {"failed": True, "msg": "copy failed", "domain": {"name": name, "uuid": dom.UUIDString(), "state": "running"}}
        preview = {"changed": True, "domain": {"name": name, "uuid": None, "state": "undefined"}}
        final_states(URI, [defined, gone, failed, preview, None])
        assert defined["domain"]["state"] == "shutoff"  # as libvirt has it now
        assert gone["domain"]["state"] == "undefined"
        assert failed["domain"]["state"] == "running"  # a failed VM's result is left as it failed
        assert preview["domain"]["state"] == "undefined"  # check mode: no domain to read
    finally:
        dom.undefine()
        conn.close()


def test_a_host_that_cannot_be_read_at_the_end_leaves_the_results_with_an_unknown_state():
    migrated = {"changed": True, "domain": {"name": "web", "uuid": str(uuid.uuid4()), "state": "running"}}
    final_states("qemu+unix:///system?socket=/nonexistent/libvirt-sock", [migrated])
    assert migrated["changed"] and migrated["domain"]["state"] == "unknown"
    assert migrated["domain"]["state_error"].startswith("Failed to connect to libvirt")
