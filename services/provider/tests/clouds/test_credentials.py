"""Root passwords, cloud-init user data, Retry-After parsing, and secrets kept out of logs."""

from __future__ import annotations

import email.utils
import json
import logging
import string
import time

import httpx
import pytest
from provider_helpers import CLOUD_TOKENS, Sandbox, provision_body
from pydantic import SecretStr

from provider_service.clouds.cloud_init import cloud_config, is_public_key, user_data
from provider_service.clouds.http import retry_after_seconds
from provider_service.clouds.passwords import SYMBOLS, generate_root_password
from provider_service.config import ProviderSettings


def test_root_passwords_are_long_mixed_and_never_repeat() -> None:
    passwords = {generate_root_password().get_secret_value() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 24
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS):
            assert any(c in chars for c in password)
        assert not set(password) & set("'\"\\ `$")


def test_the_callers_user_data_rides_along_ours_in_one_archive() -> None:
    config = cloud_config(public_keys=["ssh-ed25519 AAAA k"], root_password=None)
    assert config == {"ssh_authorized_keys": ["ssh-ed25519 AAAA k"]}
    combined = user_data(config, "#!/bin/bash\napt-get -y upgrade\n")
    assert combined is not None and combined.startswith("Content-Type: multipart/mixed")
    assert user_data(None, "#cloud-config\n{}") == "#cloud-config\n{}"
    assert user_data(None, None) is None
    only_ours = user_data(config, None)
    assert only_ours is not None
    assert json.loads(only_ours.split("\n", 1)[1]) == config


def test_public_keys_are_told_from_ids() -> None:
    assert is_public_key("ssh-rsa AAAAB3NzaC1yc2E= me@host")
    assert is_public_key("ecdsa-sha2-nistp256 AAAAE2VjZHNh")
    assert not is_public_key("289794")
    assert not is_public_key("3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45")


def test_retry_after_as_seconds_or_an_http_date() -> None:
    def response(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after_seconds(response("7")) == 7
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_after_seconds(response(later)) or 0) <= 30
    assert retry_after_seconds(response("soon")) is None
    assert retry_after_seconds(httpx.Response(429)) is None


def test_tokens_do_not_show_in_settings() -> None:
    settings = ProviderSettings(digitalocean_token="dop_v1_secret", vultr_api_key="vk-secret")
    assert "dop_v1_secret" not in repr(settings) and "vk-secret" not in str(settings.model_dump())


def test_production_refuses_plain_http_to_a_cloud() -> None:
    with pytest.raises(ValueError, match="only over https"):
        ProviderSettings(
            environment="production",
            database_url="postgresql://x/y",
            redis_url="redis://x",
            jwks_url="http://auth/jwks",
            internal_api_keys=SecretStr("order:k1"),
            internal_api_key=SecretStr("k2"),
            vultr_api_url="http://127.0.0.1:3994/v2",
        )


async def test_tokens_and_passwords_never_reach_the_logs(
    client: httpx.AsyncClient, clouds: dict[str, Sandbox], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await clouds["linode"].fault("error", status=500, operation="get-regions")
    await clouds["digitalocean"].fault("timeout", process=True, seconds=3, operation="droplets_create")
    passwords = []
    for provider in ("digitalocean", "vultr", "linode"):
        response = await client.post(
            "/internal/provision", json=provision_body(provider, f"order-log-{provider}")
        )
        assert response.status_code == 202, response.text
        passwords.append(response.json()["root_password"])
    assert (await client.get("/internal/providers/linode/regions")).status_code == 200

    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records
    )
    assert "retrying" in logged or "tag" in logged  # the failures above were logged
    for secret in [*CLOUD_TOKENS.values(), *filter(None, passwords)]:
        assert secret not in logged
