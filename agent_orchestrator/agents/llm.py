"""`llm_agent`: one prompt to the configured OpenAI-compatible model.

The model is named by ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``OPENAI_MODEL``;
each attempt waits at most ``AGENT_TIMEOUT_MS``. The client never retries by itself
(`model_client`): the engine does, with backoff, for the errors that `model_error`
marks retryable (timeouts, lost connections, rate limits, 5xx), and not for refused
keys, unknown models or rejected requests.

`model_error` serves every agent that talks to the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role
from ..core.errors import AgentError, NonRetryableAgentError
from ..core.protocols import AgentContext, AgentHealth, LocalizedText
from ..core.text import clean_text
from ..model_client import NOT_CONFIGURED, open_model_client
from .base import BaseAgent

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

    from ..config import ModelSettings
    from .resources import AgentResources

HEALTH_TIMEOUT_S = 5.0


class LlmInput(BaseModel):
    """The prompt."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(
        min_length=1,
        max_length=100_000,
        description="What to ask the model (the user message).",
    )
    system: str | None = Field(
        default=None,
        max_length=20_000,
        description="Instructions that frame the answer (the system message), if any.",
    )


class LlmOutput(BaseModel):
    """The model's answer."""

    text: str = Field(description="The model's answer.")
    model: str = Field(description="The model that answered.")


def model_error(exc: openai.OpenAIError, settings: ModelSettings) -> AgentError:
    """Translate a client error into an agent error, retryable when waiting may help.

    The message names the model server and what to check; it never carries the key.
    """
    import openai

    host = settings.host
    model = settings.model
    if isinstance(exc, openai.APITimeoutError):
        return AgentError(f"the model server {host} did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return AgentError(f"cannot reach the model server {host}: {exc}")
    if isinstance(exc, openai.RateLimitError):
        if _error_code(exc) == "insufficient_quota":
            return NonRetryableAgentError(
                f"the model server {host} says the account's quota is used up; "
                "add credit or use another OPENAI_API_KEY"
            )
        return AgentError(f"the model server {host} is rate limiting requests")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return NonRetryableAgentError(
            f"the model server {host} refused the API key (HTTP {exc.status_code}); "
            "check OPENAI_API_KEY"
        )
    if isinstance(exc, openai.NotFoundError):
        return NonRetryableAgentError(
            f"the model server {host} does not know the model {model!r} (HTTP 404); "
            "check OPENAI_MODEL and OPENAI_BASE_URL"
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500 or status in (408, 409):
            return AgentError(f"the model server {host} failed (HTTP {status})")
        return NonRetryableAgentError(
            f"the model server {host} rejected the request (HTTP {status}): "
            f"{_error_message(exc)}"
        )
    if isinstance(exc, openai.LengthFinishReasonError):
        return NonRetryableAgentError(
            "the model's answer was cut off at its token limit; shorten the prompt"
        )
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return NonRetryableAgentError(
            "the model server's content filter stopped the answer"
        )
    return AgentError(f"the model call to {host} failed: {exc}")


def _error_body(exc: openai.APIStatusError) -> dict[str, object]:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}


def _error_code(exc: openai.APIStatusError) -> str | None:
    code = _error_body(exc).get("code")
    return code if isinstance(code, str) else None


def _error_message(exc: openai.APIStatusError) -> str:
    message = _error_body(exc).get("message")
    return message if isinstance(message, str) and message else str(exc)


class LlmAgent(BaseAgent[LlmInput, LlmOutput]):
    """Asks the configured model one question and returns its answer."""

    id = "llm_agent"
    name = "Language model"
    description = LocalizedText(
        fi=(
            "Lähettää yhden kehotteen määritetylle kielimallille (OpenAI tai "
            "yhteensopiva palvelin) ja palauttaa vastauksen tekstinä."
        ),
        en=(
            "Sends one prompt to the configured language model (OpenAI or a "
            "compatible server) and returns its answer as text."
        ),
    )
    input_model = LlmInput
    output_model = LlmOutput
    side_effects = False
    min_role = Role.OPERATOR

    def __init__(self, resources: AgentResources) -> None:
        self.settings = resources.model

    async def run(self, inputs: LlmInput, ctx: AgentContext) -> LlmOutput:
        """Send the prompt (after the system message, if any); return the answer.

        Raises:
            NonRetryableAgentError: No model is configured, the key or model is refused,
                or the model refused or gave no answer.
            AgentError: A timeout, lost connection, rate limit or server error.
        """
        import openai

        settings = self.settings
        if not settings.configured:
            raise NonRetryableAgentError(NOT_CONFIGURED)
        messages: list[ChatCompletionMessageParam] = []
        if inputs.system:
            messages.append({"role": "system", "content": inputs.system})
        messages.append({"role": "user", "content": inputs.prompt})
        async with open_model_client(settings) as client:
            try:
                response = await client.chat.completions.create(
                    model=settings.model, messages=messages
                )
            except openai.OpenAIError as exc:
                raise model_error(exc, settings) from exc
        if not response.choices:
            raise AgentError(f"the model server {settings.host} sent no answer")
        choice = response.choices[0]
        if choice.message.refusal:
            raise NonRetryableAgentError(
                f"the model refused to answer: {choice.message.refusal}"
            )
        if choice.finish_reason == "length":
            raise model_error(
                openai.LengthFinishReasonError(completion=response), settings
            )
        if choice.finish_reason == "content_filter":
            raise model_error(openai.ContentFilterFinishReasonError(), settings)
        if choice.message.content is None:
            raise NonRetryableAgentError("the model answered with no text")
        text = clean_text(choice.message.content)  # what the databases can hold
        usage = response.usage
        ctx.logger.info(
            "model %s answered with %d characters (%s prompt + %s completion tokens)",
            response.model or settings.model,
            len(text),
            usage.prompt_tokens if usage else "?",
            usage.completion_tokens if usage else "?",
        )
        return LlmOutput(text=text, model=response.model or settings.model)

    async def health(self) -> AgentHealth:
        """Ok when a key is configured and the model server accepts it.

        Asks the server's model list (``GET /models``, free, at most 5 s): a refused
        key, an unreachable server or a 5xx answer is reported; a server without that
        endpoint counts as reachable.
        """
        import openai

        settings = self.settings
        where = f"model {settings.model} at {settings.host}"
        if not settings.configured:
            return AgentHealth(
                ok=False,
                detail=f"{NOT_CONFIGURED} ({where})",
                checks={"configured": False},
            )
        async with open_model_client(settings, timeout_s=HEALTH_TIMEOUT_S) as client:
            try:
                await client.models.list()
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                return AgentHealth(
                    ok=False,
                    detail=str(model_error(exc, settings)),
                    checks={
                        "configured": True,
                        "reachable": True,
                        "key_accepted": False,
                    },
                )
            except openai.APIStatusError as exc:
                # Any other answer below 500 (a server without /models says 404)
                # shows the server is up and did not refuse the key.
                if exc.status_code >= 500:
                    return AgentHealth(
                        ok=False,
                        detail=f"{where}: {model_error(exc, settings)}",
                        checks={"configured": True, "reachable": True},
                    )
            except openai.APIError as exc:
                return AgentHealth(
                    ok=False,
                    detail=f"{where}: {model_error(exc, settings)}",
                    checks={"configured": True, "reachable": False},
                )
        return AgentHealth(
            ok=True,
            detail=where,
            checks={"configured": True, "reachable": True, "key_accepted": True},
        )
