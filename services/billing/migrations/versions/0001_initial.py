"""invoices, payments, Tripay callbacks, wallets + ledger (with the triggers that keep the
balance equal to the ledger), promos, audit log, outbox

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _invoices() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("order_number", sa.String(length=40), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("promo_code", sa.String(length=40), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_via", sa.String(length=40), nullable=True),
        sa.Column("payment_method", sa.String(length=100), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag_reason", sa.String(length=500), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("amount > 0", name=op.f("ck_invoices_amount_positive")),
        sa.CheckConstraint("discount >= 0", name=op.f("ck_invoices_discount_not_negative")),
        sa.CheckConstraint("kind IN ('order', 'deposit')", name=op.f("ck_invoices_kind")),
        sa.CheckConstraint(
            "status IN ('PENDING', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED')",
            name=op.f("ck_invoices_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_invoices_idempotency_key")),
    )
    op.create_index(
        "ix_invoices_user_id_created_at_id", "invoices", ["user_id", "created_at", "id"]
    )
    op.create_index("ix_invoices_created_at_id", "invoices", ["created_at", "id"])
    op.create_index("ix_invoices_status_expires_at", "invoices", ["status", "expires_at"])
    op.create_index(
        "uq_invoices_order_id",
        "invoices",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'order' AND order_id IS NOT NULL"),
    )
    op.create_index(
        "ix_invoices_flagged_at",
        "invoices",
        ["flagged_at"],
        postgresql_where=sa.text("flagged_at IS NOT NULL"),
    )
    op.create_table(
        "invoice_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_events_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_events")),
    )
    op.create_index(
        "ix_invoice_events_invoice_id_created_at", "invoice_events", ["invoice_id", "created_at"]
    )


def _payments() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=True),
        sa.Column("channel_name", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_customer", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_merchant", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.Column("amount_received", sa.BigInteger(), nullable=True),
        sa.Column("pay_code", sa.String(length=100), nullable=True),
        sa.Column("pay_url", sa.String(length=1000), nullable=True),
        sa.Column("checkout_url", sa.String(length=1000), nullable=True),
        sa.Column("qr_string", sa.Text(), nullable=True),
        sa.Column("qr_url", sa.String(length=1000), nullable=True),
        sa.Column("instructions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "method IN ('tripay', 'wallet', 'manual')", name=op.f("ck_payments_method")
        ),
        sa.CheckConstraint(
            "status IN ('UNPAID', 'PAID', 'EXPIRED', 'FAILED', 'REFUNDED', 'ABANDONED')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payments_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    op.create_index("ix_payments_invoice_id_created_at", "payments", ["invoice_id", "created_at"])
    op.create_index("ix_payments_status_created_at", "payments", ["status", "created_at"])
    op.create_index("ix_payments_created_at_id", "payments", ["created_at", "id"])
    op.create_index("ix_payments_user_id", "payments", ["user_id"])
    op.create_table(
        "tripay_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("merchant_ref", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tripay_callbacks")),
    )
    op.create_index("ix_tripay_callbacks_reference", "tripay_callbacks", ["reference"])
    op.create_index(
        "ix_tripay_callbacks_invoice_id_received_at",
        "tripay_callbacks",
        ["invoice_id", "received_at"],
    )


# The balance is the ledger's sum, by construction: a ledger insert moves the balance (and
# records the result); nothing else may move it; the ledger is never rewritten.
WALLET_TRIGGERS = (
    """
CREATE FUNCTION wallet_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallets SET balance = balance + NEW.amount, updated_at = now()
     WHERE user_id = NEW.user_id
    RETURNING balance INTO NEW.balance_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no wallet for user %', NEW.user_id;
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER wallet_ledger_apply BEFORE INSERT ON wallet_ledger
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_apply()
""",
    """
CREATE FUNCTION wallet_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet_ledger is append-only';
END $$
""",
    """
CREATE TRIGGER wallet_ledger_append_only BEFORE UPDATE OR DELETE ON wallet_ledger
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only()
""",
    """
CREATE TRIGGER wallet_ledger_no_truncate BEFORE TRUNCATE ON wallet_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_ledger_append_only()
""",
    """
CREATE FUNCTION wallets_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.balance <> 0 THEN
        RAISE EXCEPTION 'a wallet starts at 0; credit it through wallet_ledger';
    END IF;
    -- Depth 1 is a statement on wallets itself; the ledger trigger's update runs at depth 2.
    IF TG_OP = 'UPDATE' AND NEW.balance IS DISTINCT FROM OLD.balance
       AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'wallet balances change only through wallet_ledger';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER wallets_balance_guard BEFORE INSERT OR UPDATE ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallets_balance_guard()
