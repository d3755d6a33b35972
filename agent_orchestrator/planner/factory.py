"""Which planner a process uses: the OpenAI planner (with the offline planner behind
it) when an API key is configured, else the offline planner alone."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from .offline import OfflinePlanner
from .openai_planner import OpenAIPlanner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate
    from .model import Planner

__all__ = ["create_planner", "open_planner"]


def create_planner(
    catalogue: AgentCatalogue,
    templates: Mapping[str, WorkflowTemplate],
    *,
    openai_api_key: str | None,
    openai_base_url: str | None,
    openai_model: str,
    max_retries: int,
    timeout_ms: int,
    fallback: bool = True,
) -> Planner:
    """The planner for these settings.

    Args:
        catalogue: The registered agents.
        templates: The shipped templates by id.
        openai_api_key: ``OPENAI_API_KEY``; without it the offline planner plans.
        openai_base_url: ``OPENAI_BASE_URL`` (any OpenAI-compatible server).
        openai_model: ``OPENAI_MODEL``.
        max_retries: ``AGENT_MAX_RETRIES``: repair rounds with the model.
        timeout_ms: ``AGENT_TIMEOUT_MS``: the limit of each model call.
        fallback: ``AGENT_PLANNER_FALLBACK``: whether the offline planner answers
            when the model fails.

    Returns:
        An `OpenAIPlanner` (with an `OfflinePlanner` as its fallback unless
        `fallback` is false) or an `OfflinePlanner`. `open_planner` also closes what
        they hold.
    """
    if not openai_api_key:
        return OfflinePlanner(templates, catalogue)
    return OpenAIPlanner(
        catalogue,
        templates,
        api_key=openai_api_key,
        base_url=openai_base_url,
        model=openai_model,
        max_retries=max_retries,
        timeout_ms=timeout_ms,
        fallback=OfflinePlanner(templates, catalogue) if fallback else None,
    )


@asynccontextmanager
async def open_planner(
    catalogue: AgentCatalogue,
    templates: Mapping[str, WorkflowTemplate],
    *,
    openai_api_key: str | None,
    openai_base_url: str | None,
    openai_model: str,
    max_retries: int,
    timeout_ms: int,
    fallback: bool = True,
) -> AsyncIterator[Planner]:
    """`create_planner`'s planner for the block's lifetime: the OpenAI planner keeps
    one HTTP client, and the HTTP client and the Voikko handle are closed at the end."""
    planner = create_planner(
        catalogue,
        templates,
        openai_api_key=openai_api_key,
        openai_base_url=openai_base_url,
        openai_model=openai_model,
        max_retries=max_retries,
        timeout_ms=timeout_ms,
        fallback=fallback,
    )
    async with AsyncExitStack() as stack:
        offline: Planner | None = planner
        if isinstance(planner, OpenAIPlanner):
            await stack.enter_async_context(planner)
            offline = planner.fallback
        if isinstance(offline, OfflinePlanner):
            stack.callback(offline.close)
        yield planner
