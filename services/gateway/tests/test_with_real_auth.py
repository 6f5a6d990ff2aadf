"""The gateway in front of the real auth service: register and log in through it, then call a
protected route with the token, verified at the edge against auth's own JWKS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningGateway, closed_port
from gateway_upstreams import Upstream

from auth_service.app import create_app as create_auth_app
from auth_service.config import AuthSettings
from auth_service.keys import generate_private_pem
from webrana_common.testing.live_server import LiveServer

PASSWORD = "kopi-tubruk-di-pagi-hari"


@pytest.fixture
async def auth_url(database_factory: Any, redis_url: str, tmp_path: Path) -> Iterator[str]:
    database_url = await database_factory.create("auth")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "current.pem").write_text(generate_private_pem())
    settings = AuthSettings(
        database_url=database_url,
        redis_url=redis_url,
        environment="test",
        jwt_keys_dir=keys,
        notification_url=f"http://127.0.0.1:{closed_port()}",
        argon2_time_cost=1,
        argon2_memory_cost_kib=1024,
        argon2_parallelism=1,
    )
    server = LiveServer(create_auth_app(settings)).start()
    try:
        yield server.url
    finally:
        server.stop()
        await database_factory.drop(database_url)


async def test_a_user_signs_up_logs_in_and_calls_auth_through_the_gateway(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], auth_url: str
) -> None:
    gateway = start_gateway(auth_url=auth_url, jwks_url=f"{auth_url}/.well-known/jwks.json")
    email = f"budi-{uuid.uuid4().hex[:8]}@example.co.id"
    async with gateway.client() as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Budi Santoso"},
        )
        assert registered.status_code in (200, 201), registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}

        me = await client.get("/api/v1/auth/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email

        # Verified at the edge with auth's JWKS: the order stand-in receives the call...
        assert (await client.get("/api/v1/orders", headers=bearer)).status_code == 200
        # ...and a customer never reaches auth's admin routes.
        admin = await client.get("/api/v1/admin/users", headers=bearer)
        assert admin.status_code == 403
        assert admin.json()["code"] == "admin_required"

        jwks = await client.get("/.well-known/jwks.json")
        assert jwks.status_code == 200 and jwks.json()["keys"]
        internal = await client.get(f"/internal/users/{uuid.uuid4()}")
        assert internal.status_code == 404
    assert upstreams["order"].requests[-1].header("authorization") == bearer["Authorization"]
