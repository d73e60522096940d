# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kept in meaning with plugins/module_utils/common/argspec.py libvirt_argument_spec().
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt connection URI, local (V(qemu:///system)) or remote (V(qemu+ssh://root@kvm1/system)).
      - If not set, the value of the E(LIBVIRT_DEFAULT_URI) environment variable is used.
    type: str
    default: qemu:///system
requirements:
  - libvirt-python
"""
