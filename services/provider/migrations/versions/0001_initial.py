"""provision_requests: one row per idempotency key (order id)

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provision_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("lookup_tag", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=64), nullable=False),
        sa.Column("image", sa.String(length=128), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_instance_id", sa.String(length=64), nullable=True),
        sa.Column("create_action_id", sa.String(length=64), nullable=True),
        sa.Column("recovered_by_tag", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("last_error_detail", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "state IN ('creating', 'created', 'failed')", name=op.f("ck_provision_requests_state")
        ),
        sa.CheckConstraint(
            "provider IN ('digitalocean', 'vultr', 'linode')",
            name=op.f("ck_provision_requests_provider"),
        ),
        sa.CheckConstraint(
            "state <> 'created' OR provider_instance_id IS NOT NULL",
            name=op.f("ck_provision_requests_created_has_instance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_requests")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_provision_requests_idempotency_key")),
    )


def downgrade() -> None:
    op.drop_table("provision_requests")
