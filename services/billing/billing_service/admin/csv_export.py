"""The transactions CSV: streamed page by page from its own session (the request's session is
closed once the endpoint returns), at most MAX_ROWS rows."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from billing_service.invoices.models import Invoice
from billing_service.payments import repository as payments
from billing_service.payments.models import Payment
from webrana_common.db.session import Database
from webrana_common.pagination import encode_cursor

COLUMNS = (
    "created_at",
    "invoice_number",
    "invoice_kind",
    "user_id",
    "method",
    "channel",
    "reference",
    "status",
    "amount",
    "fee_customer",
    "fee_merchant",
    "total_amount",
    "paid_amount",
    "amount_received",
    "paid_at",
    "note",
)
PAGE = 1000
MAX_ROWS = 100_000


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    # A spreadsheet would run "=..." as a formula (CSV injection): make it text.
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return value if isinstance(value, int) else text


def _row(payment: Payment, invoice: Invoice) -> list[Any]:
    values = {
        "invoice_number": invoice.number,
        "invoice_kind": invoice.kind,
        "user_id": str(payment.user_id),
    }
    return [_cell(values[c] if c in values else getattr(payment, c)) for c in COLUMNS]


def _line(row: list[Any] | tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue()


async def stream(db: Database, filters: dict[str, Any]) -> AsyncIterator[str]:
    yield _line(COLUMNS)
    cursor: str | None = None
    sent = 0
    while sent < MAX_ROWS:
        async with db.session() as session:
            rows = await payments.transactions(session, filters, cursor=cursor, limit=PAGE)
        page = rows[:PAGE]
        for payment, invoice in page:
            yield _line(_row(payment, invoice))
        sent += len(page)
        if len(rows) <= PAGE:
            return
        last = page[-1][0]
        cursor = encode_cursor(last.created_at, last.id)
