"""Settings of the Tripay stand-in, from `TRIPAY_SANDBOX_*` environment variables; changeable
while it runs (`PATCH /_sandbox/settings`), restored by `POST /_sandbox/reset`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The sandbox merchant: devstack gives the billing service these same credentials.
MERCHANT_CODE = "T0001"
API_KEY = "DEV-sandbox-api-key"
PRIVATE_KEY = "sandbox-private-key"


class TripaySandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRIPAY_SANDBOX_",
        env_file=None,
        extra="ignore",
        case_sensitive=False,
        validate_assignment=True,
    )

    merchant_code: str = MERCHANT_CODE
    api_key: str = API_KEY
    private_key: str = PRIVATE_KEY
    # The merchant's default callback URL (a create request's callback_url overrides it).
    callback_url: str | None = None
    # Tripay retries an unacknowledged callback every 2 minutes, at most 3 more times.
    callback_retry_seconds: float = Field(default=120.0, ge=0)
    callback_retries: int = Field(default=3, ge=0)
    callback_timeout_seconds: float = Field(default=10.0, gt=0)
    # Merchant configuration: the customer pays the channel fee on top (fee_customer) instead
    # of the merchant (fee_merchant).
    customer_pays_fee: bool = False
    # Where checkout_url, pay_url and qr_url point (this stand-in's address).
    public_url: str = "http://127.0.0.1:3997"
    # Answer every merchant API call with an HTML 503, as a load balancer in front of a Tripay
    # outage would (callbacks and the control API keep working).
    outage: bool = False
    # Seconds between sweeps that expire overdue UNPAID transactions (with a callback, as
    # Tripay does); 0 turns the sweep off. Runs only under a lifespan (uvicorn).
    expiry_sweep_seconds: float = Field(default=5.0, ge=0)
