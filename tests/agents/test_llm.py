"""`llm_agent` against a real OpenAI-compatible HTTP server on loopback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.llm import LlmAgent, LlmInput
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import ExecutionStatus
from agent_orchestrator.core.errors import AgentError, NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext
from tests.support.fake_openai import Delay, Status, completion, fake_openai
from tests.support.server import free_port
from tests.support.workflows import open_workflows, run

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from agent_orchestrator.store.database import Database
    from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.anyio


def settings(fake: FakeOpenAI | None = None, **values: Any) -> Settings:
    if fake is not None:
        values = {
            "openai_api_key": fake.api_key,
            "openai_base_url": fake.base_url,
            **values,
        }
    return Settings(
        _env_file=None,
        **{"openai_api_key": None, "openai_model": "gpt-test", **values},
    )


def agent(config: Settings) -> LlmAgent:
    return LlmAgent(AgentResources(model=config.openai))


def context() -> AgentContext:
    async def progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    return AgentContext(
        tenant_id="acme",
        execution_id="exec-1",
        step_id="ask",
        agent_id="llm_agent",
        attempt=1,
        logger=logging.getLogger("test.llm"),
        progress=progress,
    )


async def test_the_answer_and_the_model_are_returned() -> None:
    with fake_openai() as fake:
        fake.reply("Arvonlisäveron yleinen verokanta on 25,5 %.")
        result = await agent(settings(fake)).run(
            LlmInput(
                prompt="Mikä on ALV:n yleinen verokanta?", system="Vastaa lyhyesti."
            ),
            context(),
        )
    assert result.text == "Arvonlisäveron yleinen verokanta on 25,5 %."
    assert result.model == "gpt-test"
    (request,) = fake.requests
    assert request["model"] == "gpt-test"
    assert request["messages"] == [
        {"role": "system", "content": "Vastaa lyhyesti."},
        {"role": "user", "content": "Mikä on ALV:n yleinen verokanta?"},
    ]


async def test_without_a_system_message_only_the_prompt_is_sent() -> None:
    with fake_openai() as fake:
        fake.reply("ok")
        await agent(settings(fake)).run(LlmInput(prompt="Hei"), context())
    assert fake.requests[0]["messages"] == [{"role": "user", "content": "Hei"}]


async def test_without_a_key_the_agent_says_what_to_set() -> None:
    unconfigured = agent(settings())
    with pytest.raises(NonRetryableAgentError) as caught:
        await unconfigured.run(LlmInput(prompt="Hei"), context())
    assert str(caught.value) == (
        "no model is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
        "compatible server)"
    )
    health = await unconfigured.health()
    assert not health.ok
    assert "OPENAI_API_KEY" in health.detail
    assert health.checks == {"configured": False}
    assert health.detail.endswith("(model gpt-test at api.openai.com)")


async def test_without_settings_the_agent_is_unconfigured() -> None:
    bare = LlmAgent(AgentResources())
    with pytest.raises(NonRetryableAgentError, match="OPENAI_API_KEY"):
        await bare.run(LlmInput(prompt="Hei"), context())
    assert not (await bare.health()).ok


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Status(429), "rate limiting"),
        (Status(500), "HTTP 500"),
        (Status(503), "HTTP 503"),
    ],
)
async def test_rate_limits_and_server_errors_are_retryable(
    reply: Status, words: str
) -> None:
    with fake_openai() as fake:
        fake.reply(reply)
        with pytest.raises(AgentError) as caught:
            await agent(settings(fake)).run(LlmInput(prompt="Hei"), context())
    assert caught.value.retryable
    assert words in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


async def test_a_slow_answer_times_out_retryably() -> None:
    with fake_openai() as fake:
        fake.reply(Delay(30, "myöhässä"))
        with pytest.raises(AgentError) as caught:
            await agent(settings(fake, agent_timeout_ms=300)).run(
                LlmInput(prompt="Hei"), context()
            )
    assert caught.value.retryable
    assert "did not answer in time" in str(caught.value)


async def test_an_unreachable_server_is_retryable() -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(AgentError) as caught:
        await agent(settings(openai_api_key="sk-test", openai_base_url=closed)).run(
            LlmInput(prompt="Hei"), context()
        )
    assert caught.value.retryable
    assert "cannot reach the model server 127.0.0.1" in str(caught.value)


async def test_a_refused_key_is_not_retryable_and_not_echoed() -> None:
    with fake_openai() as fake:
        config = settings(fake, openai_api_key="sk-wrong-secret")
        with pytest.raises(NonRetryableAgentError) as caught:
            await agent(config).run(LlmInput(prompt="Hei"), context())
        health = await agent(config).health()
    assert "check OPENAI_API_KEY" in str(caught.value)
    assert "sk-wrong-secret" not in str(caught.value)
    assert not health.ok
    assert health.checks["key_accepted"] is False


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Status(404), "check OPENAI_MODEL"),
        (Status(400), "rejected the request (HTTP 400)"),
        (Status(429, {"error": {"code": "insufficient_quota"}}), "quota"),
        (completion("Arvonlisä", finish_reason="length"), "token limit"),
        (completion(None, refusal="En voi vastata."), "refused to answer"),
    ],
)
async def test_answers_that_another_attempt_cannot_fix_are_not_retryable(
    reply: Any, words: str
) -> None:
    with fake_openai() as fake:
        fake.reply(reply)
        with pytest.raises(NonRetryableAgentError) as caught:
            await agent(settings(fake)).run(LlmInput(prompt="Hei"), context())
    assert words in str(caught.value)


async def test_health_names_the_model_and_the_host() -> None:
    with fake_openai() as fake:
        health = await agent(settings(fake)).health()
    host = fake.base_url.removeprefix("http://").removesuffix("/v1")
    assert health.ok
    assert health.detail == f"model gpt-test at {host}"


async def test_health_reports_an_unreachable_server() -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    health = await agent(
        settings(openai_api_key="sk-test", openai_base_url=closed)
    ).health()
    assert not health.ok
    assert health.checks["reachable"] is False


async def test_a_server_error_is_sent_once_then_retried_by_the_engine(
    database: Database, tmp_path: Path
) -> None:
    # The retry policy of `model_client`: the client sends each call once; the
    # engine's step retry (with backoff, in the step's history) sends it again.
    graph = {
        "steps": [{"id": "ask", "agent": "llm_agent", "inputs": {"prompt": "Hei"}}]
    }
    with fake_openai() as fake:
        fake.reply(Status(500), "Hei vaan!")
        async with open_workflows(
            database,
            tmp_path,
            openai_api_key=fake.api_key,
            openai_base_url=fake.base_url,
        ) as service:
            done = await run(service, graph=graph)
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    (step,) = done.steps
    assert step.attempts == 2
    assert dict(step.output or {})["text"] == "Hei vaan!"
    # One request per attempt: a client retry would have spent the second reply
    # inside the first attempt.
    assert len(fake.requests) == 2