""",
)


def _wallets() -> None:
    op.create_table(
        "wallets",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        *_timestamps(),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_wallets_balance_not_negative")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wallets")),
    )
    op.create_table(
        "wallet_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_wallet_ledger_amount_not_zero")),
        sa.CheckConstraint(
            "kind IN ('deposit', 'order_payment', 'refund', 'promo_bonus', 'adjustment', "
            "'deposit_reversal')",
            name=op.f("ck_wallet_ledger_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["wallets.user_id"], name=op.f("fk_wallet_ledger_user_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_ledger")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_wallet_ledger_idempotency_key")),
    )
    op.create_index(
        "ix_wallet_ledger_user_id_created_at_id",
        "wallet_ledger",
        ["user_id", "created_at", "id"],
    )
    op.create_index("ix_wallet_ledger_order_id", "wallet_ledger", ["order_id"])
    # One statement per execute: asyncpg runs a single statement at a time.
    for statement in WALLET_TRIGGERS:
        op.execute(statement)


def _promos() -> None:
    op.create_table(
        "promos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("discount_type", sa.String(length=10), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("max_discount", sa.BigInteger(), nullable=True),
        sa.Column("applies_to_orders", sa.Boolean(), nullable=False),
        sa.Column("applies_to_deposits", sa.Boolean(), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_user", sa.Integer(), nullable=True),
        sa.Column("first_order_only", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uses_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "discount_type IN ('percent', 'fixed')", name=op.f("ck_promos_discount_type")
        ),
        sa.CheckConstraint("value > 0", name=op.f("ck_promos_value_positive")),
        sa.CheckConstraint(
            "discount_type <> 'percent' OR value <= 100", name=op.f("ck_promos_percent_at_most_100")
        ),
        sa.CheckConstraint("min_amount >= 0", name=op.f("ck_promos_min_amount_not_negative")),
        sa.CheckConstraint(
            "applies_to_orders OR applies_to_deposits", name=op.f("ck_promos_applies_somewhere")
        ),
        sa.CheckConstraint("uses_count >= 0", name=op.f("ck_promos_uses_not_negative")),
        sa.CheckConstraint(
            "max_uses IS NULL OR uses_count <= max_uses", name=op.f("ck_promos_uses_within_max")
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_promos_window"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promos")),
        sa.UniqueConstraint("code", name=op.f("uq_promos_code")),
    )
    op.create_table(
        "promo_redemptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("promo_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("kind IN ('order', 'deposit')", name=op.f("ck_promo_redemptions_kind")),
        sa.CheckConstraint(
            "status IN ('active', 'released')", name=op.f("ck_promo_redemptions_status")
        ),
        sa.ForeignKeyConstraint(
            ["promo_id"], ["promos.id"], name=op.f("fk_promo_redemptions_promo_id_promos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_redemptions")),
    )
    op.create_index(
        "ix_promo_redemptions_promo_id_user_id", "promo_redemptions", ["promo_id", "user_id"]
    )
    op.create_index("ix_promo_redemptions_user_id", "promo_redemptions", ["user_id"])
    op.create_index(
        "uq_promo_redemptions_active_order",
        "promo_redemptions",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active' AND order_id IS NOT NULL"),
    )
    op.create_index(
        "uq_promo_redemptions_active_invoice",
        "promo_redemptions",
        ["invoice_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active' AND invoice_id IS NOT NULL"),
    )


def _audit_and_outbox() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_created_at_id", "audit_log", ["created_at", "id"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_type", "subject_id"])
    # Exactly webrana_common.outbox.models.OutboxMessage.
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])


def upgrade() -> None:
    _invoices()
    _payments()
    _wallets()
    _promos()
    _audit_and_outbox()


def downgrade() -> None:
    op.drop_table("outbox_messages")
    op.drop_table("audit_log")
    op.drop_table("promo_redemptions")
    op.drop_table("promos")
    op.execute("DROP TRIGGER wallet_ledger_no_truncate ON wallet_ledger")
    op.drop_table("wallet_ledger")
    op.drop_table("wallets")
    for function in ("wallet_ledger_apply", "wallet_ledger_append_only", "wallets_balance_guard"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("tripay_callbacks")
    op.drop_table("payments")
    op.drop_table("invoice_events")
    op.drop_table("invoices")
