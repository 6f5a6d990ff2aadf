"""payments.reconciled_at: when reconciliation last found the transaction still open

Revision ID: 0002_payments_reconciled_at
Revises: 0001_initial
Create Date: 2026-11-24 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_payments_reconciled_at"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("reconciled_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("payments", "reconciled_at")
