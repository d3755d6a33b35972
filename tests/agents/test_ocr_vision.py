"""`ocr_agent` with ``use_vision``: page images go to the OpenAI model through the real
`openai` client, against the fake OpenAI HTTP server on loopback."""

from __future__ import annotations

import base64
import io
import logging
import random
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.agents.ocr import OcrInput, OcrOutput
from agent_orchestrator.agents.receipts import parse_receipt
from agent_orchestrator.config import Settings
from agent_orchestrator.core.errors import AgentError, NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext
from tests.support.documents import make_receipt, text_of
from tests.support.fake_openai import FakeOpenAI, Status, completion, fake_openai
from tests.support.scans import render_image, render_pdf, save_image

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from agent_orchestrator.core.protocols import Agent

pytestmark = pytest.mark.anyio


def context() -> AgentContext:
    async def progress(*args: Any) -> None:
        return None

    return AgentContext(
        tenant_id="acme",
        execution_id="e",
        step_id="ocr",
        agent_id="ocr_agent",
        attempt=1,
        logger=logging.getLogger("tests.vision"),
        progress=progress,
    )


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as server:
        yield server


def agent_for(files_dir: Path, fake: FakeOpenAI, key: str | None = None) -> Agent:
    settings = Settings(
        _env_file=None,
        agent_files_dir=files_dir,
        openai_api_key=key or fake.api_key,
        openai_base_url=fake.base_url,
        openai_model="gpt-4o-mini",
    )
    agent = create_agent_registry(settings).get("ocr_agent")
    assert agent is not None
    return agent


def sent_image(request: dict[str, Any]) -> Image.Image:
    [message] = request["messages"]
    parts = {part["type"]: part for part in message["content"]}
    assert "Finnish receipt or invoice" in parts["text"]["text"]
    url = parts["image_url"]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


async def read(agent: Agent, name: str) -> OcrOutput:
    result = await agent.run(OcrInput(file=name, use_vision=True), context())
    assert isinstance(result, OcrOutput)
    return result


async def test_an_image_is_read_by_the_model(tmp_path: Path, fake: FakeOpenAI) -> None:
    rng = random.Random(501)
    doc = make_receipt(rng)
    save_image(render_image(doc, rng), tmp_path / "acme" / "kuitti.jpg", "JPEG")
    fake.reply(text_of(doc))
    result = await read(agent_for(tmp_path, fake), "kuitti.jpg")
    assert (result.method, result.pages, result.confidence) == ("vision", 1, 0.9)
    assert result.text == text_of(doc).strip("\n")
    assert parse_receipt(result.text).receipt.total == float(doc.total)
    [request] = fake.requests
    assert request["model"] == "gpt-4o-mini" and request["temperature"] == 0
    image = sent_image(request)
    assert image.format == "PNG" and max(image.size) <= 2048
    health = await agent_for(tmp_path, fake).health()
    assert health.ok and health.checks["vision"] is True


async def test_each_scanned_page_is_one_request(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    rng = random.Random(502)
    doc = make_receipt(rng)
    render_pdf(doc, tmp_path / "acme" / "skannattu.pdf", text_layer=False, rng=rng)
    render_pdf(doc, tmp_path / "acme" / "teksti.pdf", text_layer=True)
    fake.reply("sivu yksi")
    agent = agent_for(tmp_path, fake)
    scanned = await read(agent, "skannattu.pdf")
    assert (scanned.text, scanned.method) == ("sivu yksi", "vision")
    # A text layer is exact: it is used as is, and the model is not asked.
    layered = await read(agent, "teksti.pdf")
    assert layered.method == "pdf_text" and len(fake.requests) == 1


@pytest.mark.parametrize(
    ("reply", "error", "retryable", "message"),
    [
        (Status(500), AgentError, True, "the OpenAI vision request failed"),
        (Status(429), AgentError, True, "the OpenAI vision request failed"),
        (Status(400), NonRetryableAgentError, False, "refused the image"),
        (completion(""), AgentError, True, "returned no text"),
    ],
)
async def test_model_failures(
    tmp_path: Path,
    fake: FakeOpenAI,
    reply: Any,
    error: type[Exception],
    retryable: bool,
    message: str,
) -> None:
    rng = random.Random(503)
    save_image(render_image(make_receipt(rng), rng), tmp_path / "acme" / "k.png")
    fake.reply(reply)
    with pytest.raises(error, match=message) as caught:
        await read(agent_for(tmp_path, fake), "k.png")
    assert getattr(caught.value, "retryable", None) is retryable


async def test_a_wrong_key_is_not_retried(tmp_path: Path, fake: FakeOpenAI) -> None:
    rng = random.Random(504)
    save_image(render_image(make_receipt(rng), rng), tmp_path / "acme" / "k.png")
    with pytest.raises(NonRetryableAgentError, match="refused the key"):
        await read(agent_for(tmp_path, fake, key="sk-wrong"), "k.png")
    assert fake.pending == 0 and len(fake.requests) == 1
