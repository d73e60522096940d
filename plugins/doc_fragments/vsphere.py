# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kept in meaning with plugins/module_utils/common/argspec.py vsphere_argument_spec().
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The vCenter Server or ESXi host to connect to.
      - If not set, the value of the E(VMWARE_HOST) environment variable is used, as the AAP
        VMware vCenter credential injects it.
    type: str
  username:
    description:
      - The user to log in as.
      - If not set, the value of the E(VMWARE_USER) environment variable is used.
    type: str
    aliases: [user]
  password:
    description:
      - The user's password. Never logged or returned.
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - The HTTPS port of the vSphere API.
      - If not set, the value of the E(VMWARE_PORT) environment variable is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Verify the server's TLS certificate against O(ca_path) or the system trust store.
      - Set to V(false) only in a lab; the connection is then open to interception.
      - If not set, the value of the E(VMWARE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates that sign the server's certificate, for a vCenter whose CA
        is not in the system trust store.
      - If not set, the value of the E(VMWARE_CA_PATH) environment variable is used.
    type: path
requirements:
  - pyvmomi >= 8.0.1
"""
