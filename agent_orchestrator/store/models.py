"""SQLAlchemy models: the deployment guide's four tables plus what the engine needs.

Every tenant-owned row carries `tenant_id`, and the indexes that serve the API's
queries start with it. Times are stored in UTC (`core.ids.as_utc` normalises reads).
Columns marked with `RUN_STATE` are those the engine changes while an execution runs
(`store.batches` writes them; see `core.protocols.StepUpdate` and `ExecutionUpdate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    RowMapping,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON everywhere, JSONB on PostgreSQL.
JsonColumn = JSON().with_variant(JSONB(), "postgresql")
#: 64-bit ids that still autoincrement on SQLite (which wants INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)

ID_LENGTH = 36
TENANT_LENGTH = 64
#: Column ``info`` of the run-state columns (see the module docstring).
RUN_STATE = "run_state"

#: A stored row as the record helpers take it: a result mapping or a plain dict.
StoredRow: TypeAlias = RowMapping | Mapping[str, Any]


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkflowRow(Base):
    """A saved workflow (``agent_workflows``); its graph is the current version's."""

    __tablename__ = "agent_workflows"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (
        Index("ix_agent_workflows_tenant_name", "tenant_id", "name"),
        Index("ix_agent_workflows_tenant_updated", "tenant_id", "updated_at"),
    )


class WorkflowVersionRow(Base):
    """Every saved version of a workflow, kept readable after it is replaced."""

    __tablename__ = "agent_workflow_versions"

    workflow_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("agent_workflows.id", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (
        Index("ix_agent_workflow_versions_tenant", "tenant_id", "workflow_id"),
    )


class ExecutionRow(Base):
    """One run of a workflow (``agent_workflow_executions``)."""

    __tablename__ = "agent_workflow_executions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    workflow_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    workflow_version: Mapped[int | None] = mapped_column(Integer)
    template_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), info={RUN_STATE: True})
    graph: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    variables: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    result: Mapped[dict[str, Any] | None] = mapped_column(
        JsonColumn, info={RUN_STATE: True}
    )
    error_message: Mapped[str | None] = mapped_column(Text, info={RUN_STATE: True})
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    started_at: Mapped[dt.datetime | None] = mapped_column(
        Timestamp, info={RUN_STATE: True}
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(
        Timestamp, info={RUN_STATE: True}
    )
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, info={RUN_STATE: True})
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    execution_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JsonColumn)
    #: Resumes in a row after which no more steps had ended than at the one before,
    #: and how many steps had ended at the last resume (the engine's bound on an
    #: execution that cannot get further, e.g. one whose step's end cannot be stored).
    resumes: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", info={RUN_STATE: True}
    )
    resume_progress: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", info={RUN_STATE: True}
    )

    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_agent_workflow_executions_tenant_created", "tenant_id", "created_at"),
        Index("ix_agent_workflow_executions_tenant_status", "tenant_id", "status"),
        Index(
            "ix_agent_workflow_executions_tenant_template", "tenant_id", "template_id"
        ),
        Index("ix_agent_workflow_executions_claim", "status", "lease_expires_at"),
    )


class StepRunRow(Base):
    """The state of one step of one execution."""

    __tablename__ = "agent_step_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("agent_workflow_executions.id", ondelete="CASCADE"),
    )
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    step_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), info={RUN_STATE: True})
    attempts: Mapped[int] = mapped_column(Integer, default=0, info={RUN_STATE: True})
    started_at: Mapped[dt.datetime | None] = mapped_column(
        Timestamp, info={RUN_STATE: True}
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(
        Timestamp, info={RUN_STATE: True}
    )
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, info={RUN_STATE: True})
    output: Mapped[dict[str, Any] | None] = mapped_column(
        JsonColumn, info={RUN_STATE: True}
    )
    error: Mapped[str | None] = mapped_column(Text, info={RUN_STATE: True})

    __table_args__ = (
        UniqueConstraint("execution_id", "step_id"),
        Index(
            "ix_agent_step_runs_tenant_agent", "tenant_id", "agent_id", "completed_at"
        ),
    )


class ExecutionEventRow(Base):
    """An append-only execution event; `seq` is 1, 2, 3, ... per execution."""

    __tablename__ = "agent_execution_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("agent_workflow_executions.id", ondelete="CASCADE"),
    )
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    step_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(128))
    attempt: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    data: Mapped[dict[str, Any]] = mapped_column(JsonColumn)

    __table_args__ = (
        UniqueConstraint("execution_id", "seq"),
        Index("ix_agent_execution_events_tenant_at", "tenant_id", "at"),
    )


