"""Settings of the provider service; every name is documented in services/provider/README.md."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from webrana_common.settings import ServiceSettings


class ProviderSettings(ServiceSettings):
    service_name: str = "provider"
    port: int = 3007

    # Each cloud: an enable flag, the API base URL (with its version prefix) and a credential.
    # An enabled provider without a credential answers 503 provider_not_configured.
    digitalocean_enabled: bool = True
    digitalocean_api_url: str = "https://api.digitalocean.com/v2"
    digitalocean_token: SecretStr | None = None
    vultr_enabled: bool = True
    vultr_api_url: str = "https://api.vultr.com/v2"
    vultr_api_key: SecretStr | None = None
    linode_enabled: bool = True
    linode_api_url: str = "https://api.linode.com/v4"
    linode_api_token: SecretStr | None = None

    # One provider call: each attempt gets PROVIDER_TIMEOUT_SECONDS, all attempts together
    # (retries, backoff, Retry-After waits) PROVIDER_DEADLINE_SECONDS.
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    provider_deadline_seconds: float = Field(default=30.0, gt=0)
    provider_backoff_seconds: float = Field(default=0.5, ge=0)
    provider_backoff_max_seconds: float = Field(default=8.0, ge=0)

    # A claimed provision request belongs to its claimer this long; after that a duplicate may
    # take it over (looking the server up by tag first). Must outlast one create call.
    provision_lease_seconds: float = Field(default=120.0, gt=0)
    # How long a concurrent duplicate waits for the claimer before answering 409.
    provision_wait_seconds: float = Field(default=60.0, ge=0)
    provision_poll_seconds: float = Field(default=0.1, gt=0)

    # Regions, sizes and images are cached in Redis this long (`?refresh=true` bypasses).
    provider_metadata_ttl_seconds: int = Field(default=3600, ge=1)

    # Linode resets a root password only while the server is off: how long to wait for it to
    # go down, and how often to look.
    linode_power_off_timeout_seconds: float = Field(default=180.0, gt=0)
    linode_poll_seconds: float = Field(default=3.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSettings:
        if self.provision_lease_seconds <= 2 * self.provider_deadline_seconds:
            # A create with its recovery (look up by tag, create again) takes up to two deadlines.
            raise ValueError("PROVISION_LEASE_SECONDS must exceed 2 x PROVIDER_DEADLINE_SECONDS")
        if self.environment != "production":
            return self
        for name in ("digitalocean", "vultr", "linode"):
            url = getattr(self, f"{name}_api_url")
            if getattr(self, f"{name}_enabled") and urlsplit(url).scheme != "https":
                raise ValueError(f"production sends {name.upper()} credentials only over https")
        return self
