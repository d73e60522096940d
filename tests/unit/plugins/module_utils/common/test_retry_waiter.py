# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import WaitTimeout, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.retry import backoff_delays, retry_call
from ansible_collections.vmshift.virt.plugins.module_utils.common.waiter import Waiter


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_is_bounded_and_jittered():
    delays = list(backoff_delays(6, base=1.0, cap=8.0, rand=lambda: 1.0))
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert list(backoff_delays(3, rand=lambda: 0.5)) == [0.5, 1.0, 2.0]


def test_retry_recovers_from_transient_fault():
    calls = []
    sleeps = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "ok"

    assert retry_call(flaky, (ConnectionResetError,), retries=4, sleep=sleeps.append, rand=lambda: 1.0) == "ok"
    assert len(calls) == 3
    assert sleeps == [1.0, 2.0]


def test_retry_gives_up_after_bound_and_keeps_last_error():
    sleeps = []

    def broken():
        raise TimeoutError("still down")

    with pytest.raises(TimeoutError, match="still down"):
        retry_call(broken, (TimeoutError,), retries=2, sleep=sleeps.append, rand=lambda: 0.0)
    assert len(sleeps) == 2


def test_retry_does_not_retry_other_errors_or_vetoed_ones():
    calls = []

    def bad():
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        retry_call(bad, (OSError,), sleep=lambda s: None)
    with pytest.raises(ValueError):
        retry_call(bad, (ValueError,), should_retry=lambda e: False, sleep=lambda s: None)
    assert len(calls) == 2


def test_waiter_returns_when_predicate_holds():
    clock = FakeClock()
    values = iter(["Pending", "Pending", "Ready"])
    ok, value, elapsed = Waiter(clock.clock, clock.sleep).wait(
        lambda: next(values), lambda v: v == "Ready", timeout=10, description="VM ready", interval=2)
    assert (ok, value, elapsed) == (True, "Ready", 4.0)


def test_waiter_times_out_with_description_and_last_state():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        Waiter(clock.clock, clock.sleep).wait(lambda: "Pending", lambda v: False, timeout=5,
                                              description="VM 'web-01' to be Ready", interval=2)
    assert "Timed out after 5s waiting for VM 'web-01' to be Ready" in str(err.value)
    assert err.value.details["last_state"] == "Pending"
    assert clock.now == 5.0  # the last sleep is cut to the deadline, never past it


def test_waiter_never_waits_in_check_mode():
    clock = FakeClock()
    ok, value, elapsed = Waiter(clock.clock, clock.sleep).wait(
        lambda: "Pending", lambda v: False, timeout=300, description="x", check_mode=True)
    assert (ok, value, clock.sleeps) == (False, "Pending", [])


def test_waiter_requires_a_timeout():
    with pytest.raises(ValueError):
        Waiter().wait(lambda: 1, bool, timeout=None, description="x")


def test_failed_to_message_shape():
    assert failed_to("create", "VM", "web-01", "no space") == "Failed to create VM 'web-01': no space"
    assert failed_to("list", "VMs", None, "denied") == "Failed to list VMs: denied"
