"""DataLoaders, made per request: many executions' steps in one query."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from strawberry.dataloader import DataLoader

from ..core.protocols import StepRecord


class StepSource(Protocol):
    """Where the steps of many executions come from (`service.Executions`)."""

    async def steps_of(
        self, tenant_id: str, execution_ids: Sequence[str]
    ) -> Mapping[str, list[StepRecord]]:
        """The steps of many executions of one tenant, in graph order."""
        ...


class Loaders:
    """The loaders of one request, bound to the caller's tenant."""

    def __init__(self, source: StepSource, tenant: Callable[[], str]) -> None:
        async def load_steps(ids: Sequence[str]) -> list[list[StepRecord]]:
            found = await source.steps_of(tenant(), ids)
            return [found.get(i, []) for i in ids]

        self.steps: DataLoader[str, list[StepRecord]] = DataLoader(load_fn=load_steps)
