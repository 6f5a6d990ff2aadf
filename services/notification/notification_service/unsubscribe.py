"""One-click unsubscribe links of marketing mail (RFC 8058): signed, no login needed, no
expiry (an old newsletter's link keeps working)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from notification_service.contracts import Category
from notification_service.errors import UnsubscribeTokenInvalid

UNSUBSCRIBE_PATH = "/api/v1/notifications/unsubscribe"


def _signature(secret: str, user_id: uuid.UUID, category: Category) -> str:
    digest = hmac.new(
        secret.encode(), f"unsubscribe:{user_id}:{category}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_token(secret: str, user_id: uuid.UUID, category: Category) -> str:
    return f"{user_id}.{category}.{_signature(secret, user_id, category)}"


def read_token(secret: str, token: str) -> tuple[uuid.UUID, Category]:
    try:
        raw_user, raw_category, signature = token.split(".")
        user_id, category = uuid.UUID(raw_user), Category(raw_category)
    except ValueError as exc:
        raise UnsubscribeTokenInvalid("This unsubscribe link is not valid") from exc
    if not hmac.compare_digest(signature, _signature(secret, user_id, category)):
        raise UnsubscribeTokenInvalid("This unsubscribe link is not valid")
    return user_id, category
