"""Helpers shared by the provider tests (imported by module name; see conftest.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY = "order-test-key"
CLOUD_TOKENS = {
    "digitalocean": "dop_v1_sandbox-token",
    "vultr": "VULTRSANDBOXKEY",
    "linode": "linode-sandbox-token",
}
API_PREFIX = {"digitalocean": "/v2", "vultr": "/v2", "linode": "/v4"}
# Fast clouds: servers boot in a blink, actions take a moment.
FAST = {"boot_delay": 0.2, "action_delay": 0.1}
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk2ZcVn0kHq0m8fQ3pGk7J1r6y2Y1o3x8Lk0n5m4p2Q budi@laptop"
)


@dataclass
class Sandbox:
    """Steers one cloud stand-in through its `/_sandbox` control API. Blocking calls on one
    client for the session: the stand-in serves from its own thread, and a client per call
    would build an SSL context each time."""

    name: str
    url: str
    control: httpx.Client

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX[self.name]

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.control.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response

    async def reset(self) -> None:
        """Back to the settings it was started with (FAST), no servers, faults or log."""
        await self._call("POST", "/reset")

    async def configure(self, **settings: Any) -> dict[str, Any]:
        return (await self._call("PATCH", "/settings", json=settings)).json()

    async def fault(self, kind: str, **options: Any) -> dict[str, Any]:
        return (await self._call("POST", "/faults", json={"kind": kind, **options})).json()

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def requests(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        return (await self._call("GET", "/requests", params=params)).json()["requests"]

    async def servers(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/servers")).json()["servers"]

    async def server(self, server_id: str) -> dict[str, Any]:
        return (await self._call("GET", f"/servers/{server_id}")).json()

    async def emails(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/emails")).json()["emails"]

    async def assert_spoke_the_spec(self) -> list[dict[str, Any]]:
        """Every request this stand-in received matched an operation of the official spec and
        was valid in write mode, with no undeclared query parameter."""
        logged = await self.requests()
        bad = [
            {k: e[k] for k in ("method", "path", "query", "body", "issues", "warnings")}
            for e in logged
            if e["operation"] is None or not e["valid"] or e["warnings"]
        ]
        assert not bad, f"{self.name}: requests outside the spec: {bad}"
        return logged


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def provision_body(provider: str, key: str, **overrides: Any) -> dict[str, Any]:
    defaults = {
        "digitalocean": {"region": "sgp1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"},
        "vultr": {"region": "sgp", "size": "vc2-1c-1gb", "image": "2284"},
        "linode": {"region": "ap-south", "size": "g6-nanode-1", "image": "linode/ubuntu24.04"},
    }[provider]
    return {
        "idempotency_key": key,
        "provider": provider,
        "hostname": "budi-web-01",
        "ssh_keys": [],
        "tags": ["customer-42"],
        **defaults,
        **overrides,
    }


async def wait_for_status(
    client: httpx.AsyncClient, provider: str, instance_id: str, status: str, timeout: float = 10
) -> dict[str, Any]:
    """Poll our API until the instance reports `status` and nothing holds it."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/internal/instances/{provider}/{instance_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] == status and not body["busy"]:
            return body
        assert time.monotonic() < deadline, f"still {body} after {timeout} s"
        await asyncio.sleep(0.05)


async def wait_for_action(
    client: httpx.AsyncClient, provider: str, instance_id: str, action_id: str, timeout: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(
            f"/internal/instances/{provider}/{instance_id}/actions/{action_id}"
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] != "in_progress":
            return body
        assert time.monotonic() < deadline, f"still {body} after {timeout} s"
        await asyncio.sleep(0.05)
