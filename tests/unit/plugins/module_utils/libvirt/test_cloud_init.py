# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.cloud_init import build_seed_iso, seed_digest, seed_files


def test_seed_files_and_digest():
    files = seed_files("web-01", {"user_data": "#cloud-config\nhostname: web-01\n"})
    assert files["meta-data"] == "instance-id: web-01\nlocal-hostname: web-01\n"
    assert "network-config" not in files
    assert seed_digest(files) == seed_digest(dict(files))
    assert seed_digest(files) != seed_digest(seed_files("web-01", {"user_data": "#cloud-config\n"}))


def test_seed_iso_has_the_cidata_label_and_files(tmp_path):
    files = seed_files("web-01", {"user_data": "#cloud-config\n", "network_config": "version: 2\n"})
    iso = build_seed_iso(files, str(tmp_path))
    with open(iso, "rb") as f:
        f.seek(16 * 2048)  # ISO 9660 primary volume descriptor
        descriptor = f.read(2048)
    assert descriptor[1:6] == b"CD001"
    assert descriptor[40:72].strip() == b"cidata"
    # genisoimage (installed by tests/lab/lab.sh) ships isoinfo
    listing = subprocess.run(["isoinfo", "-R", "-f", "-i", iso], stdout=subprocess.PIPE, check=True).stdout
    assert set(listing.split()) >= {b"/meta-data", b"/network-config", b"/user-data"}
