"""Executions count their resumes: the engine's bound on an execution that cannot get
further (resumes in a row without a step ending, and the steps ended at the last one).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_workflow_executions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resumes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "resume_progress", sa.Integer(), server_default="0", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_workflow_executions", schema=None) as batch_op:
        batch_op.drop_column("resume_progress")
        batch_op.drop_column("resumes")
