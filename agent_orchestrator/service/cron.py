"""Cron expressions in a time zone, through cronsim (Debian cron's rules, DST
included): a fixed-time job whose local time is skipped on the spring-forward day
runs once right after the change, and one whose local time repeats on the autumn day
runs once, at its first occurrence."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from cronsim import CronSim, CronSimError

from ..core.errors import Problem

MAX_CRON_LENGTH = 200
#: The longest IANA zone name is about 32 characters (the column holds 64).
MAX_TIMEZONE_LENGTH = 64
#: Slots walked past at most around a DST change (an hour of minutes, and some).
_MAX_STEPS = 200


@dataclass(frozen=True, slots=True)
class CronTable:
    """A cron expression read in a time zone.

    Attributes:
        expression: Five fields: minute, hour, day of month, month, day of week.
        zone: The time zone it is read in.
    """

    expression: str
    zone: zoneinfo.ZoneInfo

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first slot strictly after `moment`, in UTC."""
        # cronsim walks wall-clock time: from the second 03:15 of an autumn night it
        # would name the first 03:30, which is already past. Walk on until after.
        slots = CronSim(self.expression, moment.astimezone(self.zone))
        for _ in range(_MAX_STEPS):
            found = next(slots).astimezone(dt.UTC)
            if found > moment:
                return found
        raise ValueError(f"no slot of {self.expression!r} after {moment}")

    def latest_at_or_before(self, moment: dt.datetime) -> dt.datetime:
        """The last slot at or before `moment`, in UTC."""
        # Reversed, cronsim counts a start without microseconds as a match: step a
        # microsecond on so that `moment` itself counts.
        start = (moment + dt.timedelta(microseconds=1)).astimezone(self.zone)
        slots = CronSim(self.expression, start, reverse=True)
        for _ in range(_MAX_STEPS):
            found = next(slots).astimezone(dt.UTC)
            if found <= moment:
                return found
        raise ValueError(f"no slot of {self.expression!r} before {moment}")


def cron_table(expression: str, timezone: str) -> CronTable:
    """The cron table of a checked expression and zone (see `cron_problems`).

    Raises:
        ValueError: The expression or the zone is not valid.
    """
    problems = cron_problems(expression, timezone)
    if problems:
        raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))
    return CronTable(expression.strip(), zoneinfo.ZoneInfo(timezone))


def cron_problems(
    expression: str, timezone: str, *, path: str = "input"
) -> list[Problem]:
    """Everything wrong with a cron expression and a time zone name."""
    problems: list[Problem] = []
    zone: zoneinfo.ZoneInfo | None = None
    try:
        if (
            not timezone
            or len(timezone) > MAX_TIMEZONE_LENGTH
            or "\x00" in timezone
            or timezone != timezone.strip()
        ):
            raise ValueError(timezone)
        zone = zoneinfo.ZoneInfo(timezone)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        problems.append(
            Problem(
                f"{path}.timezone",
                f"unknown time zone {timezone[:64]!r}; give an IANA name such as "
                "Europe/Helsinki",
                "bad_request",
            )
        )
    text = expression.strip()
    fields = text.split()
    if len(expression) > MAX_CRON_LENGTH or len(fields) != 5:
        problems.append(
            Problem(
                f"{path}.cron",
                "a cron expression has five fields: minute hour day-of-month month "
                "day-of-week, e.g. '0 8 1 * *' for 08:00 on the 1st of every month",
                "bad_request",
            )
        )
        return problems
    try:
        # A valid expression may still name no real day (30 February): it must
        # have a next slot.
        next(iter(CronSim(text, dt.datetime(2026, 1, 1, tzinfo=zone or dt.UTC))))
    except StopIteration:
        problems.append(
            Problem(
                f"{path}.cron",
                f"the cron expression {text!r} never fires (no such day in 50 years)",
                "bad_request",
            )
        )
    except CronSimError as exc:
        problems.append(
            Problem(
                f"{path}.cron",
                f"invalid cron expression {text!r}: {exc}; e.g. '0 8 1 * *' is "
                "08:00 on the 1st of every month",
                "bad_request",
            )
        )
    return problems
