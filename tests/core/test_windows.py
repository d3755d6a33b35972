"""The metrics series' windows: their intervals follow Helsinki's clock, also on the
days the clocks turn, and an unknown window is refused with the windows there are."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest

from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.core.windows import SERIES_WINDOWS, ZONE, series_window

UTC = dt.UTC


def _local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZONE)


def test_the_windows_and_their_intervals() -> None:
    assert {name: (w.interval, w.buckets) for name, w in SERIES_WINDOWS.items()} == {
        "1h": (dt.timedelta(minutes=1), 60),
        "24h": (dt.timedelta(hours=1), 24),
        "7d": (dt.timedelta(hours=6), 28),
        "30d": (dt.timedelta(days=1), 30),
    }


def test_an_hour_is_cut_into_minutes_the_last_holding_now() -> None:
    now = dt.datetime(2026, 11, 24, 10, 30, 15, 500, tzinfo=UTC)

    starts = series_window("1h").bucket_starts(now)

    assert len(starts) == 60
    assert starts[-1] == dt.datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert starts[0] == dt.datetime(2026, 11, 24, 9, 31, tzinfo=UTC)
    assert all(b - a == dt.timedelta(minutes=1) for a, b in pairwise(starts))
    assert all(s.tzinfo is UTC for s in starts)


def test_a_day_is_cut_into_whole_hours() -> None:
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    starts = series_window("24h").bucket_starts(now)

    assert starts[-1] == now  # a start on the boundary is the new interval's
    assert starts[0] == dt.datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_quarter_days_begin_at_six_hour_marks_on_the_local_clock() -> None:
    # 10:30 UTC is 12:30 in Helsinki in winter (UTC+2).
    now = dt.datetime(2026, 11, 24, 10, 30, tzinfo=UTC)

    starts = series_window("7d").bucket_starts(now)

    assert len(starts) == 28
    assert starts[-1] == _local(2026, 11, 24, 12, 0)
    assert starts[0] == _local(2026, 11, 17, 18, 0)
    assert {s.astimezone(ZONE).hour for s in starts} == {0, 6, 12, 18}


def test_days_run_from_local_midnight_also_when_the_clocks_turn() -> None:
    # Helsinki leaves summer time on 2026-10-25 at 04:00 (+03) -> 03:00 (+02).
    now = dt.datetime(2026, 10, 26, 12, 0, tzinfo=UTC)

    starts = series_window("30d").bucket_starts(now)

    assert len(starts) == 30
    assert starts[-1] == _local(2026, 10, 26, 0, 0)
    assert all(s.astimezone(ZONE).time() == dt.time(0, 0) for s in starts)
    lengths = {a.astimezone(ZONE).date(): b - a for a, b in pairwise(starts)}
    assert lengths[dt.date(2026, 10, 25)] == dt.timedelta(hours=25)
    assert lengths[dt.date(2026, 10, 24)] == dt.timedelta(hours=24)
    assert starts[-2] == dt.datetime(2026, 10, 24, 21, 0, tzinfo=UTC)


def test_days_in_spring_have_23_hours() -> None:
    # Summer time begins on 2026-03-29 at 03:00 (+02) -> 04:00 (+03).
    starts = series_window("30d").bucket_starts(
        dt.datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    )

    assert starts[-1] - starts[-2] == dt.timedelta(hours=23)


@pytest.mark.parametrize("name", ["2h", "", "24H", "1d", "24h ", "x" * 10_000])
def test_an_unknown_window_is_refused_with_the_windows_there_are(name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        series_window(name)

    (problem,) = refused.value.problems
    assert problem.path == "window"
    assert problem.code == "bad_window"
    assert problem.message == "unknown window: use one of 1h, 24h, 7d, 30d"
