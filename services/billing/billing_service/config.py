"""Settings of the billing service; every name is documented in services/billing/README.md."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from webrana_common.settings import ServiceSettings

CALLBACK_PATH = "/api/v1/billing/callbacks/tripay"
# The Tripay sandbox merchant of devstack (devstack/sandbox/tripay_standin/settings.py).
SANDBOX_PRIVATE_KEY = "sandbox-private-key"
SANDBOX_API_KEY = "DEV-sandbox-api-key"


class BillingSettings(ServiceSettings):
    service_name: str = "billing"
    port: int = 3004

    tripay_api_url: str = "https://tripay.co.id/api-sandbox"
    tripay_merchant_code: str = "T0001"
    tripay_api_key: SecretStr = SecretStr(SANDBOX_API_KEY)
    tripay_private_key: SecretStr = SecretStr(SANDBOX_PRIVATE_KEY)
    # Where Tripay sends payment_status callbacks; default PUBLIC_BASE_URL + CALLBACK_PATH.
    tripay_callback_url: str | None = None
    # Where the customer's browser goes after paying; `{invoice_id}` is filled in. Default
    # PUBLIC_BASE_URL/billing/invoices/{invoice_id}.
    tripay_return_url: str | None = None
    tripay_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Payment channels (with fees) are cached this long, then fetched again.
    tripay_channels_cache_seconds: int = Field(default=600, ge=1, le=86_400)

    # Lifetime of an invoice whose creator names no expiry.
    invoice_ttl_minutes: int = Field(default=1440, ge=5, le=43_200)
    # Who bears a channel's fee: "customer" adds it to what the customer pays (shown before
    # paying), "merchant" absorbs it.
    fee_borne_by: Literal["customer", "merchant"] = "customer"
    wallet_topup_min: int = Field(default=10_000, ge=1)
    wallet_topup_max: int = Field(default=10_000_000, ge=1)

    # Reconciliation asks Tripay about UNPAID transactions older than this whose callback
    # never came; at most this many per run.
    reconcile_after_minutes: int = Field(default=10, ge=1, le=1440)
    reconcile_batch_size: int = Field(default=100, ge=1, le=1000)
    expiry_batch_size: int = Field(default=200, ge=1, le=5000)
    # Admins (auth user ids) told through the notification service when an invoice needs a
    # person: an amount mismatch, a payment for a closed invoice.
    billing_alert_user_ids: str = ""
    # Contact details of users (for Tripay's customer_name/email/phone) are cached this long.
    user_cache_seconds: int = Field(default=300, ge=0, le=86_400)

    @field_validator("billing_alert_user_ids")
    @classmethod
    def _alert_ids(cls, value: str) -> str:
        for item in filter(None, (v.strip() for v in value.split(","))):
            uuid.UUID(item)
        return value

    @model_validator(mode="after")
    def _production_needs_tripay(self) -> BillingSettings:
        if self.wallet_topup_min > self.wallet_topup_max:
            raise ValueError("WALLET_TOPUP_MIN must not exceed WALLET_TOPUP_MAX")
        if self.environment != "production":
            return self
        if not self.tripay_merchant_code:
            raise ValueError("production needs TRIPAY_MERCHANT_CODE")
        if self.tripay_private_key.get_secret_value() in ("", SANDBOX_PRIVATE_KEY) or (
            self.tripay_api_key.get_secret_value() in ("", SANDBOX_API_KEY)
        ):
            raise ValueError("production needs real TRIPAY_API_KEY and TRIPAY_PRIVATE_KEY")
        return self

    @property
    def callback_url(self) -> str:
        return self.tripay_callback_url or self.public_base_url.rstrip("/") + CALLBACK_PATH

    def return_url(self, invoice_id: uuid.UUID) -> str:
        template = self.tripay_return_url or (
            self.public_base_url.rstrip("/") + "/billing/invoices/{invoice_id}"
        )
        return template.replace("{invoice_id}", str(invoice_id))

    def alert_user_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(v.strip()) for v in self.billing_alert_user_ids.split(",") if v.strip()]
