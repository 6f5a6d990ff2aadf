"""`X-API-Key` guard: named keys per calling service, several at once for rotation."""

from __future__ import annotations

import hmac
import io
import json
import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from webrana_common.auth import api_keys
from webrana_common.auth.api_keys import Internal, identify_caller, parse_api_keys
from webrana_common.logs import JsonFormatter
from webrana_common.testing.client import running_app

KEYS = "billing:billing-old-key, billing:billing-new-key,order:order-key:with-colon"


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(internal_api_keys=KEYS)

    @app.get("/internal/whoami")
    async def whoami(caller: Internal) -> dict[str, str]:
        return {"caller": caller.name}

    async with running_app(app) as http:
        yield http


@pytest.mark.parametrize(
    ("key", "caller"),
    [
        ("billing-old-key", "billing"),
        ("billing-new-key", "billing"),
        ("order-key:with-colon", "order"),
    ],
)
async def test_each_active_key_names_its_caller(
    client: httpx.AsyncClient, key: str, caller: str
) -> None:
    response = await client.get("/internal/whoami", headers={"X-API-Key": key})

    assert response.status_code == 200
    assert response.json() == {"caller": caller}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "billing-old-ke"},
        {"X-API-Key": "billing-old-key2"},
        {"X-API-Key": "billing"},
        {"Authorization": "Bearer billing-old-key"},
    ],
    ids=["missing", "empty", "prefix", "longer", "caller_name", "wrong_header"],
)
async def test_missing_or_unknown_key_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/internal/whoami", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "ApiKey"
    assert response.json()["code"] == "api_key_invalid"


async def test_caller_is_logged_with_the_request_id_at_debug(client: httpx.AsyncClient) -> None:
    # DEBUG, not INFO: one line per internal call cost more CPU than the call's own work.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("testsvc"))
    logger = logging.getLogger("webrana.internal")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        await client.get(
            "/internal/whoami",
            headers={"X-API-Key": "billing-new-key", "X-Request-ID": "call-9"},
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["message"], line["caller"], line["request_id"]) for line in lines] == [
        ("internal call", "billing", "call-9")
    ]
    assert "billing-new-key" not in stream.getvalue()


async def test_refused_call_is_logged_without_the_key(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="webrana.internal"):
        await client.get("/internal/whoami", headers={"X-API-Key": "guessed-key"})

    refused = [r for r in caplog.records if r.name == "webrana.internal"]
    assert [r.levelno for r in refused] == [logging.WARNING]
    assert "guessed-key" not in caplog.text


def test_every_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)
    keys = parse_api_keys(KEYS)

    # A match on the first key still walks all of them: timing does not tell which one matched.
    assert identify_caller(keys, "billing-old-key") == "billing"
    assert [b for _, b in compared] == [k for _, k in keys]

    compared.clear()
    assert identify_caller(keys, "nobody") is None
    assert len(compared) == len(keys)


def test_parse_keeps_several_keys_per_caller() -> None:
    assert parse_api_keys(" billing:a ,billing:b,, order:c ") == [
        ("billing", b"a"),
        ("billing", b"b"),
        ("order", b"c"),
    ]


@pytest.mark.parametrize("raw", ["just-a-key", ":key", "billing:", "billing: "])
def test_parse_refuses_entries_without_caller_and_key(raw: str) -> None:
    with pytest.raises(ValueError, match="caller:key"):
        parse_api_keys(raw)
