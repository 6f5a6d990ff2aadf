"""Tripay's merchant API as the billing service calls it, under `/api-sandbox/` and `/api/`:
every answer is the `{"success", "message", "data"}` envelope; errors carry `success: false`."""

from __future__ import annotations

import hmac
import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from devstack.sandbox.tripay_standin.channels import (
    BY_CODE,
    CHANNELS,
    channel_view,
    fee_calculation,
)
from devstack.sandbox.tripay_standin.instructions import instructions
from devstack.sandbox.tripay_standin.state import TripaySandbox
from devstack.sandbox.tripay_standin.transactions import Rejected

_FORM_KEY = re.compile(r"^(\w+)\[(\d+)\]\[(\w+)\]$")


def ok(data: Any, message: str = "Success", **extra: Any) -> JSONResponse:
    return JSONResponse({"success": True, "message": message, "data": data, **extra})


def fail(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status)


def _sandbox(request: Request) -> TripaySandbox:
    return request.app.state.sandbox


def _authorized(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = _sandbox(request).settings.api_key
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


async def _body(request: Request) -> dict[str, Any]:
    """JSON (zerosdev, go-tripay, httpx) or a PHP-style form with `order_items[0][sku]=...`."""
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            value = json.loads(raw or b"{}")
        except ValueError as exc:
            raise Rejected("Invalid JSON body") from exc
        if not isinstance(value, dict):
            raise Rejected("Invalid JSON body")
        return value
    body: dict[str, Any] = {}
    items: dict[int, dict[str, str]] = {}
    for key, value in parse_qsl(raw.decode(), keep_blank_values=True):
        match = _FORM_KEY.match(key)
        if match and match.group(1) == "order_items":
            items.setdefault(int(match.group(2)), {})[match.group(3)] = value
        else:
            body[key] = value
    if items:
        body["order_items"] = [items[i] for i in sorted(items)]
    return body


def _amount(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise Rejected("The amount must be an integer.")
    return int(raw)


def tripay_router() -> APIRouter:
    router = APIRouter()

    @router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    async def dispatch(path: str, request: Request) -> Response:
        if _sandbox(request).settings.outage:
            return HTMLResponse(
                "<html><body>503 Service Temporarily Unavailable</body></html>", 503
            )
        if not _authorized(request):
            return fail("Invalid API Key", 401)
        handler = ROUTES.get((request.method, path.strip("/")))
        if handler is None:
            return fail("Not found", 404)
        try:
            return await handler(request)
        except Rejected as exc:
            return fail(exc.message, exc.status)

    return router


async def payment_channels(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    code = request.query_params.get("code")
    channels = [c for c in CHANNELS if not code or c.code == code]
    if code and not channels:
        return fail("Payment channel not found", 404)
    customer_pays = sandbox.settings.customer_pays_fee
    base = sandbox.settings.public_url.rstrip("/")
    return ok([channel_view(c, customer_pays=customer_pays, icon_base=base) for c in channels])


async def fee_calculator(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    amount = _amount(request.query_params.get("amount"))
    if amount is None:
        raise Rejected("The amount field is required.")
    code = request.query_params.get("code")
    channels = [c for c in CHANNELS if not code or c.code == code]
    if code and not channels:
        return fail("Payment channel not found", 404)
    customer_pays = sandbox.settings.customer_pays_fee
    return ok([fee_calculation(c, amount, customer_pays=customer_pays) for c in channels])


async def payment_instruction(request: Request) -> JSONResponse:
    params = request.query_params
    channel = BY_CODE.get(params.get("code", ""))
    if channel is None:
        return fail("Payment channel not found", 404)
    return ok(
        instructions(
            channel,
            pay_code=params.get("pay_code") or None,
            amount=_amount(params.get("amount")),
            allow_html=params.get("allow_html", "1") != "0",
        )
    )


async def create_transaction(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    transaction = sandbox.store.create(await _body(request))
    sandbox.record(transaction, "created")
    return ok(transaction.view())


async def transaction_detail(request: Request) -> JSONResponse:
    transaction = _sandbox(request).store.by_reference.get(
        request.query_params.get("reference", "")
    )
    if transaction is None:
        return fail("Transaction not found", 404)
    return ok(transaction.detail_view())


async def check_status(request: Request) -> JSONResponse:
    transaction = _sandbox(request).store.by_reference.get(
        request.query_params.get("reference", "")
    )
    if transaction is None:
        return fail("Transaction not found", 404)
    return JSONResponse(
        {"success": True, "message": f"Status transaksi saat ini {transaction.status}"}
    )


async def merchant_transactions(request: Request) -> JSONResponse:
    params = request.query_params
    page = max(1, _amount(params.get("page")) or 1)
    per_page = min(50, max(1, _amount(params.get("per_page")) or 50))
    sort = params.get("sort", "desc")
    rows = _sandbox(request).store.search(dict(params), sort)
    last_page = max(1, math.ceil(len(rows) / per_page))
    chunk = rows[(page - 1) * per_page : page * per_page]
    start = (page - 1) * per_page + 1 if chunk else 0
    pagination = {
        "sort": sort,
        "offset": {"from": start, "to": start + len(chunk) - 1 if chunk else 0},
        "current_page": page,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < last_page else None,
        "last_page": last_page,
        "per_page": per_page,
        "total_records": len(rows),
    }
    return ok([t.list_view() for t in chunk], pagination=pagination)


ROUTES = {
    ("GET", "merchant/payment-channel"): payment_channels,
    ("GET", "merchant/fee-calculator"): fee_calculator,
    ("GET", "payment/instruction"): payment_instruction,
    ("POST", "transaction/create"): create_transaction,
    ("GET", "transaction/detail"): transaction_detail,
    ("GET", "transaction/check-status"): check_status,
    ("GET", "merchant/transactions"): merchant_transactions,
}
