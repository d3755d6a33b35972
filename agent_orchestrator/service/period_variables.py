"""``${period.<name>.start}`` / ``${period.<name>.end}`` in a schedule's variables,
resolved at fire time by the planner's period resolver (the one implementation)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import Problem
from ..planner.model import PeriodSpec
from ..planner.periods import ROLLING, resolve_period

if TYPE_CHECKING:
    import datetime as dt

_REFERENCE = re.compile(r"\$\{period\.([^.}]*)\.([^}]*)\}")
_NAMES = ", ".join(ROLLING)


def period_problems(variables: Mapping[str, Any], path: str) -> list[Problem]:
    """Every ``${period...}`` reference in `variables` that names no known period
    or end."""
    problems: list[Problem] = []
    for where, text in _strings(variables, path):
        for match in _REFERENCE.finditer(text):
            name, end = match.groups()
            if name not in ROLLING or end not in ("start", "end"):
                problems.append(
                    Problem(
                        where,
                        f"unknown period reference {match.group(0)!r}; use "
                        f"${{period.<name>.start}} or ${{period.<name>.end}} with "
                        f"<name> one of {_NAMES}",
                        "bad_request",
                    )
                )
    return problems


def resolve_periods(value: Any, reference: dt.date) -> Any:
    """`value` with every ``${period.<name>.start|end}`` replaced by the ISO date
    it names, seen from `reference` (a string that is exactly one reference becomes
    that date; inside a longer string the date is interpolated as text)."""
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: _date(m, reference), value)
    if isinstance(value, Mapping):
        return {k: resolve_periods(v, reference) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_periods(v, reference) for v in value]
    return value


def _date(match: re.Match[str], reference: dt.date) -> str:
    name, end = match.groups()
    kind = ROLLING.get(name)
    if kind is None or end not in ("start", "end"):
        # Checked when the schedule was made; left as written if it slipped through.
        return match.group(0)
    start, stop = resolve_period(PeriodSpec(kind=kind), reference)
    return (start if end == "start" else stop).isoformat()


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _strings(item, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in _strings(item, f"{path}[{index}]")
        ]
    return []
