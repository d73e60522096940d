# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cloud-init NoCloud seed ISO (volume label "cidata") built where the module runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import subprocess
import tempfile

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import OperationFailure, failed_to

ISO_TOOLS = ("genisoimage", "mkisofs", "xorrisofs")


def seed_files(name, cloud_init):
    """The NoCloud files: meta-data (instance-id, local-hostname), user-data, network-config."""
    files = {
        "meta-data": cloud_init.get("meta_data") or "instance-id: %s\nlocal-hostname: %s\n" % (name, name),
        "user-data": cloud_init.get("user_data") or "#cloud-config\n{}\n",
    }
    if cloud_init.get("network_config"):
        files["network-config"] = cloud_init["network_config"]
    return files


def seed_digest(files):
    digest = hashlib.sha256()
    for key in sorted(files):
        digest.update(key.encode() + b"\0" + files[key].encode("utf-8") + b"\0")
    return digest.hexdigest()[:12]


def build_seed_iso(files, directory):
    """Write the ISO into ``directory`` and return its path."""
    tool = next((t for t in ISO_TOOLS if shutil.which(t)), None)
    if tool is None:
        raise OperationFailure("spec.cloud_init needs genisoimage, mkisofs or xorrisofs on the host where the module "
                               "runs; install one (for example the genisoimage package)")
    src = tempfile.mkdtemp(dir=directory)
    for key, text in files.items():
        with open(os.path.join(src, key), "w") as f:
            f.write(text)
    iso = os.path.join(directory, "seed.iso")
    cmd = [tool, "-output", iso, "-volid", "cidata", "-joliet", "-rock", "-quiet"] + [os.path.join(src, k) for k in sorted(files)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise OperationFailure(failed_to("build", "cloud-init seed ISO", None, proc.stderr.decode("utf-8", "replace")))
    return iso
