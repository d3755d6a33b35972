"""Bookkeeping tables: ledger entries, artifacts (reports) and the side-effect outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 18:08:20.352343
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_artifacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_artifacts")),
        sa.UniqueConstraint(
            "tenant_id", "key", name=op.f("uq_agent_artifacts_tenant_id_key")
        ),
    )
    with op.batch_alter_table("agent_artifacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_artifacts_tenant_created",
            ["tenant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "agent_ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("booking_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column("business_id", sa.String(length=16), nullable=True),
        sa.Column("account", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("gross", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column(
            "vat_lines",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("document_type", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_ledger_entries")),
        sa.UniqueConstraint(
            "tenant_id",
            "booking_key",
            name=op.f("uq_agent_ledger_entries_tenant_id_booking_key"),
        ),
    )
    with op.batch_alter_table("agent_ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_ledger_entries_tenant_date",
            ["tenant_id", "entry_date"],
            unique=False,
        )

    op.create_table(
        "agent_outbox",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_agent_outbox")),
    )


def downgrade() -> None:
    op.drop_table("agent_outbox")
    with op.batch_alter_table("agent_ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_ledger_entries_tenant_date")

    op.drop_table("agent_ledger_entries")
    with op.batch_alter_table("agent_artifacts", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_artifacts_tenant_created")

    op.drop_table("agent_artifacts")
