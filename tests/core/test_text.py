"""`core.text`: what the databases refuse is cleaned (NUL removed, lone surrogates
replaced) or refused (NaN, infinities), and clean values pass untouched."""

from __future__ import annotations

import json

import pytest

from agent_orchestrator.core.errors import NotStorable
from agent_orchestrator.core.text import (
    clean_json,
    clean_text,
    dumps,
    storable_json,
)


def test_clean_text_removes_nul_and_replaces_lone_surrogates() -> None:
    assert clean_text("a\x00b") == "ab"
    assert clean_text("kuitti \ud83d!") == "kuitti \ufffd!"
    assert clean_text("\udc00\ud800") == "\ufffd\ufffd"
    assert clean_text("pari 😀 ja ä") == "pari 😀 ja ä"


def test_clean_json_walks_keys_and_values_and_keeps_clean_values() -> None:
    clean = {"a": [1, 2.5, {"b": "c"}], "d": None}
    assert clean_json(clean) is clean
    dirty = {"ok": 1, "k\x00": ["x\ud800", {"y": "z\x00"}], "n": float("nan")}
    assert clean_json(dirty) == {
        "ok": 1,
        "k": ["x\ufffd", {"y": "z"}],
        "n": dirty["n"],
    }
    assert list(clean_json(dirty)) == ["ok", "k", "n"], "order is kept"


def test_storable_json_refuses_numbers_json_cannot_hold() -> None:
    with pytest.raises(NotStorable, match=r"^a\.b\[1\] is nan, which JSON cannot hold"):
        storable_json({"a": {"b": [1.0, float("nan")]}})
    with pytest.raises(NotStorable, match="is inf"):
        storable_json([float("inf")])


def test_dumps_cleans_text_and_refuses_nan_and_other_types() -> None:
    assert dumps({"a": "b"}) == json.dumps({"a": "b"})
    assert json.loads(dumps({"t": "a\x00b\ud800"})) == {"t": "ab\ufffd"}
    # An escaped backslash before "u0000" is text, not a NUL: kept as it is.
    assert json.loads(dumps({"t": "\\u0000"})) == {"t": "\\u0000"}
    with pytest.raises(NotStorable, match="is nan"):
        dumps({"x": float("nan")})
    with pytest.raises(NotStorable, match="not JSON"):
        dumps({"x": object()})
