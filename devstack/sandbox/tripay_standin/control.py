"""`/_sandbox`: play the customer and Tripay (pay, expire, fail, refund a transaction, each
followed by a signed callback; or a callback with a wrong amount, a forged signature, or none
at all), look at transactions and callback deliveries, change settings, reset. Plus the
`checkout_url` page a person can pay on."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from devstack.sandbox.tripay_standin.state import TripaySandbox
from devstack.sandbox.tripay_standin.transactions import Rejected

ACTIONS = {"pay": "PAID", "expire": "EXPIRED", "fail": "FAILED", "refund": "REFUND"}


def _sandbox(request: Request) -> TripaySandbox:
    return request.app.state.sandbox


async def _options(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw or "json" not in request.headers.get("content-type", ""):
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def _error(exc: Rejected) -> JSONResponse:
    return JSONResponse({"success": False, "message": exc.message}, status_code=exc.status)


def control_router() -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    @router.post(
        "/transactions/{ref}/{action}",
        summary="Pay, expire, fail or refund a transaction (by reference or merchant_ref)",
        description="JSON body, all optional: `amount` (the total_amount the callback reports, "
        "for a wrong-amount callback), `forge_signature` (sign with a wrong key), "
        "`miss_callback` (change the status but send no callback: reconciliation must find "
        "it), `note`. A form post (the checkout page) is redirected back to the page.",
    )
    async def act(ref: str, action: str, request: Request) -> Response:
        status = ACTIONS.get(action)
        if status is None:
            return JSONResponse({"success": False, "message": "unknown action"}, 404)
        options = await _options(request)
        try:
            transaction, delivery = _sandbox(request).change_status(
                ref,
                status,
                total_amount=options.get("amount"),
                forge_signature=bool(options.get("forge_signature")),
                miss_callback=bool(options.get("miss_callback")),
                note=options.get("note"),
            )
        except Rejected as exc:
            return _error(exc)
        if "form" in request.headers.get("content-type", ""):
            return RedirectResponse(f"/checkout/{transaction.reference}", status_code=303)
        return JSONResponse(
            {"transaction": transaction.list_view(), "callback": delivery.as_dict()}
        )

    @router.get("/transactions", summary="Every transaction, newest first")
    async def transactions(request: Request, merchant_ref: str | None = None) -> dict[str, Any]:
        rows = _sandbox(request).store.search({"merchant_ref": merchant_ref or ""}, "desc")
        return {"transactions": [{**t.list_view(), "history": t.history} for t in rows]}

    @router.get("/transactions/{ref}", summary="One transaction (reference or merchant_ref)")
    async def transaction(ref: str, request: Request) -> Response:
        found = _sandbox(request).store.find(ref)
        if found is None:
            return _error(Rejected(f"No transaction {ref}", 404))
        return JSONResponse({**found.list_view(), "history": found.history})

    @router.get("/callbacks", summary="Callback deliveries, oldest first, with every attempt")
    async def callbacks(request: Request, reference: str | None = None) -> dict[str, Any]:
        deliveries = _sandbox(request).sender.deliveries
        return {
            "callbacks": [
                d.as_dict() for d in deliveries if reference in (None, d.reference, d.merchant_ref)
            ]
        }

    @router.post("/callbacks/{delivery_id}/resend", summary="Send a callback again (a duplicate)")
    async def resend(delivery_id: int, request: Request) -> Response:
        sandbox = _sandbox(request)
        for delivery in sandbox.sender.deliveries:
            if delivery.id == delivery_id and delivery.url:
                sandbox.sender.resend(delivery)
                return JSONResponse(delivery.as_dict())
        return _error(Rejected(f"No callback {delivery_id} with a URL", 404))

    @router.get("/settings")
    async def get_settings(request: Request) -> dict[str, Any]:
        return _public(_sandbox(request))

    @router.patch("/settings", summary="Change settings (not the credentials)")
    async def patch_settings(request: Request) -> Response:
        sandbox = _sandbox(request)
        changes = await _options(request)
        refused = {"merchant_code", "api_key", "private_key"} & changes.keys()
        if refused:
            return JSONResponse({"detail": f"cannot change {sorted(refused)}"}, 422)
        try:
            for name, value in changes.items():
                if name in type(sandbox.settings).model_fields:
                    setattr(sandbox.settings, name, value)
        except ValidationError as exc:
            return JSONResponse({"detail": exc.errors(include_url=False)}, 422)
        return JSONResponse(_public(sandbox))

    @router.post("/reset", status_code=204, summary="Forget everything, restore the settings")
    async def reset(request: Request) -> Response:
        _sandbox(request).reset()
        return Response(status_code=204)

    return router


def _public(sandbox: TripaySandbox) -> dict[str, Any]:
    return sandbox.settings.model_dump(exclude={"api_key", "private_key"})


def checkout_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/checkout/{reference}")
    async def checkout(reference: str, request: Request) -> HTMLResponse:
        found = _sandbox(request).store.by_reference.get(reference)
        if found is None:
            return HTMLResponse("<h1>Transaksi tidak ditemukan</h1>", status_code=404)
        ref = html.escape(found.reference)
        code = html.escape(found.pay_code or found.qr_string or found.pay_url or "-")
        buttons = "".join(
            f'<form method="post" action="/_sandbox/transactions/{ref}/{action}">'
            f'<button type="submit">{label}</button></form>'
            for action, label in (("pay", "Bayar"), ("expire", "Kedaluwarsa"), ("fail", "Gagal"))
        )
        page = (
            f"<h1>Tripay sandbox checkout</h1><p>{html.escape(found.channel.name)}: "
            f"<code>{code}</code></p><p>Rp {found.amount:,} &mdash; {found.status}</p>{buttons}"
        )
        return HTMLResponse(page)

    @router.get("/qr/{reference}")
    async def qr(reference: str, request: Request) -> Response:
        found = _sandbox(request).store.by_reference.get(reference)
        if found is None or not found.qr_string:
            return Response(status_code=404)
        return Response(found.qr_string, media_type="text/plain")

    return router
