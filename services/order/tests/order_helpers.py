"""Helpers shared by the order tests (imported by module name; see conftest.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from notification_service.contracts import SendNotification, validate_data
from webrana_common.testing.live_server import LiveServer
from webrana_common.testing.tokens import TokenIssuer as TokenIssuer  # re-exported for the tests

ORDER_KEY = "order-test-key"  # what the order service presents to catalog, provider, billing
BILLING_KEY = "billing-test-key"  # what billing presents to the order service
DO_TOKEN = "dop_v1_sandbox-token"
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk2ZcVn0kHq0m8fQ3pGk7J1r6y2Y1o3x8Lk0n5m4p2Q budi@laptop"
)


def problem(status: int, code: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@dataclass
class Call:
    path: str
    key: str | None
    api_key: str | None
    body: dict[str, Any]


@dataclass
class Fleet:
    """Contract-shaped stand-ins for billing, notification and instance (their routes as the
    order service's README states them), recording every call. Billing had no routes yet."""

    promos: dict[str, int] = field(default_factory=dict)  # code -> percent off
    balances: dict[str, int] = field(default_factory=dict)  # user id -> rupiah
    instance_up: bool = False
    invoices_up: bool = True
    calls: list[Call] = field(default_factory=list)
    # Notifications the real contract (notification_service/contracts.py) refused.
    refused: list[str] = field(default_factory=list)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by order id
    _debits: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.promos = {"HEMAT10": 10}
            self.balances.clear()
            self.instance_up = False
            self.invoices_up = True
            self.calls.clear()
            self.refused.clear()
            self.invoices.clear()
            self._debits.clear()

    def to(self, path: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == path]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [b for b in self.to("/internal/notifications/send") if b["event"] == event]

    def app(self) -> Starlette:
        async def record(request: Request) -> dict[str, Any]:
            body = await request.json()
            self.calls.append(
                Call(
                    request.url.path,
                    request.headers.get("idempotency-key"),
                    request.headers.get("x-api-key"),
                    body,
                )
            )
            return body

        async def accepted(request: Request) -> Response:
            await record(request)
            return JSONResponse({"accepted": True}, status_code=202)

        async def notify(request: Request) -> Response:

            body = await record(request)
            try:
                message = SendNotification.model_validate(body)
                validate_data(message.event, message.data)
                assert message.idempotency_key == request.headers.get("idempotency-key")
            except (ValidationError, AssertionError) as exc:
                self.refused.append(f"{body.get('event')}: {exc}")
                return problem(422, "validation_error", str(exc))
            return JSONResponse({"accepted": True}, status_code=202)

        async def create_invoice(request: Request) -> Response:
            body = await record(request)
            if not self.invoices_up:
                return problem(503, "service_unavailable", "billing is restarting")
            number = f"INV-20250115-{len(self.invoices) + 1:05d}"
            invoice = self.invoices.setdefault(
                body["order_id"],
                {"id": str(uuid.uuid4()), "number": number, "status": "PENDING", **body},
            )
            return JSONResponse(invoice, status_code=201)

        async def invoice_of(request: Request) -> Response:
            invoice = self.invoices.get(request.path_params["id"])
            if invoice is None:
                return problem(404, "invoice_not_found", "No invoice")
            return JSONResponse(invoice)

        async def redeem(request: Request) -> Response:
            body = await record(request)
            percent = self.promos.get(body["code"])
            if percent is None:
                return problem(422, "promo_unknown", "No such promo code")
            discount = body["amount"] * percent // 100
            return JSONResponse(
                {"code": body["code"], "discount": discount, "final": body["amount"] - discount}
            )

        async def debit(request: Request) -> Response:
            body = await record(request)
            key = request.headers["idempotency-key"]
            with self._lock:
                if key in self._debits:
                    return JSONResponse(self._debits[key])
                balance = self.balances.get(body["user_id"], 0)
                if balance < body["amount"]:
                    return problem(409, "insufficient_balance", "Saldo tidak cukup")
                self.balances[body["user_id"]] = balance - body["amount"]
                answer = {"balance": balance - body["amount"], "amount": body["amount"]}
                self._debits[key] = answer
            return JSONResponse(answer)

        async def instance(request: Request) -> Response:
            await record(request)
            if not self.instance_up:
                return problem(503, "service_unavailable", "instance service not deployed")
            return JSONResponse({"accepted": True}, status_code=201)

        return Starlette(
            routes=[
                Route("/internal/notifications/send", notify, methods=["POST"]),
                Route("/internal/invoices", create_invoice, methods=["POST"]),
                Route("/internal/orders/{id}/invoice", invoice_of, methods=["GET"]),
                Route("/internal/invoices/{id}/cancel", accepted, methods=["POST"]),
                Route("/internal/promos/redeem", redeem, methods=["POST"]),
                Route("/internal/promos/release", accepted, methods=["POST"]),
                Route("/internal/wallet/debit", debit, methods=["POST"]),
                Route("/internal/wallet/refund", accepted, methods=["POST"]),
                Route("/internal/instances", instance, methods=["POST"]),
            ]
        )


@dataclass
class Cloud:
    """The DigitalOcean stand-in's `/_sandbox` control API."""

    url: str
    control: httpx.Client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.control.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def configure(self, **settings: Any) -> None:
        self.call("PATCH", "/settings", json=settings)

    def fault(self, **fault: Any) -> None:
        self.call("POST", "/faults", json=fault)

    def servers(self) -> list[dict[str, Any]]:
        return self.call("GET", "/servers")["servers"]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def order_body(plan_id: uuid.UUID | str, **overrides: Any) -> dict[str, Any]:
    return {
        "plan_id": str(plan_id),
        "region": "sg-sin",
        "image": "ubuntu-24.04",
        "hostname": "web-1",
        "billing_cycle": "monthly",
        "payment": "tripay",
        **overrides,
    }


def in_thread(coro: Any) -> Any:
    """Run a coroutine to completion from a sync (session) fixture."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def redis_db(url: str, db: int) -> str:
    """The same Redis server, another database (each service its own, as in devstack)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


@contextlib.contextmanager
def real_billing(
    database_url: str,
    redis_url: str,
    tokens: TokenIssuer,
    fleet_url: str,
    *,
    order_url: str = "http://127.0.0.1:9",
    db_pool_size: int = 3,
) -> Iterator[str]:
    """The billing app itself (its own database), over TCP, instead of the stand-in: for tests
    that need billing's own rules (wallet, promo counts). Tripay is never reached."""
    from billing_service.app import create_app as create_billing
    from billing_service.config import BillingSettings

    settings = BillingSettings(
        database_url=database_url,
        redis_url=redis_url,
        environment="test",
        jwks_url=tokens.jwks_url,
        internal_api_keys=f"order:{ORDER_KEY}",
        internal_api_key=BILLING_KEY,
        auth_url=fleet_url,
        notification_url=fleet_url,
        order_url=order_url,
        tripay_api_url="http://127.0.0.1:9/api-sandbox",
        db_pool_size=db_pool_size,
    )
    with LiveServer(create_billing(settings)) as server:
        yield server.url


class FlakyProxy:
    """In front of a service: the first `failures` calls get a 503 problem (or a dropped
    connection), the rest are passed through."""

    def __init__(self, target: str, failures: int) -> None:
        self.target = target
        self.failures = failures
        self.seen: list[tuple[str, int]] = []

    def app(self) -> Starlette:
        async def forward(request: Request) -> Response:
            if len([s for s in self.seen if s[1] == 503]) < self.failures:
                self.seen.append((request.url.path, 503))
                return problem(503, "service_unavailable", "restarting")
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            async with httpx.AsyncClient(timeout=30) as http:
                upstream = await http.request(
                    request.method,
                    self.target + request.url.path,
                    params=request.query_params,
                    content=await request.body(),
                    headers=headers,
                )
            self.seen.append((request.url.path, upstream.status_code))
            return Response(
                upstream.content,
                status_code=upstream.status_code,
                media_type=upstream.headers.get("content-type"),
            )

        return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])
