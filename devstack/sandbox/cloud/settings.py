"""Settings of a cloud stand-in, from `<PROVIDER>_SANDBOX_*` environment variables.

They can be changed while it runs (`PATCH /_sandbox/settings`); `POST /_sandbox/reset` puts
back the values it started with.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CreationFailure = Literal["reject", "error"]


class CloudSandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, validate_assignment=True
    )

    # The one token accepted; when unset any non-empty bearer token is.
    token: str | None = None
    # Seconds from create (or rebuild) to a running server.
    boot_delay: float = Field(default=2.0, ge=0)
    # Seconds a reboot, power change or password reset takes.
    action_delay: float = Field(default=1.0, ge=0)
    # Added to every provider API response.
    latency_ms: int = Field(default=0, ge=0)
    # "reject": creation answers the provider's error; "error": it is accepted and then fails.
    creation_failure: CreationFailure | None = None
    creation_failure_message: str = "Insufficient capacity in this region"
    # Check each response against the spec and log what does not match.
    validate_responses: bool = True
    request_log_limit: int = Field(default=2000, ge=1)


class DigitalOceanSandboxSettings(CloudSandboxSettings):
    model_config = SettingsConfigDict(env_prefix="DIGITALOCEAN_SANDBOX_")


class VultrSandboxSettings(CloudSandboxSettings):
    model_config = SettingsConfigDict(env_prefix="VULTR_SANDBOX_")


class LinodeSandboxSettings(CloudSandboxSettings):
    model_config = SettingsConfigDict(env_prefix="LINODE_SANDBOX_")
