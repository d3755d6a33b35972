"""Fixtures of the command-line tests."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.databases import _admin, check_postgres, postgres_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    check_postgres()
    name = f"ao_cli_{uuid.uuid4().hex[:12]}"
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    try:
        yield postgres_url(name)
    finally:
        _admin(f'drop database if exists "{name}" with (force)')
