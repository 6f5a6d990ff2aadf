"""Opaque bearer secrets (refresh tokens, emailed links): random, stored only as sha256.

A fast hash is right here, unlike for passwords: 256 random bits cannot be guessed, so there is
nothing for a slow hash to protect, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """43 characters of [A-Za-z0-9_-]: fits a Telegram `start` parameter (max 64)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
