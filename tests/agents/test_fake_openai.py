"""The fake OpenAI server answers the real `openai` client the way OpenAI does."""

from __future__ import annotations

import openai
import pytest
from pydantic import BaseModel

from tests.support.fake_openai import (
    Delay,
    FakeOpenAI,
    Status,
    completion,
    fake_openai,
)

pytestmark = pytest.mark.anyio


class Period(BaseModel):
    start: str
    end: str


def client(
    fake: FakeOpenAI, timeout: float | openai.NotGiven = openai.NOT_GIVEN
) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=fake.base_url, api_key=fake.api_key, max_retries=0, timeout=timeout
    )


async def test_a_queued_text_reply_is_the_completion() -> None:
    with fake_openai() as fake:
        fake.reply("Hei maailma")
        async with client(fake) as ai:
            result = await ai.chat.completions.create(
                model="gpt-test",
                messages=[{"role": "user", "content": "Sano hei"}],
            )
    assert result.choices[0].message.content == "Hei maailma"
    assert result.choices[0].finish_reason == "stop"
    assert result.model == "gpt-test"
    assert result.usage is not None and result.usage.total_tokens == 15
    assert fake.requests[0]["messages"] == [{"role": "user", "content": "Sano hei"}]
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


async def test_parse_with_a_pydantic_model_sends_a_strict_schema() -> None:
    with fake_openai() as fake:
        fake.reply('{"start": "2026-10-01", "end": "2026-10-31"}')
        async with client(fake) as ai:
            result = await ai.chat.completions.parse(
                model="gpt-test",
                messages=[{"role": "user", "content": "viime kuu"}],
                response_format=Period,
            )
    assert result.choices[0].message.parsed == Period(
        start="2026-10-01", end="2026-10-31"
    )
    schema = fake.requests[0]["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False


async def test_replies_are_used_in_order_and_a_callable_sees_the_request() -> None:
    with fake_openai() as fake:
        fake.reply("first", lambda body: completion(body["messages"][-1]["content"]))
        async with client(fake) as ai:
            answers = [
                (
                    await ai.chat.completions.create(
                        model="m", messages=[{"role": "user", "content": text}]
                    )
                )
                .choices[0]
                .message.content
                for text in ("one", "two")
            ]
        assert fake.pending == 0
    assert answers == ["first", "two"]


async def test_length_raises_length_finish_reason_error() -> None:
    with fake_openai() as fake:
        fake.reply(completion('{"start": "2026-', finish_reason="length"))
        async with client(fake) as ai:
            with pytest.raises(openai.LengthFinishReasonError):
                await ai.chat.completions.parse(
                    model="m",
                    messages=[{"role": "user", "content": "x"}],
                    response_format=Period,
                )


async def test_a_refusal_parses_to_none() -> None:
    with fake_openai() as fake:
        fake.reply(completion(None, refusal="En voi auttaa tässä."))
        async with client(fake) as ai:
            result = await ai.chat.completions.parse(
                model="m",
                messages=[{"role": "user", "content": "x"}],
                response_format=Period,
            )
    message = result.choices[0].message
    assert message.parsed is None
    assert message.refusal == "En voi auttaa tässä."


async def test_statuses_raise_api_status_errors() -> None:
    with fake_openai() as fake:
        fake.reply(Status(500), Status(429, headers={"retry-after": "1"}))
        async with client(fake) as ai:
            with pytest.raises(openai.APIStatusError) as server_error:
                await ai.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
            with pytest.raises(openai.RateLimitError):
                await ai.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
    assert server_error.value.status_code == 500


async def test_an_empty_queue_answers_500() -> None:
    with fake_openai() as fake:
        async with client(fake) as ai:
            with pytest.raises(openai.InternalServerError) as caught:
                await ai.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
    assert "no reply queued" in str(caught.value)


async def test_a_wrong_key_is_refused_without_taking_a_reply() -> None:
    with fake_openai() as fake:
        fake.reply("kept")
        async with openai.AsyncOpenAI(
            base_url=fake.base_url, api_key="sk-wrong", max_retries=0
        ) as ai:
            with pytest.raises(openai.AuthenticationError):
                await ai.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
        assert fake.pending == 1


async def test_a_delay_beyond_the_client_timeout_times_out() -> None:
    with fake_openai() as fake:
        fake.reply(Delay(30, "too late"), "on time")
        async with client(fake, timeout=0.5) as ai:
            with pytest.raises(openai.APITimeoutError):
                await ai.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
            result = await ai.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
    assert result.choices[0].message.content == "on time"


async def test_a_vision_request_is_answered_the_same_way() -> None:
    image = "data:image/png;base64,iVBORw0KGgo="
    with fake_openai() as fake:
        fake.reply("KUITTI\nYhteensä 12,40")
        async with client(fake) as ai:
            result = await ai.chat.completions.create(
                model="m",
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Lue kuitti"},
                            {"type": "image_url", "image_url": {"url": image}},
                        ],
                    }
                ],
            )
    assert result.choices[0].message.content == "KUITTI\nYhteensä 12,40"
    parts = fake.requests[0]["messages"][0]["content"]
    assert parts[1]["image_url"]["url"] == image
