"""The send fast path (sending/fast_path.py) answers exactly like the FastAPI route: the same
body and status, a request id, metrics by route template, and every malformed call handed to
the route's documented problem+json with its body intact."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from notification_helpers import INTERNAL, SEND, assert_problem, sample
from sqlalchemy import func, select

from notification_service.notifications.models import Notification
from webrana_common.db.session import Database


def _body(user_id: Any, key: str = "fast-1", **extra: Any) -> dict[str, Any]:
    return {
        "event": "PAYMENT_CONFIRMED",
        "user_id": str(user_id),
        "data": sample("PAYMENT_CONFIRMED"),
        "idempotency_key": key,
        **extra,
    }


async def _notifications(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_a_send_gets_a_request_id_and_is_counted_by_its_route(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    response = await client.post(
        SEND, json=_body(user.id), headers={**INTERNAL, "X-Request-ID": "req-fast-1"}
    )
    assert response.status_code == 202, response.text
    assert response.headers["x-request-id"] == "req-fast-1"
    assert response.json()["duplicate"] is False
    again = await client.post(SEND, json=_body(user.id), headers=INTERNAL)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["notification_id"] == response.json()["notification_id"]

    metrics = (await client.get("/metrics")).text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{")
        and 'route="/internal/notifications/send"' in line
    ]
    assert {line.split('status="')[1][:3] for line in counted} == {"200", "202"}


async def test_a_body_sent_in_pieces_is_read_whole(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user()
    raw = json.dumps(_body(user.id, key="pieces")).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 7):
            yield raw[start : start + 7]

    response = await client.post(
        SEND, content=pieces(), headers={**INTERNAL, "Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text
    assert await _notifications(db) == 1


async def test_malformed_calls_get_the_routes_problems_and_big_ones_the_route(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user()
    not_json = await client.post(
        SEND, content=b"{not json", headers={**INTERNAL, "Content-Type": "application/json"}
    )
    assert_problem(not_json, 422, "validation_error")
    wrong_key = await client.post(SEND, json=_body(user.id), headers={"X-API-Key": "not-a-key"})
    assert_problem(wrong_key, 401, "api_key_invalid")
    mismatch = await client.post(
        SEND, json=_body(user.id), headers={**INTERNAL, "Idempotency-Key": "other"}
    )
    assert_problem(mismatch, 400, "idempotency_key_mismatch")
    no_key = await client.post(SEND, json=_body(user.id, key=None), headers=INTERNAL)
    assert_problem(no_key, 400, "idempotency_key_missing")
    assert await _notifications(db) == 0
    # Bigger than the fast path reads: the route gets the whole body (fields the contract
    # does not know are dropped, as always) and stores it once.
    padded = _body(user.id, key="big")
    padded["data"] = {**padded["data"], "padding": "x" * 100_000}
    big = await client.post(SEND, json=padded, headers=INTERNAL)
    assert big.status_code == 202, big.text
    again = await client.post(SEND, json=padded, headers=INTERNAL)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await _notifications(db) == 1


async def test_the_header_key_alone_is_enough(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    headers = {**INTERNAL, "Idempotency-Key": "outbox:msg-1"}
    first = await client.post(SEND, json=_body(user.id, key=None), headers=headers)
    second = await client.post(SEND, json=_body(user.id, key=None), headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["notification_id"] == second.json()["notification_id"]
