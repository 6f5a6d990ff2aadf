"""Order numbers are five random letters a day, so a busy day draws a taken one now and then:
the order is placed under another number, not refused with a 500."""

from __future__ import annotations

import uuid

import httpx
import pytest
from order_helpers import order_body

from order_service.orders import service

Customer = tuple[uuid.UUID, dict[str, str]]


async def test_a_taken_number_is_drawn_again(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=customer[1]
    )
    assert first.status_code == 201, first.text
    taken = first.json()["number"]
    fresh = f"{taken[:13]}ZZZZZ" if not taken.endswith("ZZZZZ") else f"{taken[:13]}YYYYY"
    draws = iter([taken, taken, fresh])
    monkeypatch.setattr(service, "order_number", lambda now: next(draws))

    second = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=customer[1]
    )

    assert second.status_code == 201, second.text
    assert second.json()["number"] == fresh
    detail = await client.get(f"/api/v1/orders/{second.json()['id']}", headers=customer[1])
    assert detail.json()["number"] == fresh
    mine = (await client.get("/api/v1/orders", headers=customer[1])).json()["items"]
    assert sorted(o["number"] for o in mine) == sorted([taken, fresh])
