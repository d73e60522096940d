# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting: a clock, a predicate, a bounded timeout. Nothing waits in check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import WaitTimeout


class Waiter:
    """Poll ``probe()`` until ``predicate(value)`` holds or ``timeout`` seconds pass.

    The clock and sleep are injectable so that tests run without real time.
    """

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self.clock = clock
        self.sleep = sleep

    def wait(self, probe, predicate, timeout, description, interval=1.0, check_mode=False):
        """Return ``(satisfied, value, elapsed)``; raise WaitTimeout naming ``description`` when it
        runs out. In check mode the probe runs once and nothing waits."""
        if timeout is None or timeout < 0:
            raise ValueError("a wait needs a timeout of zero or more seconds")
        start = self.clock()
        value = probe()
        if predicate(value):
            return True, value, 0.0
        if check_mode:
            return False, value, 0.0
        while True:
            elapsed = self.clock() - start
            if elapsed >= timeout:
                raise WaitTimeout(
                    "Timed out after %ds waiting for %s" % (timeout, description),
                    waited=round(elapsed, 1), last_state=value)
            self.sleep(min(interval, max(timeout - elapsed, 0)))
            value = probe()
            if predicate(value):
                return True, value, self.clock() - start
