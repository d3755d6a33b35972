"""Logs through structlog: one JSON object a line (or console columns), the ids of the
execution, step and request on every line, and no secret anywhere: checked on the
formatter, on the real engine in-process, and on a real server process."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import structlog
from sqlalchemy.engine import make_url

from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.core.enums import ExecutionStatus
from agent_orchestrator.core.errors import ConfigurationError
from agent_orchestrator.core.logcontext import current_log_fields, log_fields
from agent_orchestrator.observability.logging import (
    REDACTED,
    Redactor,
    configure_logging,
)
from tests.api.conftest import make_key
from tests.support.server import ServerProcess, free_port
from tests.support.workflows import open_workflows, run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from agent_orchestrator.store.database import Database

LEAKY_GRAPH = {"steps": [{"id": "leak", "agent": "leaky_agent", "inputs": {}}]}
STEP_IDS = ("tenant_id", "execution_id", "step_id", "agent_id", "attempt")


@pytest.fixture
def logging_state() -> Iterator[None]:
    """Put the process's logging back as it was after a test configures it."""
    root = logging.getLogger()
    ours = logging.getLogger("agent_orchestrator")
    saved = (list(root.handlers), root.level, ours.level, ours.propagate)
    yield
    root.handlers[:], _, _, _ = saved
    root.setLevel(saved[1])
    ours.setLevel(saved[2])
    ours.propagate = saved[3]
    structlog.reset_defaults()


def json_lines(text: str) -> list[dict[str, Any]]:
    """The lines of `text` that are JSON objects (a server also prints a banner)."""
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


# --- the formatter ---------------------------------------------------------------


def test_json_lines_carry_the_log_fields_and_blank_secrets(
    capsys: pytest.CaptureFixture[str], logging_state: None
) -> None:
    configure_logging("INFO", "json", secrets=["pg-Pa55word"])
    log = logging.getLogger("agent_orchestrator.test")
    with log_fields(tenant_id="acme", execution_id="e-1"):
        with log_fields(step_id="ocr", agent_id="ocr_agent", attempt=2):
            log.info("reading %s", "postgresql://app:pg-Pa55word@db:5432/books")
        log.warning("between steps")
    assert current_log_fields() == {}
    first, second = json_lines(capsys.readouterr().err)
    assert first["event"] == f"reading postgresql://app:{REDACTED}@db:5432/books"
    assert {k: first[k] for k in STEP_IDS} == {
        "tenant_id": "acme",
        "execution_id": "e-1",
        "step_id": "ocr",
        "agent_id": "ocr_agent",
        "attempt": 2,
    }
    assert (first["level"], first["logger"]) == ("info", "agent_orchestrator.test")
    assert first["timestamp"].endswith("Z")
    assert "step_id" not in second and second["execution_id"] == "e-1"


def test_a_traceback_is_redacted_too(
    capsys: pytest.CaptureFixture[str], logging_state: None
) -> None:
    configure_logging("INFO", "json", secrets=["whsec-0123456789"])
    try:
        raise RuntimeError("signing with whsec-0123456789 failed")
    except RuntimeError:
        logging.getLogger("agent_orchestrator.test").exception("webhook failed")
    (line,) = json_lines(capsys.readouterr().err)
    assert "RuntimeError: signing with [redacted] failed" in line["exception"]
    assert "whsec-0123456789" not in json.dumps(line)


def test_console_format_for_people(
    capsys: pytest.CaptureFixture[str], logging_state: None
) -> None:
    configure_logging("INFO", "console")
    with log_fields(execution_id="e-2"):
        logging.getLogger("agent_orchestrator.test").info("hello")
    err = capsys.readouterr().err
    assert "hello" in err and "execution_id=e-2" in err
    assert json_lines(err) == []


def test_log_level_applies_to_our_loggers(
    capsys: pytest.CaptureFixture[str], logging_state: None
) -> None:
    configure_logging("WARNING", "json")
    logging.getLogger("agent_orchestrator.test").info("quiet")
    logging.getLogger("agent_orchestrator.test").warning("loud")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["loud"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("key ao_" + "A1b2" * 9, f"key ao_{REDACTED}"),
        ("prefix ao_A1b2C3d4 stays", "prefix ao_A1b2C3d4 stays"),
        ("sk-proj-abcdefghijklmnop1234", f"sk-{REDACTED}"),
        ("smtp://mail:hunter2@smtp.example.fi:587", f"smtp://mail:{REDACTED}@smtp"),
        ("postgresql://postgres@127.0.0.1/db", "postgresql://postgres@127.0.0.1/db"),
        ("GET /hook?token=abc123&x=1", f"GET /hook?token={REDACTED}&x=1"),
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {REDACTED}"),
    ],
)
def test_redactor_patterns(text: str, shown: str) -> None:
    assert Redactor().redact(text).startswith(shown)


def test_redactor_blanks_secret_keys_and_nested_values() -> None:
    redact = Redactor(["s3cr3t-value"])
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "password": "anything",
            "api_key": "whatever",
            "details": {"url": "s3cr3t-value", "items": ["a s3cr3t-value b"]},
            "error": ValueError("s3cr3t-value"),
            "count": 3,
        },
    )
    assert event == {
        "event": "x",
        "password": REDACTED,
        "api_key": REDACTED,
        "details": {"url": REDACTED, "items": [f"a {REDACTED} b"]},
        "error": REDACTED,
        "count": 3,
    }


def test_log_format_setting() -> None:
    # Under pytest stderr is no terminal: JSON by default.
    assert Settings(_env_file=None).log_format == "json"
    assert Settings(_env_file=None, log_format="Console").log_format == "console"
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        load_settings(_env_file=None, log_format="xml")


