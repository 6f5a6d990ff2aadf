"""Helpers shared by the auth tests (imported by module name; see conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "kopi-tubruk-di-pagi-hari"
API_KEY = "notification-test-key"


@dataclass
class SeededUser:
    id: uuid.UUID
    email: str
    password: str


def token_from_link(link: str) -> str:
    return link.rsplit("token=", 1)[1]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body
