"""What the use cases need from persistence, as Protocols (the store implements them;
`app.py` wires the concrete classes in)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .access import AuditWriter

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Collection, Mapping, Sequence
    from typing import Any

    from ..core.auth import ApiKeyRecord
    from ..core.bookkeeping import Draft, DraftChange
    from ..core.enums import ExecutionStatus
    from ..core.protocols import ExecutionEvent, ExecutionRecord, StepRecord
    from ..core.records import (
        AuditEntry,
        AuditRecord,
        MetricsSeries,
        MetricsSnapshot,
        Page,
        WorkflowRecord,
    )
    from ..core.windows import SeriesWindow


class ExecutionReader(Protocol):
    """Executions one at a time, and their events."""

    async def load_execution(
        self, execution_id: str, tenant_id: str | None = None, *, with_seq: bool = True
    ) -> ExecutionRecord:
        """The execution with its steps (NotFound if absent or another tenant's)."""
        ...

    async def exists(self, execution_id: str, tenant_id: str) -> bool:
        """Whether the tenant has this execution."""
        ...

    async def events_after(
        self, execution_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[ExecutionEvent]:
        """Stored events with `seq` greater than `after_seq`, in order."""
        ...


class ExecutionLister(Protocol):
    """Executions many at a time, always within one tenant."""

    async def page(
        self,
        tenant_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        template_id: str | None = None,
        workflow_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[ExecutionRecord]:
        """Executions newest first, without their steps."""
        ...

    async def steps_of(
        self, tenant_id: str, execution_ids: Sequence[str]
    ) -> Mapping[str, list[StepRecord]]:
        """The steps of many executions in one query, in graph order."""
        ...

    async def count_by_status(self, tenant_id: str | None = None) -> dict[str, int]:
        """How many executions are in each status (all tenants when None)."""
        ...


class WorkflowRepository(Protocol):
    """Saved workflows with their versions."""

    async def save(
        self,
        *,
        tenant_id: str,
        name: str,
        description: str,
        graph: Mapping[str, Any],
        created_by: str | None,
        workflow_id: str | None = None,
        audit: AuditEntry | None = None,
    ) -> WorkflowRecord:
        """Save a new workflow or a new version of `workflow_id`, with `audit`."""
        ...

    async def get(
        self, workflow_id: str, tenant_id: str, version: int | None = None
    ) -> WorkflowRecord:
        """The workflow at `version` (NotFound for another tenant's)."""
        ...

    async def versions(self, workflow_id: str, tenant_id: str) -> list[WorkflowRecord]:
        """Every version of a workflow, oldest first (NotFound for another
        tenant's)."""
        ...

    async def page(
        self, tenant_id: str, *, first: int = 20, after: str | None = None
    ) -> Page[WorkflowRecord]:
        """Active workflows, most recently changed first."""
        ...

    async def delete(
        self, workflow_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> None:
        """Delete a workflow, with `audit` in the same transaction."""
        ...


class AuditRepository(AuditWriter, Protocol):
    """The audit trail: written by every use case, read by admins."""

    async def list(
        self,
        tenant_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[AuditRecord]:
        """A tenant's records, newest first, filtered."""
        ...


class ApiKeyRecords(Protocol):
    """Stored API keys, beyond what authentication needs."""

    async def get(self, key_id: str, tenant_id: str | None = None) -> ApiKeyRecord:
        """The key with this id (NotFound for another tenant's)."""
        ...

    async def list(self, tenant_id: str) -> list[ApiKeyRecord]:
        """A tenant's keys, newest first."""
        ...

    async def usable_ids(self, key_ids: Collection[str]) -> set[str]:
        """Which of `key_ids` are neither revoked nor expired now (one query)."""
        ...

    async def revoke(
        self, key_id: str, tenant_id: str | None = None, audit: AuditEntry | None = None
    ) -> ApiKeyRecord:
        """Revoke a key now, with `audit` in the same transaction."""
        ...


class MetricsSource(Protocol):
    """Metrics snapshots, computed or shared between callers of one interval."""

    @property
    def interval_s(self) -> float:
        """How long a shared snapshot is reused."""
        ...

    async def snapshot(
        self, tenant_id: str, hours_back: int, *, fresh: bool = False
    ) -> MetricsSnapshot:
        """The tenant's metrics, at most `interval_s` old unless `fresh`."""
        ...

    async def series(
        self, tenant_id: str, window: SeriesWindow, *, fresh: bool = False
    ) -> MetricsSeries:
        """The tenant's executions per interval of `window`, at most `interval_s`
        old unless `fresh`."""
        ...


class ReviewRepository(Protocol):
    """Documents held for review (drafts in the ledger)."""

    async def drafts(
        self, tenant_id: str, *, first: int = 20, after: str | None = None
    ) -> Page[Draft]:
        """The tenant's drafts, oldest first."""
        ...

    async def draft(self, entry_id: str, tenant_id: str) -> Draft:
        """One entry, draft or booked (NotFound for another tenant's)."""
        ...

    async def change_draft(
        self, entry_id: str, tenant_id: str, change: Callable[[Draft], DraftChange]
    ) -> Draft:
        """Apply `change`, decided on the entry as stored, in one transaction with
        its audit entry (NotFound for another tenant's)."""
        ...
