"""Cloud tokens and root passwords never reach a log line."""

from __future__ import annotations

import logging

import httpx
import pytest
from provider_helpers import CLOUD_TOKENS, Sandbox, provision_body


async def test_tokens_and_passwords_never_reach_the_logs(
    client: httpx.AsyncClient, clouds: dict[str, Sandbox], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await clouds["linode"].fault("error", status=500, operation="get-regions")
    await clouds["digitalocean"].fault(
        "timeout", process=True, seconds=3, operation="droplets_create"
    )
    passwords = []
    for provider in ("digitalocean", "vultr", "linode"):
        response = await client.post(
            "/internal/provision", json=provision_body(provider, f"order-log-{provider}")
        )
        assert response.status_code == 202, response.text
        passwords.append(response.json()["root_password"])
    assert (await client.get("/internal/providers/linode/regions")).status_code == 200

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    # The failures above were logged (so the check below looked at something).
    assert "provider call failed, retrying" in logged
    assert "server found by its tag" in logged
    for secret in [*CLOUD_TOKENS.values(), *filter(None, passwords)]:
        assert secret not in logged
