"""Text and JSON the databases can store, the same on SQLite and PostgreSQL.

PostgreSQL refuses U+0000 in ``text`` and ``jsonb`` ("\\u0000 cannot be converted to
text") and a lone surrogate (U+D800..U+DFFF outside a pair) either way: UTF-8 cannot
encode it, and ``jsonb`` refuses its ``\\ud800`` escape. SQLite stores both, so the same
document would succeed on one database and fail on the other. Text is therefore
cleaned where it enters (uploaded files, OCR, model answers, agents' outputs and
events), and once more where JSON is encoded for storage (`dumps`), as a last defence:

* NUL is removed. It carries no meaning in text; where it appears (a text file with a
  stray NUL byte, an OCR or model glitch) it is noise, and dropping it keeps the text
  around it intact.
* A lone surrogate becomes U+FFFD, the replacement character, as a UTF-8 decoder does
  with bytes it cannot read: the reader sees that something was there.

NaN and the infinities are not JSON (RFC 8259) and PostgreSQL refuses them; what is
stored is checked for them (`storable_json`, `dumps`), and they are refused
(`NotStorable`) rather than cleaned, as turning a number into null or 0 would change
its meaning.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import NotStorable

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON written with ensure_ascii (json.dumps' default), what needs cleaning shows
# as an escape; a document without one is stored as it is, without walking it.
_ESCAPED = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def clean_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _LONE_SURROGATE.sub(REPLACEMENT, text)
    return text


def clean_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, text, numbers) with every text in it, keys
    included, cleaned by `clean_text`; the value itself when nothing needs cleaning."""
    return _clean(value, "", check_numbers=False)


def storable_json(value: Any) -> Any:
    """`clean_json` of a value about to be stored, which must not hold NaN or an
    infinity.

    Raises:
        NotStorable: The value holds NaN or an infinity; the message says where.
    """
    return _clean(value, "", check_numbers=True)


def _clean(value: Any, where: str, *, check_numbers: bool) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        if check_numbers and not math.isfinite(value):
            raise NotStorable(
                f"{where or 'the value'} is {value}, which JSON cannot hold; use null "
                "or a finite number"
            )
        return value
    if isinstance(value, dict):
        cleaned: dict[Any, Any] | None = None
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            new_key = clean_text(key) if isinstance(key, str) else key
            new_item = _clean(item, path, check_numbers=check_numbers)
            if cleaned is None and (new_key is not key or new_item is not item):
                cleaned = {}
                for k, v in value.items():  # the unchanged entries before this one
                    if k is key:
                        break
                    cleaned[k] = v
            if cleaned is not None:
                cleaned[new_key] = new_item
        return value if cleaned is None else cleaned
    if isinstance(value, list | tuple):
        items = [
            _clean(item, f"{where}[{i}]", check_numbers=check_numbers)
            for i, item in enumerate(value)
        ]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items
    return value


def dumps(value: Any) -> str:
    """JSON text of `value` for storage (the database engines' JSON serializer).

    Text is cleaned as `clean_text` does; without anything to clean this costs one
    regular-expression scan of the encoded text.

    Raises:
        NotStorable: The value holds NaN, an infinity or something that is not JSON.
    """
    try:
        encoded = json.dumps(value, allow_nan=False)
    except ValueError as exc:
        storable_json(value)  # raises with the place of the number
        raise NotStorable(f"the value is not JSON: {exc}") from None
    except TypeError as exc:
        raise NotStorable(f"the value is not JSON: {exc}") from None
    if _ESCAPED.search(encoded) is None:
        return encoded
    return json.dumps(clean_json(value), allow_nan=False)
