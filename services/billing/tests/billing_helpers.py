"""Helpers shared by the billing tests (imported by module name; see conftest.py): tokens as
auth signs them, stand-ins of the services billing talks to, problem assertions."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from webrana_common.testing.live_server import LiveServer
from webrana_common.testing.tokens import TokenIssuer as TokenIssuer  # re-exported for the tests

API_KEY = "order-test-key"
# The admin that BILLING_ALERT_USER_IDS names in the tests.
ADMIN_ALERT_ID = uuid.UUID("00000000-0000-4000-8000-00000000a1e7")


class Fleet:
    """Stand-ins of the services billing calls: auth's user lookup, the notification service's
    send, and the order service's payment-status receiver (a server of its own, so a test can
    stop it). Receivers act once per Idempotency-Key, as the real ones must."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.no_phone: set[str] = set()
        self.order_calls: Counter[str] = Counter()
        self.order_messages: dict[str, dict[str, Any]] = {}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.services = LiveServer(
            Starlette(
                routes=[
                    Route("/internal/users/{user_id}", self._user),
                    Route("/internal/notifications/send", self._notify, methods=["POST"]),
                ]
            )
        )
        self.order = LiveServer(
            Starlette(
                routes=[
                    Route(
                        "/internal/orders/{order_id}/payment-status",
                        self._order_status,
                        methods=["POST"],
                    )
                ]
            )
        )

    def reset(self) -> None:
        with self._lock:
            self.no_phone.clear()
            self.order_calls.clear()
            self.order_messages.clear()
            self.notifications.clear()

    async def _user(self, request: Request) -> JSONResponse:
        user_id = request.path_params["user_id"]
        return JSONResponse(
            {
                "id": user_id,
                "email": f"user-{user_id[:8]}@example.co.id",
                "full_name": "Budi Santoso",
                "phone": None if user_id in self.no_phone else "+6281234567890",
                "locale": "id",
                "role": "customer",
                "status": "active",
                "email_verified": True,
                "telegram_chat_id": None,
            }
        )

    async def _notify(self, request: Request) -> JSONResponse:
        key = request.headers["idempotency-key"]
        body = await request.json()
        with self._lock:
            duplicate = key in self.notifications
            self.notifications.setdefault(key, body)
        return JSONResponse({"duplicate": duplicate}, status_code=200 if duplicate else 202)

    async def _order_status(self, request: Request) -> JSONResponse:
        key = request.headers["idempotency-key"]
        body = await request.json()
        body["_order_id"] = request.path_params["order_id"]
        with self._lock:
            self.order_calls[key] += 1
            self.order_messages.setdefault(key, body)
        return JSONResponse({"ok": True})

    def events(self, event: str) -> list[dict[str, Any]]:
        return [n for n in self.notifications.values() if n["event"] == event]

    def statuses(self, order_id: uuid.UUID | str | None = None) -> list[str]:
        return [
            m["status"]
            for m in self.order_messages.values()
            if order_id is None or m["_order_id"] == str(order_id)
        ]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body
