"""The in-process moving window: exactly `limit` requests of a key in any window, a
refusal says when the next one fits, keys are independent, idle keys are forgotten."""

from __future__ import annotations

import pytest

from agent_orchestrator.core.auth import Principal
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import RateLimited
from agent_orchestrator.security.ratelimit import MovingWindow, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_holds_exactly_its_limit_at_any_moment() -> None:
    clock = Clock()
    window = MovingWindow(3, 10.0, clock)
    for at in (0.0, 1.0, 2.0):
        clock.now = 1000 + at
        assert window.hit("k") is None
    clock.now = 1009.0
    assert window.hit("k") == pytest.approx(1.0)  # the request at 0 leaves at 10
    clock.now = 1010.0
    assert window.hit("k") is None  # now 1, 2 and 10 are in the window
    clock.now = 1010.5
    assert window.hit("k") == pytest.approx(0.5)
    clock.now = 1011.0
    assert window.hit("k") is None


def test_refusals_are_not_counted_and_keys_are_independent() -> None:
    clock = Clock()
    window = MovingWindow(1, 60.0, clock)
    assert window.hit("a") is None
    for _ in range(5):
        assert window.hit("a") == pytest.approx(60.0)
    assert window.hit("b") is None
    clock.now += 60
    assert window.hit("a") is None


def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    window = MovingWindow(5, 10.0, clock)
    for key in "abc":
        window.hit(key)
    assert len(window) == 3
    clock.now += 11
    window.hit("d")
    assert len(window) == 1


def test_a_limit_needs_a_count_and_a_period() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MovingWindow(0, 10.0)


@pytest.mark.anyio
async def test_the_limiter_says_when_to_retry() -> None:
    limiter = RateLimiter("2/minute")
    caller = Principal("acme", Role.VIEWER, "key-1")
    await limiter.check(caller)
    await limiter.check(caller)
    with pytest.raises(RateLimited) as refused:
        await limiter.check(caller)
    assert 59 < refused.value.retry_after_s <= 60
    await limiter.check(Principal("acme", Role.VIEWER, "key-2"))
