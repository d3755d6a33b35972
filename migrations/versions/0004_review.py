"""Documents held for review: a status on ledger entries (``booked`` | ``draft``), the
parser's warnings, the step a draft came from, and the date and total left nullable
for drafts that lack them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_ledger_entries", schema=None) as batch_op:
        # Every entry stored before this revision was booked.
        batch_op.add_column(
            sa.Column(
                "status", sa.String(length=16), server_default="booked", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "warnings",
                sa.JSON().with_variant(
                    postgresql.JSONB(astext_type=sa.Text()), "postgresql"
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("step_id", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("entry_date", existing_type=sa.Date(), nullable=True)
        batch_op.alter_column(
            "gross", existing_type=sa.Numeric(precision=14, scale=2), nullable=True
        )
        batch_op.create_index(
            "ix_agent_ledger_entries_tenant_status",
            ["tenant_id", "status", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    # Drafts have no place in the older schema (and may lack a date or total).
    op.execute("DELETE FROM agent_ledger_entries WHERE status = 'draft'")
    with op.batch_alter_table("agent_ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_ledger_entries_tenant_status")
        batch_op.alter_column(
            "gross", existing_type=sa.Numeric(precision=14, scale=2), nullable=False
        )
        batch_op.alter_column("entry_date", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("updated_at")
        batch_op.drop_column("step_id")
        batch_op.drop_column("warnings")
        batch_op.drop_column("status")
