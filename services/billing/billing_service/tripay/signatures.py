"""Tripay's HMAC-SHA256 signatures (lowercase hex, key = the merchant's private key)."""

from __future__ import annotations

import hashlib
import hmac


def sign(private_key: str, message: str | bytes) -> str:
    raw = message.encode() if isinstance(message, str) else message
    return hmac.new(private_key.encode(), raw, hashlib.sha256).hexdigest()


def transaction_signature(
    private_key: str, merchant_code: str, merchant_ref: str, amount: int
) -> str:
    """Closed `transaction/create`: merchant_code + merchant_ref + the amount's decimal digits."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be whole rupiah (int)")
    return sign(private_key, f"{merchant_code}{merchant_ref}{amount}")


def callback_signature_valid(private_key: str, raw_body: bytes, presented: str | None) -> bool:
    """Over the raw body bytes exactly as received, never a re-serialised object (Tripay's
    PHP escapes `/` as `\\/`); compared in constant time."""
    if not presented:
        return False
    expected = sign(private_key, raw_body)
    return hmac.compare_digest(expected.encode(), presented.strip().lower().encode())
