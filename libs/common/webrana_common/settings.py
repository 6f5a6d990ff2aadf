"""Settings every service shares; each service subclasses `ServiceSettings`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_API_KEY = "dev-internal-key"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)
    # auth signs tokens and verifies them from memory; every other service needs JWKS_URL.
    verifies_tokens_over_http: ClassVar[bool] = True

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    port: int = 8000
    log_level: str = "INFO"

    database_url: str | None = None
    redis_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1)

    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = None
    sentry_release: str | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    jwks_url: str | None = None
    jwt_issuer: str = "https://auth.webrana.cloud"
    jwt_audience: str = "webrana-api"
    jwks_cache_seconds: int = 300

    # Keys this service accepts, "caller:key,caller:key"; several per caller during rotation.
    internal_api_keys: SecretStr = SecretStr(f"devstack:{DEV_API_KEY}")
    # The key this service presents to others.
    internal_api_key: SecretStr = SecretStr(DEV_API_KEY)

    auth_url: str = "http://127.0.0.1:3001"
    catalog_url: str = "http://127.0.0.1:3002"
    order_url: str = "http://127.0.0.1:3003"
    billing_url: str = "http://127.0.0.1:3004"
    notification_url: str = "http://127.0.0.1:3005"
    instance_url: str = "http://127.0.0.1:3006"
    provider_url: str = "http://127.0.0.1:3007"

    public_base_url: str = "http://127.0.0.1:3000"
    http_timeout_seconds: float = 10.0

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "test")

    def service_urls(self) -> dict[str, str]:
        return {
            "auth": self.auth_url,
            "catalog": self.catalog_url,
            "order": self.order_url,
            "billing": self.billing_url,
            "notification": self.notification_url,
            "instance": self.instance_url,
            "provider": self.provider_url,
        }

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        required = ["database_url", "redis_url"]
        if self.verifies_tokens_over_http:
            required.append("jwks_url")
        missing = [n for n in required if not getattr(self, n)]
        if missing:
            raise ValueError(f"production needs {', '.join(m.upper() for m in missing)}")
        if DEV_API_KEY in self.internal_api_keys.get_secret_value() or (
            self.internal_api_key.get_secret_value() == DEV_API_KEY
        ):
            raise ValueError("production refuses the development INTERNAL_API_KEY(S)")
        return self
