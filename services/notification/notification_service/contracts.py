"""The notification contract: event names, each event's category, priority and default channels,
and the `data` its payload carries. Producers (order, billing, instance, auth) build
`SendNotification` bodies from here for `POST notification:/internal/notifications/send`.

Self-contained on purpose (pydantic and the standard library only): it is meant to move to
`webrana_common` unchanged, so that producers import it instead of copying it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class NotificationEvent(StrEnum):
    ORDER_CREATED = "ORDER_CREATED"
    PAYMENT_CONFIRMED = "PAYMENT_CONFIRMED"
    INVOICE_EXPIRED = "INVOICE_EXPIRED"
    VPS_ACTIVE = "VPS_ACTIVE"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    VPS_EXPIRING = "VPS_EXPIRING"
    VPS_SUSPENDED = "VPS_SUSPENDED"
    VPS_TERMINATED = "VPS_TERMINATED"
    WALLET_TOPUP = "WALLET_TOPUP"
    EMAIL_VERIFY = "EMAIL_VERIFY"
    PASSWORD_RESET = "PASSWORD_RESET"
    SECURITY_ALERT = "SECURITY_ALERT"
    SYSTEM_ANNOUNCEMENT = "SYSTEM_ANNOUNCEMENT"


class Category(StrEnum):
    TRANSACTIONAL = "transactional"
    SECURITY = "security"
    BILLING = "billing"
    SERVER = "server"
    MARKETING = "marketing"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    TELEGRAM = "telegram"


# Categories whose email (and in-app copy) a user cannot switch off.
LOCKED_CATEGORIES = frozenset({Category.SECURITY, Category.TRANSACTIONAL})


def _http_url(value: str) -> str:
    # Links land in href attributes of emails and Telegram messages: never javascript: or data:.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Link = Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]
Rupiah = Annotated[int, Field(ge=0, description="Rupiah, a whole number")]
Timestamp = Annotated[datetime, AfterValidator(_aware)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class EventData(BaseModel):
    """Fields a producer adds beyond the contract are kept (stored, shown to admins) but no
    template relies on them."""

    model_config = ConfigDict(extra="allow")


class OrderCreated(EventData):
    order_id: uuid.UUID
    order_number: Text = Field(examples=["ORD-20250101-AB12C"])
    plan_name: Text
    hostname: Text
    billing_cycle: Text = Field(examples=["monthly"])
    amount: Rupiah
    invoice_number: Text | None = None
    pay_before: Timestamp | None = None


class PaymentConfirmed(EventData):
    invoice_id: uuid.UUID
    invoice_number: Text
    order_number: Text | None = None
    amount: Rupiah
    payment_method: Text = Field(examples=["QRIS", "BCA Virtual Account", "wallet"])
    paid_at: Timestamp


class InvoiceExpired(EventData):
    invoice_id: uuid.UUID
    invoice_number: Text
    order_number: Text | None = None
    amount: Rupiah
    expired_at: Timestamp


class VpsActive(EventData):
    instance_id: uuid.UUID
    hostname: Text
    ip_address: Text
    ipv6_address: Text | None = None
    username: Text = "root"
    region: Text
    plan_name: Text
    image: Text
    order_number: Text | None = None


class ProvisioningFailed(EventData):
    order_id: uuid.UUID
    order_number: Text
    hostname: Text
    reason: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Safe to show to the customer"
    )


class VpsExpiring(EventData):
    instance_id: uuid.UUID
    hostname: Text
    expires_at: Timestamp
    days_left: int = Field(ge=0)
    renewal_amount: Rupiah | None = None


class VpsSuspended(EventData):
    instance_id: uuid.UUID
    hostname: Text
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    suspended_at: Timestamp


class VpsTerminated(EventData):
    instance_id: uuid.UUID
    hostname: Text
    terminated_at: Timestamp
    reason: Annotated[str, Field(max_length=500)] | None = None


class WalletTopup(EventData):
    amount: Rupiah
    balance: Rupiah
    reference: Text
    topped_up_at: Timestamp


class AccountLink(EventData):
    """EMAIL_VERIFY and PASSWORD_RESET, as auth sends them."""

    email: Annotated[str, Field(min_length=3, max_length=320)]
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    link: Link
    expires_at: Timestamp


class SecurityReason(StrEnum):
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    NEW_LOGIN = "new_login"


class SecurityAlert(EventData):
    reason: SecurityReason
    occurred_at: Timestamp
    ip: Annotated[str, Field(max_length=64)] | None = None
    device: Annotated[str, Field(max_length=200)] | None = None


class SystemAnnouncement(EventData):
    """Written in Indonesian; `title_en`/`body_en` are what English-locale users read (the
    Indonesian text when absent)."""

    title: Text
    body: Annotated[str, Field(min_length=1, max_length=3000)]
    title_en: Text | None = None
    body_en: Annotated[str, Field(min_length=1, max_length=3000)] | None = None
    link: Link | None = None


@dataclass(frozen=True)
class EventSpec:
    event: NotificationEvent
    category: Category
    priority: Priority
    data: type[EventData]
    channels: tuple[Channel, ...]
    # Emails that must reach an address not verified yet (that is their purpose).
    to_unverified_email: bool = False
    sample: dict[str, Any] | None = None


_ALL = (Channel.IN_APP, Channel.EMAIL, Channel.TELEGRAM)
_SAMPLE_TIME = "2025-01-15T07:30:00Z"

EVENTS: dict[NotificationEvent, EventSpec] = {
    spec.event: spec
    for spec in (
        EventSpec(
            NotificationEvent.ORDER_CREATED,
            Category.BILLING,
            Priority.NORMAL,
            OrderCreated,
            _ALL,
            sample={
                "order_id": "6f1c8f5e-2b7a-4c8e-9d0a-1f2e3d4c5b6a",
                "order_number": "ORD-20250115-AB12C",
                "plan_name": "Cloud VPS 2 GB",
                "hostname": "web-1",
                "billing_cycle": "monthly",
                "amount": 150000,
                "invoice_number": "INV-20250115-XY34Z",
                "pay_before": "2025-01-16T07:30:00Z",
            },
        ),
        EventSpec(
            NotificationEvent.PAYMENT_CONFIRMED,
            Category.BILLING,
            Priority.HIGH,
            PaymentConfirmed,
            _ALL,
            sample={
                "invoice_id": "0b6f8d3e-0a51-4b0f-8f3c-6d1e2a3b4c5d",
                "invoice_number": "INV-20250115-XY34Z",
                "order_number": "ORD-20250115-AB12C",
                "amount": 150000,
                "payment_method": "QRIS",
                "paid_at": _SAMPLE_TIME,
            },
        ),
        EventSpec(
            NotificationEvent.INVOICE_EXPIRED,
            Category.BILLING,
            Priority.NORMAL,
            InvoiceExpired,
            _ALL,
            sample={
                "invoice_id": "0b6f8d3e-0a51-4b0f-8f3c-6d1e2a3b4c5d",
                "invoice_number": "INV-20250115-XY34Z",
                "order_number": "ORD-20250115-AB12C",
                "amount": 150000,
                "expired_at": _SAMPLE_TIME,
            },
        ),
        EventSpec(
            NotificationEvent.VPS_ACTIVE,
            Category.SERVER,
            Priority.HIGH,
            VpsActive,
            _ALL,
            sample={
                "instance_id": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
                "hostname": "web-1",
                "ip_address": "203.0.113.10",
                "ipv6_address": "2001:db8::10",
                "username": "root",
                "region": "Singapore (sgp1)",
                "plan_name": "Cloud VPS 2 GB",
                "image": "Ubuntu 24.04 LTS",
                "order_number": "ORD-20250115-AB12C",
            },
        ),
        EventSpec(
            NotificationEvent.PROVISIONING_FAILED,
            Category.SERVER,
            Priority.URGENT,
            ProvisioningFailed,
            _ALL,
            sample={
                "order_id": "6f1c8f5e-2b7a-4c8e-9d0a-1f2e3d4c5b6a",
                "order_number": "ORD-20250115-AB12C",
                "hostname": "web-1",
                "reason": "The region is out of capacity",
            },
        ),
        EventSpec(
            NotificationEvent.VPS_EXPIRING,
            Category.SERVER,
            Priority.HIGH,
            VpsExpiring,
            _ALL,
            sample={
                "instance_id": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
                "hostname": "web-1",
                "expires_at": "2025-01-22T07:30:00Z",
                "days_left": 7,
                "renewal_amount": 150000,
            },
        ),
        EventSpec(
            NotificationEvent.VPS_SUSPENDED,
            Category.SERVER,
            Priority.URGENT,
            VpsSuspended,
            _ALL,
            sample={
                "instance_id": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
                "hostname": "web-1",
                "reason": "The subscription expired",
                "suspended_at": _SAMPLE_TIME,
            },
        ),
        EventSpec(
            NotificationEvent.VPS_TERMINATED,
            Category.SERVER,
            Priority.HIGH,
            VpsTerminated,
            _ALL,
            sample={
                "instance_id": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
                "hostname": "web-1",
                "terminated_at": _SAMPLE_TIME,
                "reason": "Not renewed within 7 days of suspension",
            },
        ),
        EventSpec(
            NotificationEvent.WALLET_TOPUP,
            Category.BILLING,
            Priority.NORMAL,
            WalletTopup,
            _ALL,
            sample={
                "amount": 500000,
                "balance": 650000,
                "reference": "T0001234567",
                "topped_up_at": _SAMPLE_TIME,
            },
        ),
        EventSpec(
            NotificationEvent.EMAIL_VERIFY,
            Category.TRANSACTIONAL,
            Priority.URGENT,
            AccountLink,
            (Channel.EMAIL,),
            to_unverified_email=True,
            sample={
                "email": "budi@example.co.id",
                "full_name": "Budi Santoso",
                "link": "https://app.webrana.cloud/verify-email?token=abc123",
                "expires_at": "2025-01-16T07:30:00Z",
            },
        ),
        EventSpec(
            NotificationEvent.PASSWORD_RESET,
            Category.TRANSACTIONAL,
            Priority.URGENT,
            AccountLink,
            (Channel.EMAIL,),
            to_unverified_email=True,
            sample={
                "email": "budi@example.co.id",
                "full_name": "Budi Santoso",
                "link": "https://app.webrana.cloud/reset-password?token=abc123",
                "expires_at": "2025-01-15T08:00:00Z",
            },
        ),
        EventSpec(
            NotificationEvent.SECURITY_ALERT,
            Category.SECURITY,
            Priority.URGENT,
            SecurityAlert,
            _ALL,
            sample={
                "reason": "refresh_token_reused",
                "occurred_at": _SAMPLE_TIME,
                "ip": "198.51.100.7",
                "device": "Chrome on Windows",
            },
        ),
        EventSpec(
            NotificationEvent.SYSTEM_ANNOUNCEMENT,
            Category.MARKETING,
            Priority.LOW,
            SystemAnnouncement,
            _ALL,
            sample={
                "title": "Region Jakarta kini tersedia",
                "body": "Server baru bisa dibuat di region Jakarta mulai hari ini.",
                "title_en": "The Jakarta region is now open",
                "body_en": "New servers can be created in the Jakarta region from today.",
                "link": "https://webrana.cloud/blog/jakarta",
            },
        ),
    )
}


def validate_data(event: NotificationEvent, data: dict[str, Any]) -> EventData:
    """Raises pydantic.ValidationError when `data` breaks the event's contract."""
    return EVENTS[event].data.model_validate(data)


class SendNotification(BaseModel):
    """The body of `POST /internal/notifications/send`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event": "PAYMENT_CONFIRMED",
                    "user_id": "5b0e4c1e-8a8b-4a36-9d55-3b1e0f6f2d11",
                    "idempotency_key": "billing:payment-confirmed:INV-20250115-XY34Z",
                    "data": EVENTS[NotificationEvent.PAYMENT_CONFIRMED].sample,
                }
            ]
        },
    )

    event: NotificationEvent
    user_id: uuid.UUID
    data: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="Optional when the `Idempotency-Key` header carries it; both must match",
    )
    channels: list[Channel] | None = Field(
        default=None,
        min_length=1,
        description="Restrict to these channels (default: the event's channels)",
    )
