"""Settings of the auth service; every name is documented in services/auth/README.md."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from webrana_common.settings import ServiceSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Production cost: one verify takes ~30-40 ms on the reference machine (see README, "Argon2").
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST_KIB = 19_456
ARGON2_PARALLELISM = 1


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    port: int = 3001
    verifies_tokens_over_http: ClassVar[bool] = False

    # Signing keys: PEMs in production, a generated folder in development (see README, "Keys").
    jwt_private_key: SecretStr | None = None
    jwt_previous_keys: SecretStr | None = None
    jwt_keys_dir: Path | None = None

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    # A spent refresh token presented this soon after its rotation gets the same new pair back
    # (two tabs refreshing at once); later it counts as theft and revokes the whole session.
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=60)

    argon2_time_cost: int = Field(default=ARGON2_TIME_COST, ge=1)
    argon2_memory_cost_kib: int = Field(default=ARGON2_MEMORY_COST_KIB, ge=8)
    argon2_parallelism: int = Field(default=ARGON2_PARALLELISM, ge=1)

    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Verification and reset mails per address per hour; beyond it requests are silently dropped.
    account_emails_per_hour: int = Field(default=5, ge=1)

    email_verification_ttl_hours: int = Field(default=24, ge=1)
    password_reset_ttl_minutes: int = Field(default=30, ge=1)
    telegram_link_ttl_minutes: int = Field(default=15, ge=1)
    telegram_bot_username: str = "WeBranaCloudBot"

    # Peers whose X-Forwarded-For is believed (the gateway); anyone else's header is ignored,
    # otherwise a client could pick its own IP and walk around the per-IP login limit. Private
    # ranges by default: auth is only reachable through the gateway on the internal network
    # (compose, k8s); without them every login would count against the gateway's address.
    trusted_proxies: str = "127.0.0.1/32,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

    @field_validator("telegram_bot_username")
    @classmethod
    def _bot_username(cls, value: str) -> str:
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError("TELEGRAM_BOT_USERNAME must be a Telegram bot username")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(item, strict=False)
        return value

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> AuthSettings:
        if self.environment == "production" and self.jwt_private_key is None:
            raise ValueError(
                "production needs JWT_PRIVATE_KEY (keys are generated only in development)"
            )
        return self

    def trusted_proxy_networks(self) -> list[IPNetwork]:
        return [
            ipaddress.ip_network(p.strip(), strict=False)
            for p in self.trusted_proxies.split(",")
            if p.strip()
        ]

    def link(self, path: str, token: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{path}?token={token}"
