"""DataLoaders, made per request: many executions' steps in one query."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strawberry.dataloader import DataLoader

from ..core.protocols import StepRecord
from ..store.executions import ExecutionQueries


class Loaders:
    """The loaders of one request, bound to the caller's tenant."""

    def __init__(self, executions: ExecutionQueries, tenant: Callable[[], str]) -> None:
        async def load_steps(ids: Sequence[str]) -> list[list[StepRecord]]:
            found = await executions.steps_of(tenant(), ids)
            return [found.get(i, []) for i in ids]

        self.steps: DataLoader[str, list[StepRecord]] = DataLoader(load_fn=load_steps)
