# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded retries with jittered exponential backoff, for transient faults only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time


def backoff_delays(retries, base=1.0, cap=30.0, rand=random.random):
    """The delays before each retry: "full jitter" exponential backoff, bounded by ``cap``.

    Full jitter (a uniform draw in [0, min(cap, base * 2**n)]) keeps a fleet of workers that failed
    together from retrying together.
    """
    for attempt in range(retries):
        yield rand() * min(cap, base * (2 ** attempt))


def retry_call(func, retry_on, retries=4, base=1.0, cap=30.0, sleep=time.sleep, rand=random.random,
               should_retry=None):
    """Call ``func()``; on an exception in ``retry_on`` (and ``should_retry(exc)`` if given) wait and
    call again, at most ``retries`` more times. The last exception propagates unchanged."""
    delays = backoff_delays(retries, base=base, cap=cap, rand=rand)
    while True:
        try:
            return func()
        except retry_on as exc:
            if should_retry is not None and not should_retry(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            sleep(delay)
