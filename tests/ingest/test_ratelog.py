"""RateLimitedLog: a flood of the same line becomes a few lines and a summary per period."""

from __future__ import annotations

import logging

import pytest

from ingest.ratelog import RateLimitedLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> RateLimitedLog:
    return RateLimitedLog(logging.getLogger("test.ratelog"), every_s=60.0, burst=5, clock=clock)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.ratelog"]


def test_a_flood_gives_the_first_few_lines_then_one_summary_a_minute(
        limited: RateLimitedLog, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "test.ratelog")
    for i in range(20_000):
        clock.now += 0.009  # 20,000 messages in 180 s
        limited.warning("rejected", "rejected message %d", i)
    limited.flush()
    got = lines(caplog)
    assert got[:5] == [f"rejected message {i}" for i in range(5)]
    summaries = got[5:]
    assert 3 <= len(summaries) <= 4
    assert all(s.startswith("rejected: ") and "more in the last" in s for s in summaries)
    left_out = sum(int(s.split()[1]) for s in summaries)
    assert left_out == 20_000 - 5  # every line is either logged or counted


def test_a_key_quiet_for_a_period_gets_a_fresh_burst_and_keys_are_apart(
        limited: RateLimitedLog, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "test.ratelog")
    assert all(limited.warning("a", "a %d", i) for i in range(5))
    assert not limited.warning("a", "a left out")
    assert limited.info("b", "b still logged")  # another key has its own burst
    clock.now += 30
    assert not limited.warning("a", "a left out too")
    clock.now += 31
    assert not limited.warning("a", "a in a continuing flood")  # summary, no new burst
    clock.now += 61  # quiet for a whole period
    assert limited.warning("a", "a after a quiet period")
    got = lines(caplog)
    assert "a: 2 more in the last 61 s (not logged one by one)" in got
    assert "a: 1 more in the last 61 s (not logged one by one)" in got
    assert "a after a quiet period" in got
    assert "a left out" not in got
    assert "a in a continuing flood" not in got


def test_the_summary_keeps_the_level_and_bad_arguments_are_refused(
        limited: RateLimitedLog, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "test.ratelog")
    for _ in range(7):
        limited.error("boom", "boom")
    limited.flush()
    assert [r.levelno for r in caplog.records] == [logging.ERROR] * 6
    with pytest.raises(ValueError, match="every_s"):
        RateLimitedLog(logging.getLogger("x"), every_s=0)
