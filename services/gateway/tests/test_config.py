"""Settings: parsed and checked at startup, with production refusing unsafe values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway_service.config import GatewaySettings, RateSpec, parse_size


def test_the_gateway_needs_no_database_even_in_production() -> None:
    settings = GatewaySettings(
        environment="production", redis_url="redis://r:6379/0", auth_url="http://auth:3001"
    )
    assert settings.database_url is None
    assert settings.jwks_url == "http://auth:3001/.well-known/jwks.json"


def test_production_needs_redis() -> None:
    with pytest.raises(ValidationError, match="REDIS_URL"):
        GatewaySettings(environment="production")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "2MiB")
    monkeypatch.setenv("WEBSOCKET_MAX_MESSAGE_BYTES", "256KiB")
    monkeypatch.setenv("RATE_LIMIT_READ", "100/30s")
    monkeypatch.setenv("ADMIN_ALLOWED_CIDRS", "10.0.0.0/8, 192.168.0.0/16")
    monkeypatch.setenv("CORS_ORIGINS", "https://app.webrana.cloud")
    settings = GatewaySettings()
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.websocket_max_message_bytes == 256 * 1024
    assert settings.rate_specs()["read"] == RateSpec(100, 30)
    assert [str(n) for n in settings.admin_networks()] == ["10.0.0.0/8", "192.168.0.0/16"]
    assert settings.cors_origin_list() == ["https://app.webrana.cloud"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cors_origins", "*"),
        ("cors_origins", "app.webrana.cloud"),
        ("rate_limit_read", "lots"),
        ("rate_limit_auth", "0/minute"),
        ("admin_allowed_cidrs", "10.0.0.0/33"),
        ("trusted_proxies", "proxy.local"),
        ("route_body_limits", "api=1MiB"),
        ("max_body_bytes", "1 pound"),
        ("ready_required_upstreams", "auth,payments"),
    ],
)
def test_bad_values_are_refused_at_startup(name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(**{name: value})


def test_rates_and_sizes_read_as_people_write_them() -> None:
    assert RateSpec.parse("10/minute") == RateSpec(10, 60)
    assert RateSpec.parse("5/second") == RateSpec(5, 1)
    assert RateSpec.parse("1000/hour") == RateSpec(1000, 3600)
    assert RateSpec.parse("100/30s") == RateSpec(100, 30)
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size("10MB") == 10_000_000
    assert parse_size("1048576") == 1048576
