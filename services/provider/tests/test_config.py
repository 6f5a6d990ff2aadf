from __future__ import annotations

import pytest
from pydantic import SecretStr

from provider_service.config import ProviderSettings

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql://db/webrana_provider",
    "redis_url": "redis://redis:6379/7",
    "jwks_url": "http://auth:3001/.well-known/jwks.json",
    "internal_api_keys": SecretStr("order:k1"),
    "internal_api_key": SecretStr("k2"),
}


def test_tokens_do_not_show_in_settings() -> None:
    settings = ProviderSettings(digitalocean_token="dop_v1_secret", vultr_api_key="vk-secret")
    assert "dop_v1_secret" not in repr(settings)
    assert "vk-secret" not in str(settings.model_dump())


def test_the_real_apis_are_the_defaults() -> None:
    settings = ProviderSettings(**PRODUCTION)
    assert settings.digitalocean_api_url == "https://api.digitalocean.com/v2"
    assert settings.vultr_api_url == "https://api.vultr.com/v2"
    assert settings.linode_api_url == "https://api.linode.com/v4"


def test_production_sends_credentials_only_over_https() -> None:
    with pytest.raises(ValueError, match="only over https"):
        ProviderSettings(**PRODUCTION, vultr_api_url="http://127.0.0.1:3994/v2")
    # A disabled provider's URL does not matter.
    ProviderSettings(**PRODUCTION, vultr_enabled=False, vultr_api_url="http://127.0.0.1:3994/v2")


def test_a_claim_must_outlast_a_create_and_its_recovery() -> None:
    with pytest.raises(ValueError, match="PROVISION_LEASE_SECONDS"):
        ProviderSettings(provider_deadline_seconds=30, provision_lease_seconds=60)
