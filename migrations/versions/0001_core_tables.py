"""Core tables: the deployment guide's four, plus workflow versions, step runs and
execution events.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 14:29:04.861649
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_agent_api_keys_key_hash")),
    )
    with op.batch_alter_table("agent_api_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_api_keys_tenant_created",
            ["tenant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "agent_audit_logs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=True),
        sa.Column("resource_id", sa.String(length=128), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_audit_logs")),
    )
    with op.batch_alter_table("agent_audit_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_audit_logs_tenant_action", ["tenant_id", "action"], unique=False
        )
        batch_op.create_index(
            "ix_agent_audit_logs_tenant_created",
            ["tenant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "agent_workflow_executions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=True),
        sa.Column("workflow_version", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "graph",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "variables",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_workflow_executions")),
        sa.UniqueConstraint(
            "tenant_id",
            "idempotency_key",
            name=op.f("uq_agent_workflow_executions_tenant_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("agent_workflow_executions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_workflow_executions_claim",
            ["status", "lease_expires_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_agent_workflow_executions_tenant_created",
            ["tenant_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_agent_workflow_executions_tenant_status",
            ["tenant_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_agent_workflow_executions_tenant_template",
            ["tenant_id", "template_id"],
            unique=False,
        )

    op.create_table(
        "agent_workflows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_workflows")),
    )
    with op.batch_alter_table("agent_workflows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_workflows_tenant_name", ["tenant_id", "name"], unique=False
        )
        batch_op.create_index(
            "ix_agent_workflows_tenant_updated",
            ["tenant_id", "updated_at"],
            unique=False,
        )

    op.create_table(
        "agent_execution_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("agent_id", sa.String(length=128), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["agent_workflow_executions.id"],
            name=op.f(
                "fk_agent_execution_events_execution_id_agent_workflow_executions"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_execution_events")),
        sa.UniqueConstraint(
            "execution_id",
            "seq",
            name=op.f("uq_agent_execution_events_execution_id_seq"),
        ),
    )
    with op.batch_alter_table("agent_execution_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_execution_events_tenant_at", ["tenant_id", "at"], unique=False
        )

    op.create_table(
        "agent_step_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column(
            "output",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["agent_workflow_executions.id"],
            name=op.f("fk_agent_step_runs_execution_id_agent_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_step_runs")),
        sa.UniqueConstraint(
            "execution_id",
            "step_id",
            name=op.f("uq_agent_step_runs_execution_id_step_id"),
        ),
    )
    with op.batch_alter_table("agent_step_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_step_runs_tenant_agent",
            ["tenant_id", "agent_id", "completed_at"],
            unique=False,
        )

    op.create_table(
        "agent_workflow_versions",
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["agent_workflows.id"],
            name=op.f("fk_agent_workflow_versions_workflow_id_agent_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workflow_id", "version", name=op.f("pk_agent_workflow_versions")
        ),
    )
    with op.batch_alter_table("agent_workflow_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_workflow_versions_tenant",
            ["tenant_id", "workflow_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_workflow_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_workflow_versions_tenant")

    op.drop_table("agent_workflow_versions")
    with op.batch_alter_table("agent_step_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_step_runs_tenant_agent")

    op.drop_table("agent_step_runs")
    with op.batch_alter_table("agent_execution_events", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_execution_events_tenant_at")

    op.drop_table("agent_execution_events")
    with op.batch_alter_table("agent_workflows", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_workflows_tenant_updated")
        batch_op.drop_index("ix_agent_workflows_tenant_name")

    op.drop_table("agent_workflows")
    with op.batch_alter_table("agent_workflow_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_workflow_executions_tenant_template")
        batch_op.drop_index("ix_agent_workflow_executions_tenant_status")
        batch_op.drop_index("ix_agent_workflow_executions_tenant_created")
        batch_op.drop_index("ix_agent_workflow_executions_claim")

    op.drop_table("agent_workflow_executions")
    with op.batch_alter_table("agent_audit_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_audit_logs_tenant_created")
        batch_op.drop_index("ix_agent_audit_logs_tenant_action")

    op.drop_table("agent_audit_logs")
    with op.batch_alter_table("agent_api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_api_keys_tenant_created")

    op.drop_table("agent_api_keys")
