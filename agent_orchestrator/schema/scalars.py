"""The JSON scalar, refusing NUL characters (other text is checked as requests are read,
see `resolvers.bodies`), and the DateTime scalar, refusing times UTC cannot hold.

PostgreSQL text and JSONB cannot hold U+0000; refusing it when the request is read gives
the caller a validation error instead of a database failure later (found by fuzzing).
Likewise "9999-12-31T23:59:59-14:00" is a valid ISO time whose UTC is in year 10000:
every comparison with a stored (UTC) time would overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NewType

import dateutil.parser
import strawberry
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

NUL_MESSAGE = "text must not contain NUL (\\u0000) characters"


_ESCAPED_NUL = re.compile(r"\\u0000|\\u\{0+\}")


def has_nul(value: Any) -> bool:
    """Whether a request holds U+0000: in any text of its JSON, or written as an escape
    inside a GraphQL document (``"a\\u0000b"``)."""
    try:
        _no_nul(value)
    except GraphQLError:
        return True
    return _has_escaped_nul(value)


def _has_escaped_nul(value: Any) -> bool:
    if isinstance(value, dict):
        query = value.get("query")
        if isinstance(query, str) and _ESCAPED_NUL.search(query):
            return True
        return any(
            _has_escaped_nul(v) for v in value.values() if isinstance(v, dict | list)
        )
    if isinstance(value, list):
        return any(_has_escaped_nul(v) for v in value)
    return False


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise GraphQLError(NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)
    return value


def _json_literal(node: ValueNode, variables: Any = None) -> Any:
    return _no_nul(value_from_ast_untyped(node, variables))


def parse_datetime(value: object) -> dt.datetime:
    """A DateTime input: ISO 8601 (as Strawberry's own scalar reads it) that has a
    UTC time.

    Raises:
        GraphQLError: Not a string, not ISO 8601, or beyond the years 1 to 9999 once
            its offset is taken away.
    """
    if not isinstance(value, str):
        raise GraphQLError(
            f"DateTime cannot represent {value!r}: expected an ISO 8601 string such "
            'as "2026-11-24T09:30:00+02:00"'
        )
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise GraphQLError(
            f"DateTime cannot represent {value!r}: {exc}; write ISO 8601 such as "
            '"2026-11-24T09:30:00+02:00"'
        ) from None
    if parsed.tzinfo is not None:
        try:
            parsed.astimezone(dt.UTC)
        except OverflowError:
            raise GraphQLError(
                f"DateTime {value!r} is outside the years 1 to 9999 in UTC; use a "
                "time between 0001-01-02 and 9999-12-30"
            ) from None
    return parsed


JSON = NewType("JSON", object)
"""Any JSON value; mapped to the `JSON` scalar by `SCALAR_MAP`.

Being a NewType, a value becomes a `JSON` by saying so: ``JSON(dict(record.graph))``.
"""

# Keyed by `object`, as `StrawberryConfig.scalar_map` is (a dict's keys are invariant).
SCALAR_MAP: dict[object, ScalarDefinition] = {
    JSON: strawberry.scalar(
        name="JSON",
        description=(
            "Any JSON value (objects, lists, text without NUL characters, numbers)."
        ),
        serialize=lambda value: value,
        parse_value=_no_nul,
        parse_literal=_json_literal,
    ),
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (ISO 8601), within the years 1 to 9999 in UTC.",
        serialize=dt.datetime.isoformat,
        parse_value=parse_datetime,
    ),
}
