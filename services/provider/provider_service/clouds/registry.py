"""The configured clouds: one adapter per enabled provider with a credential."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, SecretStr

from provider_service.clouds import digitalocean, linode, vultr
from provider_service.clouds.base import Capabilities, CloudProvider, ProviderName
from provider_service.clouds.capabilities import CAPABILITIES
from provider_service.clouds.errors import ProviderDisabled, ProviderNotConfigured, UnknownProvider
from provider_service.clouds.http import ProviderHttp, RetryPolicy
from provider_service.config import ProviderSettings

CREDENTIAL_SETTING = {
    ProviderName.DIGITALOCEAN: "DIGITALOCEAN_TOKEN",
    ProviderName.VULTR: "VULTR_API_KEY",
    ProviderName.LINODE: "LINODE_API_TOKEN",
}


class ProviderInfo(BaseModel):
    name: ProviderName
    enabled: bool
    configured: bool
    # What the calling services may offer: false when disabled or without a credential.
    available: bool
    capabilities: Capabilities


@dataclass(frozen=True)
class _Entry:
    enabled: bool
    api_url: str
    credential: SecretStr | None


class CloudRegistry:
    def __init__(self, settings: ProviderSettings, client: httpx.AsyncClient) -> None:
        self._entries = {
            ProviderName.DIGITALOCEAN: _Entry(
                settings.digitalocean_enabled,
                settings.digitalocean_api_url,
                settings.digitalocean_token,
            ),
            ProviderName.VULTR: _Entry(
                settings.vultr_enabled, settings.vultr_api_url, settings.vultr_api_key
            ),
            ProviderName.LINODE: _Entry(
                settings.linode_enabled, settings.linode_api_url, settings.linode_api_token
            ),
        }
        self._adapters: dict[ProviderName, CloudProvider] = {}
        policy = RetryPolicy(
            timeout=settings.provider_timeout_seconds,
            deadline=settings.provider_deadline_seconds,
            backoff=settings.provider_backoff_seconds,
            backoff_max=settings.provider_backoff_max_seconds,
        )
        builders: dict[ProviderName, Callable[[ProviderHttp], CloudProvider]] = {
            ProviderName.DIGITALOCEAN: digitalocean.DigitalOcean,
            ProviderName.VULTR: vultr.Vultr,
            ProviderName.LINODE: lambda http: linode.Linode(
                http,
                power_off_timeout=settings.linode_power_off_timeout_seconds,
                poll_seconds=settings.linode_poll_seconds,
            ),
        }
        parsers = {
            ProviderName.DIGITALOCEAN: (digitalocean.parse_error, digitalocean.rate_limit_wait),
            ProviderName.VULTR: (vultr.parse_error, vultr.rate_limit_wait),
            ProviderName.LINODE: (linode.parse_error, linode.rate_limit_wait),
        }
        for name, entry in self._entries.items():
            if not entry.enabled or not _has_secret(entry.credential):
                continue
            parse_error, rate_limit_wait = parsers[name]
            http = ProviderHttp(
                client,
                provider=str(name),
                base_url=entry.api_url,
                token=entry.credential,  # type: ignore[arg-type]
                policy=policy,
                parse_error=parse_error,
                rate_limit_wait=rate_limit_wait,
            )
            self._adapters[name] = builders[name](http)

    def get(self, name: str) -> CloudProvider:
        """The adapter, or the problem that explains why there is none."""
        try:
            provider = ProviderName(name)
        except ValueError:
            known = ", ".join(p.value for p in ProviderName)
            raise UnknownProvider(f"No provider {name!r}; known: {known}", provider=name) from None
        entry = self._entries[provider]
        if not entry.enabled:
            raise ProviderDisabled(
                f"{provider} is disabled ({provider.upper()}_ENABLED=false)", provider=provider
            )
        adapter = self._adapters.get(provider)
        if adapter is None:
            raise ProviderNotConfigured(
                f"{provider} has no credential: set {CREDENTIAL_SETTING[provider]}",
                provider=provider,
            )
        return adapter

    def describe(self) -> list[ProviderInfo]:
        return [
            ProviderInfo(
                name=name,
                enabled=entry.enabled,
                configured=_has_secret(entry.credential),
                available=name in self._adapters,
                capabilities=CAPABILITIES[name],
            )
            for name, entry in self._entries.items()
        ]


def _has_secret(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())
