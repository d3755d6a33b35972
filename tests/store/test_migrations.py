"""Migration health with pytest-alembic on SQLite and PostgreSQL: one head, upgrade from
empty, models equal to the migrated DDL, and every step down and up again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pytest_alembic.tests import (  # the plugin's checks, run here on both databases
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from agent_orchestrator.store.migrate import alembic_config as make_alembic_config
from tests.support.databases import _admin, check_postgres, postgres_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from alembic.config import Config

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    check_postgres()
    name = f"ao_mig_{tmp_path.name[-20:].replace('-', '_').lower()}"
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    try:
        yield postgres_url(name)
    finally:
        _admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def alembic_config(empty_database_url: str) -> Config:
    return make_alembic_config(empty_database_url)


@pytest.fixture
def alembic_engine(empty_database_url: str) -> Iterator[Engine]:
    url = make_url(empty_database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
