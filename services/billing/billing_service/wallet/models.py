"""Wallets and their ledger.

The database keeps `wallets.balance` equal to the sum of the user's ledger (migration 0001):
inserting a ledger row adds its amount to the balance in a trigger and records the result in
`balance_after`; the ledger refuses UPDATE, DELETE and TRUNCATE; the balance refuses any change
that does not come from that trigger, and `CHECK (balance >= 0)` makes an over-debit fail even
if a caller forgot to lock."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from billing_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, utcnow


class LedgerKind(StrEnum):
    DEPOSIT = "deposit"  # + a paid top-up invoice (or a payment that found its invoice closed)
    ORDER_PAYMENT = "order_payment"  # - an order paid from the wallet
    REFUND = "refund"  # + an order refunded to the wallet
    PROMO_BONUS = "promo_bonus"  # + a deposit promo's bonus
    ADJUSTMENT = "adjustment"  # ± an admin's correction, with a reason
    DEPOSIT_REVERSAL = "deposit_reversal"  # - Tripay refunded a top-up to the payer


class Wallet(TimestampMixin, Base):
    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerEntry(UUIDPrimaryKey, Base):
    __tablename__ = "wallet_ledger"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint(
            "kind IN ('deposit', 'order_payment', 'refund', 'promo_bonus', 'adjustment', "
            "'deposit_reversal')",
            name="kind",
        ),
        Index("ix_wallet_ledger_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_wallet_ledger_order_id", "order_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallets.user_id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed: credits > 0, debits < 0
    # Set by the database trigger: the wallet's balance right after this entry.
    balance_after: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None]
    # One entry per key: a retried debit, a re-delivered callback finds the entry it made.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
