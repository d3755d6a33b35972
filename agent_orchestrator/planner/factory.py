"""Which planner a process uses: the OpenAI planner (with the offline planner behind
it) when an API key is configured, else the offline planner alone."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from .offline import OfflinePlanner
from .openai_planner import OpenAIPlanner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from ..config import ModelSettings
    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate
    from .model import Planner

__all__ = ["create_planner", "open_planner"]


def create_planner(
    catalogue: AgentCatalogue,
    templates: Mapping[str, WorkflowTemplate],
    *,
    model: ModelSettings,
    max_retries: int,
    fallback: bool = True,
) -> Planner:
    """The planner for these settings.

    Args:
        catalogue: The registered agents.
        templates: The shipped templates by id.
        model: The model settings (`config.Settings.openai`); without an
            ``OPENAI_API_KEY`` the offline planner plans.
        max_retries: ``AGENT_MAX_RETRIES``: repair rounds with the model.
        fallback: ``AGENT_PLANNER_FALLBACK``: whether the offline planner answers
            when the model fails.

    Returns:
        An `OpenAIPlanner` (with an `OfflinePlanner` as its fallback unless
        `fallback` is false) or an `OfflinePlanner`. `open_planner` also closes what
        they hold.
    """
    if not model.configured:
        return OfflinePlanner(templates, catalogue)
    return OpenAIPlanner(
        catalogue,
        templates,
        model=model,
        max_retries=max_retries,
        fallback=OfflinePlanner(templates, catalogue) if fallback else None,
    )


@asynccontextmanager
async def open_planner(
    catalogue: AgentCatalogue,
    templates: Mapping[str, WorkflowTemplate],
    *,
    model: ModelSettings,
    max_retries: int,
    fallback: bool = True,
) -> AsyncIterator[Planner]:
    """`create_planner`'s planner for the block's lifetime: the OpenAI planner keeps
    one HTTP client, and the HTTP client and the Voikko handle are closed at the end."""
    planner = create_planner(
        catalogue, templates, model=model, max_retries=max_retries, fallback=fallback
    )
    async with AsyncExitStack() as stack:
        offline: Planner | None = planner
        if isinstance(planner, OpenAIPlanner):
            await stack.enter_async_context(planner)
            offline = planner.fallback
        if isinstance(offline, OfflinePlanner):
            stack.callback(offline.close)
        yield planner
