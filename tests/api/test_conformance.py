"""Conformance with the reference implementations, against a real server:
graphql-http's audits of the GraphQL-over-HTTP spec (61 of 61 ok) and the reference
graphql-ws client following an execution's events (six, in order, then complete).

Both are npm packages, pinned in ``conformance/package-lock.json`` and run by
``conformance/check.mjs``; their ``node_modules`` are installed with ``npm ci`` when
missing. Without Node.js or the npm registry the test fails, saying so. The audits
send introspection queries (``__type``), so the server runs in the development
profile; graphql-cop's checks run against the production profile in test_profile.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from tests.api.conftest import make_keys
from tests.support.server import ROOT, ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

# npm ci on a first run, then two servers' audits on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
CONFORMANCE = ROOT / "conformance"
AUDITS = 61
EVENTS = [
    (1, "EXECUTION_STARTED", None),
    (2, "STEP_STARTED", "first"),
    (3, "STEP_SUCCEEDED", "first"),
    (4, "STEP_STARTED", "second"),
    (5, "STEP_SUCCEEDED", "second"),
    (6, "EXECUTION_SUCCEEDED", None),
]


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: the conformance check runs the reference "
            "GraphQL clients on Node.js 20 or newer (Debian package nodejs, npm)"
        )
    return found


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js, with the pinned packages in ``conformance/node_modules``."""
    node = tool("node")
    if not (CONFORMANCE / "node_modules").is_dir():
        try:
            done = subprocess.run(
                [tool("npm"), "ci", "--no-audit", "--no-fund"],
                cwd=CONFORMANCE,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("npm ci in conformance/ took over 10 minutes (no registry?)")
        if done.returncode != 0:
            pytest.fail(
                "npm ci in conformance/ failed (is the npm registry reachable?):\n"
                + done.stdout[-2000:]
                + done.stderr[-2000:]
            )
    return node


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, str]]:
    workdir: Path = tmp_path_factory.mktemp(f"conformance-{request.param}")
    url = database_factory.new(request.param, workdir)
    key = make_keys(url, {"admin": ("admin", "acme")})["admin"]
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir / "files"),
        "AGENT_RATE_LIMIT": "100000/minute",
        "AGENT_ENV": "development",
    }
    try:
        with ServerProcess(env, workdir / "server.log") as process:
            yield process, key
    finally:
        database_factory.drop(url)


def check(node: str, url: str, key: str) -> dict[str, Any]:
    done = subprocess.run(
        [node, "check.mjs", url, key],
        cwd=CONFORMANCE,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_reference_clients(node: str, server: tuple[ServerProcess, str]) -> None:
    process, key = server
    report = check(node, process.url, key)

    audits = report["audits"]
    assert audits["problems"] == [], json.dumps(audits["problems"], indent=1)
    assert (audits["ok"], audits["total"]) == (AUDITS, AUDITS)

    stream = report["stream"]
    assert stream["error"] is None and stream["completed"], stream
    assert [(e["seq"], e["type"], e["stepId"]) for e in stream["events"]] == EVENTS
