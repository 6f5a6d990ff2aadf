"""The stand-in's state: settings, transactions, callback deliveries, and the status changes
that the control API (and the expiry sweep) make, each followed by a signed callback."""

from __future__ import annotations

import time
from typing import Any

import httpx

from devstack.sandbox.tripay_standin.callbacks import CallbackSender, Delivery
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings
from devstack.sandbox.tripay_standin.transactions import Rejected, Transaction, TransactionStore

# Which status a control action may change a transaction from.
ALLOWED_FROM = {
    "PAID": {"UNPAID"},
    "EXPIRED": {"UNPAID"},
    "FAILED": {"UNPAID"},
    "REFUND": {"PAID"},
}


class TripaySandbox:
    def __init__(
        self,
        settings: TripaySandboxSettings,
        callback_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.initial = settings.model_copy()
        self.settings = settings
        self.store = TransactionStore(settings)
        self.sender = CallbackSender(settings, callback_transport)

    def reset(self) -> None:
        for name, value in self.initial.model_dump().items():
            setattr(self.settings, name, value)
        self.store.reset()
        self.sender.reset()

    def record(self, transaction: Transaction, event: str, **details: Any) -> None:
        transaction.history.append({"at": time.time(), "event": event, **details})

    def change_status(
        self,
        ref: str,
        status: str,
        *,
        total_amount: int | None = None,
        forge_signature: bool = False,
        miss_callback: bool = False,
        note: str | None = None,
    ) -> tuple[Transaction, Delivery]:
        transaction = self.store.find(ref)
        if transaction is None:
            raise Rejected(f"No transaction with reference or merchant_ref {ref}", 404)
        if transaction.status not in ALLOWED_FROM[status]:
            raise Rejected(f"Transaction {transaction.reference} is {transaction.status}", 409)
        transaction.status = status
        if status == "PAID":
            transaction.paid_at = int(time.time())
        if note is not None:
            transaction.note = note
        self.record(
            transaction,
            status.lower(),
            total_amount=total_amount,
            forge_signature=forge_signature,
            miss_callback=miss_callback,
        )
        delivery = self.sender.send(
            transaction,
            total_amount=total_amount,
            forge_signature=forge_signature,
            miss=miss_callback,
        )
        return transaction, delivery

    def sweep_expired(self) -> int:
        """Expire overdue UNPAID transactions with a callback each, as Tripay does."""
        expired = self.store.expire_overdue()
        for transaction in expired:
            self.record(transaction, "expired", by="sweep")
            self.sender.send(transaction)
        return len(expired)
