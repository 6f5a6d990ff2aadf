from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provider_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class ProvisionState(StrEnum):
    # Claimed: the claimer is calling the provider until `lease_expires_at`.
    CREATING = "creating"
    CREATED = "created"
    # The last create failed; the next request with this key retries, tag lookup first.
    FAILED = "failed"


class ProvisionRequest(UUIDPrimaryKey, TimestampMixin, Base):
    """One row per idempotency key (order id), claimed before the provider is called, so one
    key can never build two servers. Holds no user data, keys or passwords."""

    __tablename__ = "provision_requests"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        CheckConstraint("state IN ('creating', 'created', 'failed')", name="state"),
        CheckConstraint("provider IN ('digitalocean', 'vultr', 'linode')", name="provider"),
        CheckConstraint(
            "state <> 'created' OR provider_instance_id IS NOT NULL", name="created_has_instance"
        ),
    )

    idempotency_key: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(20))
    # sha256 of the canonical request: the same key with another request is refused.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # The tag on the server that finds it again after a create whose outcome is unknown.
    lookup_tag: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    size: Mapped[str] = mapped_column(String(64))
    image: Mapped[str] = mapped_column(String(128))
    hostname: Mapped[str] = mapped_column(String(253))
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_instance_id: Mapped[str | None] = mapped_column(String(64))
    create_action_id: Mapped[str | None] = mapped_column(String(64))
    recovered_by_tag: Mapped[bool] = mapped_column(default=False, server_default="false")
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error_detail: Mapped[str | None] = mapped_column(String(1000))
