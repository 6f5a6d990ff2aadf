from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from billing_service.config import BillingSettings

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql://db/billing",
    "redis_url": "redis://redis:6379/4",
    "jwks_url": "http://auth:3001/.well-known/jwks.json",
    "internal_api_keys": "order:k1",
    "internal_api_key": "k2",
}


def test_callback_and_return_urls_default_to_the_public_address() -> None:
    settings = BillingSettings(public_base_url="https://webrana.cloud/")
    invoice_id = uuid.uuid4()
    assert settings.callback_url == "https://webrana.cloud/api/v1/billing/callbacks/tripay"
    assert settings.return_url(invoice_id) == f"https://webrana.cloud/billing/invoices/{invoice_id}"
    custom = BillingSettings(tripay_return_url="https://x.test/paid?invoice={invoice_id}")
    assert custom.return_url(invoice_id) == f"https://x.test/paid?invoice={invoice_id}"


def test_production_refuses_the_sandbox_credentials() -> None:
    with pytest.raises(ValidationError, match="TRIPAY_API_KEY"):
        BillingSettings(**PRODUCTION)
    BillingSettings(**PRODUCTION, tripay_api_key="live-key", tripay_private_key="live-private")


def test_private_key_never_shows() -> None:
    settings = BillingSettings(tripay_private_key="very-secret")
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.model_dump())


def test_inconsistent_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        BillingSettings(wallet_topup_min=100, wallet_topup_max=10)
    with pytest.raises(ValidationError):
        BillingSettings(billing_alert_user_ids="not-a-uuid")
    with pytest.raises(ValidationError):
        BillingSettings(fee_borne_by="nobody")
