# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options every module taking an nmstate desired state has (nmstate_apply, nmstate_policy).
    DOCUMENTATION = r"""
options:
  normalize:
    description:
      - Rewrite the bond key C(slaves), which nmstate 2.2.25 removed and current hosts and clusters refuse, to
        C(port), with a warning. When false, a state with C(slaves) is refused before anything changes, naming the fix.
      - The aliases nmstate still reads (C(bond) for C(link-aggregation), C(ports) for C(port), a bond mode by its
        number or as C(lacp)) are always accepted, and written the way nmstate reports them.
    type: bool
    default: false
"""
