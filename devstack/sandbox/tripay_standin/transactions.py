"""Closed-payment transactions: creation checked as Tripay checks it, and the views of them that
`transaction/create`, `transaction/detail` and `merchant/transactions` answer with."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any

from devstack.sandbox.tripay_standin.channels import (
    BY_CODE,
    PHONE_REQUIRED,
    STORE,
    VA,
    Channel,
    fees,
)
from devstack.sandbox.tripay_standin.instructions import instructions
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings

REQUIRED = ("method", "merchant_ref", "amount", "customer_name", "customer_email", "signature")
FINAL = frozenset({"PAID", "EXPIRED", "FAILED", "REFUND"})
# Bank prefixes of the VA numbers (only their look matters).
VA_PREFIX = {"BRIVA": "26215", "BNIVA": "8808", "MANDIRIVA": "89022", "BCAVA": "11173"}


class Rejected(Exception):
    """What Tripay answers `{"success": false, "message": ...}` with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def sign(private_key: str, message: str | bytes) -> str:
    raw = message.encode() if isinstance(message, str) else message
    return hmac.new(private_key.encode(), raw, hashlib.sha256).hexdigest()


@dataclass
class Transaction:
    reference: str
    merchant_ref: str
    channel: Channel
    amount: int  # what the customer pays: the requested amount plus fee_customer
    fee_merchant: int
    fee_customer: int
    customer_name: str
    customer_email: str
    customer_phone: str | None
    callback_url: str | None
    return_url: str | None
    order_items: list[dict[str, Any]]
    expired_time: int
    created_at: int
    pay_code: str | None
    pay_url: str | None
    checkout_url: str
    qr_string: str | None
    qr_url: str | None
    status: str = "UNPAID"
    paid_at: int | None = None
    note: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_fee(self) -> int:
        return self.fee_merchant + self.fee_customer

    @property
    def amount_received(self) -> int:
        return self.amount - self.total_fee

    def view(self) -> dict[str, Any]:
        """The `data` of transaction/create and transaction/detail."""
        return {
            "reference": self.reference,
            "merchant_ref": self.merchant_ref,
            "payment_selection_type": "static",
            "payment_method": self.channel.code,
            "payment_name": self.channel.name,
            "customer_name": self.customer_name,
            "customer_email": self.customer_email,
            "customer_phone": self.customer_phone,
            "callback_url": self.callback_url,
            "return_url": self.return_url,
            "amount": self.amount,
            "fee_merchant": self.fee_merchant,
            "fee_customer": self.fee_customer,
            "total_fee": self.total_fee,
            "amount_received": self.amount_received,
            "pay_code": self.pay_code,
            "pay_url": self.pay_url,
            "checkout_url": self.checkout_url,
            "status": self.status,
            "expired_time": self.expired_time,
            "order_items": self.order_items,
            "instructions": instructions(self.channel, pay_code=self.pay_code, amount=self.amount),
            "qr_string": self.qr_string,
            "qr_url": self.qr_url,
        }

    def detail_view(self) -> dict[str, Any]:
        # Tripay's detail example carries paid_at as a *string* of unix seconds.
        return {**self.view(), "paid_at": str(self.paid_at) if self.paid_at else None}

    def list_view(self) -> dict[str, Any]:
        view = self.view()
        # In merchant/transactions a numeric pay_code comes back as a JSON number.
        if self.pay_code and self.pay_code.isdigit():
            view["pay_code"] = int(self.pay_code)
        view |= {
            "note": self.note,
            "created_at": self.created_at,
            "expired_at": self.expired_time,
            "paid_at": self.paid_at,
        }
        return view


