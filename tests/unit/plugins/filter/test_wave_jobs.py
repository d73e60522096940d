# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.vmshift.virt.plugins.filter.wave_jobs import wave_jobs

VMS = [{"name": "db", "moref": "vm-1", "target": "kvm1"}, {"name": "app", "moref": "vm-2", "target": "kvm2"},
       {"name": "web", "moref": "vm-3", "target": "kvm1"}]


def test_each_target_gets_its_vms_in_the_wave_order_with_a_serial_log_where_asked():
    jobs = wave_jobs(VMS, {"kvm1": {"serial_log_dir": "/var/log/guests"}, "kvm2": {"pool": "images"}})
    assert jobs == {"kvm1": [{"moref": "vm-1", "serial_log": "/var/log/guests/db.serial"},
                             {"moref": "vm-3", "serial_log": "/var/log/guests/web.serial"}],
                    "kvm2": [{"moref": "vm-2"}]}
    assert list(jobs) == ["kvm1", "kvm2"]


def test_a_target_without_settings_is_named_in_the_error():
    with pytest.raises(AnsibleFilterError, match="'kvm2'"):
        wave_jobs(VMS, {"kvm1": {}})
