"""docker-compose.yml is the production layout that README "Running several
processes" describes (PostgreSQL, Redis, a one-shot migration, the API with workflows
off, scalable workers), and it and the Dockerfile start only commands and options that
the CLI has. Where Docker's compose plugin is installed, ``docker compose config -q``
must accept the file too."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from typing import Any

import typer.main
import yaml

from agent_orchestrator.cli import app
from agent_orchestrator.config import Settings
from tests.support.server import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROGRAM = "agent-orchestrator"
APP_SERVICES = ("migrate", "api", "worker")


def cli_options() -> dict[str, set[str]]:
    """Each command of the CLI with the options it takes."""
    group = typer.main.get_group(app)
    return {
        name: {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for name, command in group.commands.items()
    }


def check_invocation(argv: list[str]) -> str:
    """`argv` runs ``agent-orchestrator COMMAND [--option ...]`` with a command and
    options that the CLI has; returns the command's name."""
    assert argv[0] == PROGRAM, argv
    options = cli_options().get(argv[1])
    assert options is not None, f"{PROGRAM} has no command {argv[1]!r}"
    for word in argv[2:]:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in options, f"{argv[1]} has no option {word}"
    return argv[1]


def known_variables() -> set[str]:
    """Every variable the service reads: the settings and the commands' options."""
    names = {name.upper() for name in Settings.model_fields}
    for command in typer.main.get_group(app).commands.values():
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            if isinstance(envvar, str):
                names.add(envvar)
            elif envvar:
                names.update(envvar)
    return names


def default_of(value: str) -> str:
    """The default of a ``${NAME:-default}`` interpolation."""
    match = re.fullmatch(r"\$\{(\w+):-([^}]*)\}", value)
    assert match, f"{value!r} is not ${{NAME:-default}}"
    return match.group(2)


def conditions(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service["depends_on"].items()}


def test_compose_is_the_production_layout() -> None:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())[
        "services"
    ]
    assert set(services) == {"db", "redis", *APP_SERVICES}
    db, redis = services["db"], services["redis"]
    migrate, api, worker = (services[name] for name in APP_SERVICES)

    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-change-me}"
    assert redis["image"] == "redis:7"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]

    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == "."
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in environment["DATABASE_URL"]
        unknown = set(environment) - known_variables()
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"

    # One-shot: it runs to its end once, and the others wait for its success.
    assert check_invocation(migrate["command"]) == "migrate"
    assert migrate["restart"] == "no"
    assert conditions(migrate) == {"db": "service_healthy"}

    assert check_invocation(api["command"]) == "serve"
    assert "--no-bootstrap-key" in api["command"]
    environment = api["environment"]
    assert environment["AGENT_WORKER_ENABLED"] == "false"
    assert int(default_of(environment["AGENT_SERVE_WORKERS"])) == 2
    assert environment["AGENT_RATE_LIMIT_STORAGE"] == "redis://redis:6379/0"
    assert api["ports"] == ["8000:8000"]
    assert "http://127.0.0.1:8000/health" in api["healthcheck"]["test"]
    assert conditions(api) == {
        "db": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }

    # Scalable (`--scale worker=3`): no published port, no fixed container name.
    assert check_invocation(worker["command"]) == "worker"
    assert "ports" not in worker and "container_name" not in worker
    assert worker["healthcheck"]["test"][0] == "CMD"
    assert not worker["healthcheck"].get("disable")
    assert conditions(worker) == {
        "db": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert "AGENT_WORKER_ENABLED" not in worker["environment"]

    # The files the API takes in are the files the workers' agents read.
    for service in (api, worker):
        assert service["environment"]["AGENT_FILES_DIR"] == "/data/files"
        assert "files:/data/files" in service["volumes"]

    # Present on developers' and CI machines with Docker; the checks above run
    # everywhere.
    if _has_compose():
        done = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    version = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, timeout=30
    )
    return version.returncode == 0


def test_the_dockerfile_starts_commands_the_cli_has() -> None:
    instructions = {}
    for line in DOCKERFILE.read_text().splitlines():
        keyword, _, rest = line.partition(" ")
        if keyword in ("CMD", "ENTRYPOINT"):
            instructions[keyword] = json.loads(rest)
    assert "ENTRYPOINT" not in instructions, "compose's `command` assumes none"
    command = instructions["CMD"]
    assert command[:2] == ["sh", "-c"], command
    invocations = [shlex.split(part) for part in re.split(r"&&|;|\|\|", command[2])]
    assert [check_invocation(argv) for argv in invocations] == [
        "migrate",
        "serve",
    ]