def _digits(n: int) -> str:
    return "".join(random.choices(string.digits, k=n))


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise Rejected(f"The {name} must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        return int(value)
    raise Rejected(f"The {name} must be an integer.")


def _items(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Rejected("The order items field is required.")
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            raise Rejected(f"The order_items.{index}.name field is required.")
        price = _int(item.get("price"), f"order_items.{index}.price")
        quantity = _int(item.get("quantity"), f"order_items.{index}.quantity")
        if price < 0 or quantity < 1:
            raise Rejected(f"The order_items.{index} price or quantity is invalid.")
        items.append(
            {
                "sku": item.get("sku"),
                "name": str(item["name"]),
                "price": price,
                "quantity": quantity,
                "subtotal": price * quantity,
                "product_url": item.get("product_url"),
                "image_url": item.get("image_url"),
            }
        )
    return items


class TransactionStore:
    def __init__(self, settings: TripaySandboxSettings) -> None:
        self.settings = settings
        self.by_reference: dict[str, Transaction] = {}

    def reset(self) -> None:
        self.by_reference.clear()

    def create(self, body: dict[str, Any]) -> Transaction:
        for name in REQUIRED:
            if body.get(name) in (None, ""):
                raise Rejected(f"The {name.replace('_', ' ')} field is required.")
        channel = BY_CODE.get(str(body["method"]))
        if channel is None or not channel.active:
            raise Rejected("Payment channel is not enabled or does not exist")
        merchant_ref = str(body["merchant_ref"])
        amount = _int(body["amount"], "amount")
        expected = sign(
            self.settings.private_key, f"{self.settings.merchant_code}{merchant_ref}{amount}"
        )
        if not hmac.compare_digest(expected, str(body["signature"])):
            raise Rejected("Invalid signature")
        items = _items(body.get("order_items"))
        if sum(item["subtotal"] for item in items) != amount:
            raise Rejected("Total price of order items does not match the amount")
        if not channel.minimum_amount <= amount <= channel.maximum_amount:
            raise Rejected(
                f"Amount for {channel.code} must be between {channel.minimum_amount} and "
                f"{channel.maximum_amount}"
            )
        phone = body.get("customer_phone") or None
        if channel.code in PHONE_REQUIRED and not phone:
            raise Rejected("The customer phone field is required for this payment method.")
        now = int(time.time())
        expired_time = _int(body.get("expired_time") or now + 86_400, "expired time")
        low, high = channel.expiry_minutes
        # A few seconds of slack: the request took a moment to arrive.
        if not now + low * 60 - 30 <= expired_time <= now + high * 60 + 30:
            raise Rejected(f"Expired time for {channel.code} must be {low} - {high} minutes ahead")
        split = fees(channel, amount, customer_pays=self.settings.customer_pays_fee)
        reference = self._new_reference()
        base = self.settings.public_url.rstrip("/")
        transaction = Transaction(
            reference=reference,
            merchant_ref=merchant_ref,
            channel=channel,
            amount=amount + split.customer,
            fee_merchant=split.merchant,
            fee_customer=split.customer,
            customer_name=str(body["customer_name"]),
            customer_email=str(body["customer_email"]),
            customer_phone=phone,
            callback_url=body.get("callback_url") or None,
            return_url=body.get("return_url") or None,
            order_items=items,
            expired_time=expired_time,
            created_at=now,
            pay_code=self._pay_code(channel),
            pay_url=f"{base}/checkout/{reference}?app=1" if channel.type == "redirect" else None,
            checkout_url=f"{base}/checkout/{reference}",
            qr_string=self._qr_string(reference, amount) if channel.is_qris else None,
            qr_url=f"{base}/qr/{reference}" if channel.is_qris else None,
        )
        self.by_reference[reference] = transaction
        return transaction

    def _new_reference(self) -> str:
        suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=5))
        return f"DEV-{self.settings.merchant_code}{_digits(10)}{suffix}"

    @staticmethod
    def _pay_code(channel: Channel) -> str | None:
        if channel.group == VA:
            return VA_PREFIX.get(channel.code, "8" + _digits(4)) + _digits(11)
        if channel.group == STORE:
            return "T" + _digits(12)
        return None

    @staticmethod
    def _qr_string(reference: str, amount: int) -> str:
        # EMVCo-shaped payload; nothing scans it.
        body = f"00020101021226610016ID.CO.SHOPEE.WWW01189360091800000000000215{reference[:15]}"
        return f"{body}5204481253033605405{amount}5802ID5907WEBRANA6007JAKARTA6304ABCD"

    def find(self, ref: str) -> Transaction | None:
        """By reference, else by merchant_ref: its newest UNPAID transaction (the one the
        customer holds), else its newest."""
        found = self.by_reference.get(ref)
        if found is not None:
            return found
        mine = sorted(
            (t for t in self.by_reference.values() if t.merchant_ref == ref),
            key=lambda t: (t.created_at, t.reference),
        )
        unpaid = [t for t in mine if t.status == "UNPAID"]
        return (unpaid or mine or [None])[-1]

    def expire_overdue(self, now: int | None = None) -> list[Transaction]:
        now = int(time.time()) if now is None else now
        overdue = [
            t for t in self.by_reference.values() if t.status == "UNPAID" and t.expired_time <= now
        ]
        for transaction in overdue:
            transaction.status = "EXPIRED"
        return overdue

    def search(self, filters: dict[str, str], sort: str) -> list[Transaction]:
        rows = [
            t
            for t in self.by_reference.values()
            if all(
                (filters.get(k) in (None, "")) or str(v) == filters[k]
                for k, v in (
                    ("reference", t.reference),
                    ("merchant_ref", t.merchant_ref),
                    ("method", t.channel.code),
                    ("status", t.status),
                )
            )
        ]
        rows.sort(key=lambda t: (t.created_at, t.reference), reverse=sort != "asc")
        return rows