class ApprovalRow(Base):
    """An approval request of a waiting step and its decision (``agent_approvals``).

    The engine inserts it with the step's ``WAITING_APPROVAL``; a decision or the
    expiry changes `status` from ``PENDING`` once (a conditional update).
    """

    __tablename__ = "agent_approvals"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    execution_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("agent_workflow_executions.id", ondelete="CASCADE"),
    )
    step_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text)
    approver_role: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(16))
    notify: Mapped[list[str]] = mapped_column(JsonColumn)
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    comment: Mapped[str | None] = mapped_column(Text)
    #: When the approvers were told (e-mail); None: not yet (or nobody to tell).
    notified_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("execution_id", "step_id"),
        Index("ix_agent_approvals_tenant_status", "tenant_id", "status", "created_at"),
        Index("ix_agent_approvals_status_expires", "status", "expires_at"),
    )


class AuditLogRow(Base):
    """An insert-only audit record (``agent_audit_logs``); never holds a secret."""

    __tablename__ = "agent_audit_logs"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16), default="success")
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (
        Index("ix_agent_audit_logs_tenant_created", "tenant_id", "created_at"),
        Index("ix_agent_audit_logs_tenant_action", "tenant_id", "action"),
    )


class ApiKeyRow(Base):
    """An API key (``agent_api_keys``): only its SHA-256 and a display prefix are
    kept."""

    __tablename__ = "agent_api_keys"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        Index("ix_agent_api_keys_tenant_created", "tenant_id", "created_at"),
    )


class LedgerEntryRow(Base):
    """A booked document (``agent_ledger_entries``); `booking_key` books it once."""

    __tablename__ = "agent_ledger_entries"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    booking_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # A draft (held for review) may lack the date and total the parser could not read.
    entry_date: Mapped[dt.date | None] = mapped_column(Date)
    counterparty: Mapped[str] = mapped_column(String(200))
    business_id: Mapped[str | None] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    gross: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    vat_lines: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn)
    document_type: Mapped[str] = mapped_column(String(16))
    source_file: Mapped[str | None] = mapped_column(String(500))
    execution_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    details: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # `core.bookkeeping.EntryStatus`: only booked entries count in any figure.
    status: Mapped[str] = mapped_column(String(16), server_default="booked")
    warnings: Mapped[list[str] | None] = mapped_column(JsonColumn)
    step_id: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("tenant_id", "booking_key"),
        Index("ix_agent_ledger_entries_tenant_date", "tenant_id", "entry_date"),
        Index(
            "ix_agent_ledger_entries_tenant_status",
            "tenant_id",
            "status",
            "created_at",
        ),
    )


class ArtifactRow(Base):
    """A file an agent made (``agent_artifacts``), e.g. a PDF report."""

    __tablename__ = "agent_artifacts"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    key: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    execution_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (
        # NULL keys never clash (SQL treats NULLs as distinct), so keyless saves stay
        # independent while keyed ones are idempotent.
        UniqueConstraint("tenant_id", "key"),
        Index("ix_agent_artifacts_tenant_created", "tenant_id", "created_at"),
    )


class OutboxRow(Base):
    """A side effect already carried out (``agent_outbox``), by idempotency key."""

    __tablename__ = "agent_outbox"

    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


def table_of(model: type[Base]) -> Table:
    """The `Table` of a mapped class, typed as one (``__table__`` is a `FromClause`)."""
    return cast("Table", model.__table__)


def run_state_columns(table: Table) -> tuple[Column[Any], ...]:
    """The columns of `table` the engine changes as an execution runs (table order)."""
    return tuple(c for c in table.columns if c.info.get(RUN_STATE))


class ScheduleRow(Base):
    """A workflow fired on a cron expression (``agent_schedules``).

    `next_run_at` is the next slot to fire (UTC); the process that fires a slot moves it
    on with a conditional update, so that each slot is taken once however many
    processes look (the execution's idempotency key ``schedule:<id>:<slot>`` guards the
    same slot once more).
    """

    __tablename__ = "agent_schedules"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    template_id: Mapped[str | None] = mapped_column(String(64))
    workflow_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    graph: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    variables: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_execution_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: What made it: ``{"copilot": {...}}`` for a command the copilot planned.
    origin: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (
        Index("ix_agent_schedules_tenant_created", "tenant_id", "created_at"),
        Index("ix_agent_schedules_due", "enabled", "next_run_at"),
    )
