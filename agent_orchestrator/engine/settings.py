"""The engine's knobs and the retry arithmetic (SECURITY.md "Retries": start 1 s,
factor 2, cap 100x the start, a finite attempt limit, jitter)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..core.graph import RetryPolicy


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine runs steps.

    Attributes:
        max_retries: Retries after the first attempt (``AGENT_MAX_RETRIES``).
        timeout_ms: Time limit of one attempt (``AGENT_TIMEOUT_MS``).
        retry_initial_ms: Delay before the first retry.
        retry_factor: Each further retry waits this much longer.
        retry_max_ms: No retry waits longer than this.
        lease_s: How long a worker's claim on an execution lasts without renewal.
        max_concurrent_executions: Executions one runner drives at once; what is
            above it waits as PENDING and is claimed in turn.
        resume: Whether the runner claims unfinished executions nobody holds (new
            ones other processes stored, and those of processes that stopped).
        run_submitted: Whether executions submitted through this runner run here
            when it has room (False: an API-only process; they wait for a worker).
        tenant_max_concurrent: At most this many running executions per tenant
            across all processes (``AGENT_TENANT_MAX_CONCURRENT``; None: no cap).
        drain_s: On shutdown, how long running step attempts may take to end
            before they are cut off and their executions handed back.
        max_foreach_items: Elements one for-each may run
            (``AGENT_MAX_FOREACH_ITEMS``).
        max_step_runs: Step runs one execution may expand to, for-each elements
            and sub-workflow steps included (``AGENT_MAX_STEPS`` times
            ``AGENT_MAX_FOREACH_ITEMS``).
    """

    max_retries: int = 3
    timeout_ms: int = 30_000
    retry_initial_ms: int = 1_000
    retry_factor: float = 2.0
    retry_max_ms: int = 100_000
    lease_s: float = 10.0
    max_concurrent_executions: int = 100
    resume: bool = True
    run_submitted: bool = True
    tenant_max_concurrent: int | None = None
    drain_s: float = 8.0
    max_foreach_items: int = 1_000
    max_step_runs: int = 200_000


@dataclass(frozen=True, slots=True)
class Backoff:
    """The retry policy of one step, settings and step overrides combined."""

    max_retries: int
    initial_s: float
    factor: float
    max_s: float

    @classmethod
    def for_step(
        cls, override: RetryPolicy | None, settings: EngineSettings
    ) -> Backoff:
        """Settings, with whatever the step's `retry` sets taking precedence."""
        o = override or RetryPolicy()
        initial = (
            o.initial_delay_ms
            if o.initial_delay_ms is not None
            else settings.retry_initial_ms
        )
        ceiling = (
            o.max_delay_ms if o.max_delay_ms is not None else settings.retry_max_ms
        )
        return cls(
            max_retries=o.max_retries
            if o.max_retries is not None
            else settings.max_retries,
            initial_s=initial / 1000,
            factor=o.backoff if o.backoff is not None else settings.retry_factor,
            max_s=max(ceiling, initial) / 1000,
        )

    def ceiling(self, failures: int) -> float:
        """The longest wait after the `failures`-th failure (before jitter)."""
        return min(self.max_s, self.initial_s * self.factor ** max(failures - 1, 0))

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `failures`-th failure: "equal jitter", i.e. a
        uniform draw between half the ceiling and the ceiling, so that retries of many
        steps spread out but still grow exponentially."""
        top = self.ceiling(failures)
        return (rng or random).uniform(top / 2, top)
