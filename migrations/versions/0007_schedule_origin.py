"""Schedules keep what made them (``agent_schedules.origin``): for one the copilot made
from a command, the command and its plan, which each execution the schedule fires
carries in its metadata as an execution the copilot started directly does.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 23:30:00.000000
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite changes a table by copying it; PostgreSQL alters it.
    with op.batch_alter_table("agent_schedules") as batch:
        batch.add_column(
            sa.Column(
                "origin",
                sa.JSON().with_variant(
                    postgresql.JSONB(astext_type=sa.Text()), "postgresql"
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_schedules") as batch:
        batch.drop_column("origin")
