"""The one way to open a client for the configured model (``OPENAI_*``), shared by the
agents and the planner.

**Who retries.** The client never does (``max_retries=0``). A failed call is retried
where the retry is visible and bounded:

- in a workflow step, by the engine: up to ``AGENT_MAX_RETRIES`` more attempts with
  exponential backoff and jitter, for the errors the agent marks retryable (timeouts,
  lost connections, rate limits, 5xx); each attempt is in the step's history;
- in the planner, by its repair loop (an unusable answer is sent back with its
  problems) and its fallback (the offline planner answers at once when the model
  fails), so that a person waiting for a plan does not sit through back-offs;
- in the categorizer, by its keyword rules, which answer when the model fails.

A second layer in the client would multiply the attempts (three engine retries of a
call the client tries three times are twelve requests), hide them from the step's
history, and spend the step's time limit on sleeps the engine does not know about.

**Time limits.** One call waits at most ``AGENT_TIMEOUT_MS`` (`ModelSettings.timeout_s`)
unless its use passes its own `timeout_s`: reading a page image takes longer
(`agents.vision`), a health check less, and the categorizer asks for half the step's
limit so that its rules can still answer in the same attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import ConfigurationError

if TYPE_CHECKING:
    import openai

    from .config import ModelSettings

__all__ = ["NOT_CONFIGURED", "open_model_client"]

NOT_CONFIGURED = (
    "no model is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
    "compatible server)"
)


def open_model_client(
    settings: ModelSettings, *, timeout_s: float | None = None
) -> openai.AsyncOpenAI:
    """A client for the configured model; use it as ``async with`` so it is closed.

    Args:
        settings: The model settings (`config.Settings.openai`).
        timeout_s: Seconds one call may take; default `ModelSettings.timeout_s`
            (``AGENT_TIMEOUT_MS``).

    Raises:
        ConfigurationError: No API key is configured (check
            `ModelSettings.configured` first).
    """
    if settings.api_key is None:
        raise ConfigurationError(NOT_CONFIGURED)
    # Imported here: the openai package takes a large part of a second to import,
    # and most commands never call a model.
    import openai

    return openai.AsyncOpenAI(
        api_key=settings.api_key.get_secret_value(),
        base_url=settings.url,
        timeout=settings.timeout_s if timeout_s is None else timeout_s,
        # The module docstring says why: the engine, the planner's repair loop and
        # the fallbacks retry where it is visible.
        max_retries=0,
    )
