"""A real server process per database kind, shared by a module's tests, with keys of
every role in two tenants."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import Role
from agent_orchestrator.security.api_keys import ApiKeyService
from agent_orchestrator.store.api_keys import ApiKeyStore
from agent_orchestrator.store.database import create_database
from tests.support.gql import GraphQLClient
from tests.support.server import ROOT, ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.databases import DatabaseFactory


@dataclass
class Api:
    url: str
    database_url: str
    keys: dict[str, str]
    server: ServerProcess
    files_dir: Path

    def client(self, who: str = "admin") -> GraphQLClient:
        return GraphQLClient(self.url, self.keys.get(who, who))


def make_key(database_url: str, name: str, role: str, tenant: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_orchestrator",
            "generate-api-key",
            name,
            role,
            "--tenant",
            tenant,
            "--expires-in-days",
            "5",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def make_keys(database_url: str, specs: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Keys made in this process, as `make_key` makes them through the CLI (whose own
    tests cover that path): one process start instead of one per key."""

    async def main() -> dict[str, str]:
        keys = {}
        async with create_database(database_url) as database:
            service = ApiKeyService(ApiKeyStore(database))
            for name, (role, tenant) in specs.items():
                _, keys[name] = await service.create(
                    name=name,
                    role=Role.parse(role),
                    tenant_id=tenant,
                    expires_in_days=5,
                    created_by="tests",
                )
        return keys

    return anyio.run(main)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    workdir = tmp_path_factory.mktemp(f"api-{request.param}")
    url = database_factory.new(request.param, workdir)
    keys = make_keys(
        url,
        {
            "admin": ("admin", "acme"),
            "operator": ("operator", "acme"),
            "viewer": ("viewer", "acme"),
            "other": ("admin", "globex"),
        },
    )
    files = workdir / "files"
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(files),
        "AGENT_LEASE_SECONDS": "5",
        "AGENT_RETRY_INITIAL_MS": "20",
        "AGENT_METRICS_INTERVAL_S": "0.2",
        "AGENT_RATE_LIMIT": "100000/minute",
        # The suites send wrong keys on purpose, all from 127.0.0.1.
        "AGENT_AUTH_FAILURE_LIMIT": "100000/minute",
        "AGENT_KEY_RECHECK_S": "1",
    }
    server = ServerProcess(env, workdir / "server.log").start()
    try:
        yield Api(server.url, url, keys, server, files)
    finally:
        server.stop()
        database_factory.drop(url)
