"""Reading a JSON request body strictly, once, for GraphQL, REST and WebSocket messages.

Python's `json` accepts more than the data layer and the responses can take: bytes
that are not UTF-8 (decoded with ``surrogatepass``), ``NaN`` and ``1e400`` (infinite),
integers whose 4,300 digits `int` refuses with a bare `ValueError`, nesting that ends
in a `RecursionError` in whatever walks it next, U+0000 (PostgreSQL stores no NUL) and
lone surrogates (no UTF-8 encoder takes them: neither the database driver nor the
response). Each of these is refused here with the place it was found, so that the
caller learns what to fix and nothing half-made reaches the use cases.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..schema.scalars import NUL_MESSAGE

__all__ = ["MAX_JSON_DEPTH", "BadBody", "read_json"]

#: Nesting of objects and lists a body may have. The deepest graphs the product makes
#: (sub-workflows inside steps) stay below 20 levels.
MAX_JSON_DEPTH = 64
SURROGATE_MESSAGE = (
    "text must be valid Unicode: a lone surrogate (\\ud800-\\udfff) cannot be "
    "stored; send the character it belongs to, or remove it"
)


class BadBody(ValueError):
    """A body that is no JSON the service takes.

    Attributes:
        path: Where in the body (``variables.input.name``, ``steps[0].id``); empty
            for the body as a whole.
        reason: What is wrong, and what to do instead.
        code: A short machine-readable kind (``bad_json``, ``bad_text``,
            ``too_deep``).
    """

    def __init__(self, path: str, reason: str, code: str = "bad_json") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
        self.code = code


def _no_constant(name: str) -> Any:
    raise BadBody("", f"not valid JSON: {name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadBody("", f"not valid JSON: the number {text[:40]} is too large")
    return value


def read_json(data: bytes | str) -> Any:
    """The JSON value of a request body, checked as the module says.

    Raises:
        BadBody: Not UTF-8, not JSON, a number Python cannot hold, nesting deeper
            than `MAX_JSON_DEPTH`, or text with NUL or a lone surrogate.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadBody(
                "", f"the body is not UTF-8 text (invalid byte at offset {exc.start})"
            ) from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except BadBody:
        raise
    except json.JSONDecodeError as exc:
        raise BadBody(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadBody(
            "", f"nested deeper than {MAX_JSON_DEPTH} levels", "too_deep"
        ) from None
    except ValueError:
        # `int` refuses more than 4,300 digits (CVE-2020-10735).
        raise BadBody("", "not valid JSON: a number has too many digits") from None
    # Most bodies can hold neither too deep a nesting nor a NUL or a lone surrogate
    # (they need a `\u` escape here: strict UTF-8 decoding lets none through raw):
    # those skip the walk.
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    if deep or "\\u" in text or "\x00" in text:
        _check(value)
    return value


def _check(value: Any) -> None:
    """Walk the value (without recursion: it may be deep) for what the module
    refuses; raise `BadBody` at the first."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(path, item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadBody(
                    path, f"nested deeper than {MAX_JSON_DEPTH} levels", "too_deep"
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(f"{path} (a key)" if path else "(a key)", key)
                    stack.append((f"{path}.{key}" if path else key, child, depth + 1))
            else:
                stack.extend(
                    (f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item)
                )


def _check_text(path: str, text: str) -> None:
    if "\x00" in text:
        raise BadBody(path, NUL_MESSAGE, "bad_text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadBody(path, SURROGATE_MESSAGE, "bad_text") from None