def test_secret_values_of_the_settings() -> None:
    settings = Settings(
        _env_file=None,
        database_url="postgresql://app:p%40ss-word@db/books",
        openai_api_key="sk-abc123456789",
        agent_smtp_password="smtp-pw-1",
        agent_webhook_secret="whsec-1",
    )
    assert set(settings.secret_values()) == {
        "sk-abc123456789",
        "smtp-pw-1",
        "whsec-1",
        "p%40ss-word",
        "p@ss-word",
    }


# --- the engine ------------------------------------------------------------------


@pytest.mark.anyio
async def test_lines_logged_in_a_step_carry_its_ids(
    database: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    logging_state: None,
) -> None:
    configure_logging("INFO", "json")
    async with open_workflows(
        database, tmp_path, agent_plugins=["tests.observability.leaky"]
    ) as service:
        done = await run(service, graph=LEAKY_GRAPH)
    assert done.status is ExecutionStatus.FAILED
    lines = json_lines(capsys.readouterr().err)
    # The plugin's own module logger: its ids come from the engine's log fields.
    mine = [line for line in lines if line["logger"] == "tests.observability.leaky"]
    attempts = done.steps[0].attempts
    assert attempts == 3  # the first try and the two retries of the test engine
    assert [{k: line.get(k) for k in STEP_IDS} for line in mine] == [
        {
            "tenant_id": "acme",
            "execution_id": done.id,
            "step_id": "leak",
            "agent_id": "leaky_agent",
            "attempt": attempt,
        }
        for attempt in range(1, attempts + 1)
    ]
    crashes = [line for line in lines if "failed unexpectedly" in line["event"]]
    assert len(crashes) == attempts
    assert all(c["execution_id"] == done.id and c["exception"] for c in crashes)


# --- a real server ---------------------------------------------------------------


def _with_password(url: str, password: str) -> str:
    parsed = make_url(url)
    if parsed.password:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


@pytest.mark.slow
def test_a_server_logs_ids_and_no_secrets(database_url: str, tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    url = database_url
    if not url.startswith("sqlite"):
        # Local PostgreSQL trusts the loopback: any password connects, and it must
        # never be written.
        url = _with_password(url, f"pg-pass-{token}")
    key = make_key(url, "logs", "admin", "acme")
    secret_values = {
        "OPENAI_API_KEY": f"sk-test-{token}-openai",
        "AGENT_SMTP_PASSWORD": f"smtp-pass-{token}",
        "AGENT_WEBHOOK_SECRET": f"webhook-secret-{token}",
    }
    env = {
        **secret_values,
        "DATABASE_URL": url,
        # Nothing listens there: the planner fails over to the offline planner.
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "AGENT_SMTP_HOST": "127.0.0.1",
        "AGENT_SMTP_PORT": str(free_port()),
        "AGENT_SMTP_USERNAME": "mailer",
        "AGENT_SMTP_SENDER": "Agent <noreply@example.fi>",
        "AGENT_FILES_DIR": str(tmp_path / "files"),
        "AGENT_PLUGINS": "tests.support.agents,tests.observability.leaky",
        "AGENT_MAX_RETRIES": "1",
        "AGENT_RETRY_INITIAL_MS": "20",
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
    }
    bad_key = key[:-1] + ("x" if key[-1] != "x" else "y")
    with ServerProcess(env, tmp_path / "server.log") as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:

            def gql(query: str, request_id: str, **variables: Any) -> Any:
                return http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"X-API-Key": key, "X-Request-Id": request_id},
                ).json()

            assert http.get("/health").status_code == 200
            refused = http.post(
                "/graphql",
                json={"query": "{ agents { id } }"},
                headers={"X-API-Key": bad_key},
            )
            assert refused.status_code == 401
            assert gql("{ agents { id } }", "req-agents")["data"]["agents"]
            plan = gql(
                "query($c: String!) { copilotPlan(command: $c) { planner } }",
                "req-plan",
                c="Tee ALV-laskelma viime kuulta",
            )
            assert plan["data"]["copilotPlan"]["planner"] == "offline"
            graph = {**LEAKY_GRAPH}
            graph["steps"] = [{**LEAKY_GRAPH["steps"][0], "inputs": {"token": key}}]
            started = gql(
                "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
                "req-execute",
                g=graph,
            )
            execution_id = started["data"]["executeWorkflow"]["id"]
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and status != "FAILED":
                status = gql(
                    "query($id: ID!) { execution(id: $id) { status } }",
                    "req-poll",
                    id=execution_id,
                )["data"]["execution"]["status"]
            assert status == "FAILED"
        log = server.log()
    leaked = [*secret_values.values(), key, bad_key]
    password = make_url(url).password
    if password:
        leaked.append(password)
    for value in leaked:
        assert value not in log, f"a secret reached the log: {value[:12]}..."
    lines = json_lines(log)
    agent_lines = [
        line
        for line in lines
        if line["logger"].endswith("leaky_agent")
        and line["event"].startswith("connecting with")
    ]
    assert agent_lines, log[-3000:]
    assert {line["attempt"] for line in agent_lines} == {1, 2}
    for line in agent_lines:
        assert (line["tenant_id"], line["execution_id"]) == ("acme", execution_id)
        assert (line["step_id"], line["agent_id"]) == ("leak", "leaky_agent")
        assert REDACTED in line["event"]
    crashes = [line for line in lines if "failed unexpectedly" in line["event"]]
    assert crashes and all(REDACTED in line["exception"] for line in crashes)
    requests = {line.get("request_id") for line in lines}
    assert {"req-agents", "req-plan", "req-execute"} <= requests
    # The planner's fall-back warning names the request it served.
    assert any(
        line.get("request_id") == "req-plan" and line["logger"].endswith("planner")
        for line in lines
    )
