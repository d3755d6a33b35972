"""Applying the Alembic history from code (`agent-orchestrator migrate`, tests)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config

from ..core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the repository's one migration history.

    Raises:
        ConfigurationError: The migrations folder is not next to the package (the
            project must be installed from its source tree, as `make install` does).
    """
    ini = ROOT / "alembic.ini"
    if not ini.is_file():
        raise ConfigurationError(
            f"cannot find {ini}; install the project from its source tree "
            "(pip install -e .) so that the migrations travel with it"
        )
    config = Config(str(ini))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database up to `revision` (blocking).

    Alembic's env runs its own event loop; called from inside a running loop, the work
    moves to a helper thread so that the loops do not meet.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), revision)
        return
    errors: list[BaseException] = []

    def work() -> None:
        try:
            command.upgrade(alembic_config(database_url), revision)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work, name="alembic-upgrade")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """`upgrade` from async code (Alembic's env runs its own event loop in a thread)."""
    await anyio.to_thread.run_sync(upgrade, database_url, revision)


def current_heads(database_url: str) -> list[str]:
    """The script heads of the history (one, if the history is healthy)."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
