"""Schedules: a template, saved workflow or graph fired on a cron expression in a time
zone (``agent_schedules``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00.000000
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agent_schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("workflow_id", sa.String(length=36), nullable=True),
        sa.Column("graph", _json(), nullable=True),
        sa.Column("variables", _json(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_execution_id", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_schedules")),
    )
    op.create_index(
        "ix_agent_schedules_tenant_created",
        "agent_schedules",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_agent_schedules_due",
        "agent_schedules",
        ["enabled", "next_run_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_agent_schedules_due", table_name="agent_schedules")
    op.drop_index("ix_agent_schedules_tenant_created", table_name="agent_schedules")
    op.drop_table("agent_schedules")
