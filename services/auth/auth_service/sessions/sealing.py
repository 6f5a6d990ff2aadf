"""Sealing a rotated pair for the grace window.

The key is derived from the spent refresh token's plaintext, which the database never holds: a
database or backup leak cannot open the sealed pairs; only someone presenting the spent token
itself can, and that is exactly who the grace window answers.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from auth_service.sessions.schemas import TokenPair

_CONTEXT = b"webrana-auth/refresh-grace/v1"
_NONCE = 12


def _key(refresh_token: str) -> bytes:
    return hmac.new(_CONTEXT, refresh_token.encode(), hashlib.sha256).digest()


def seal(pair: TokenPair, refresh_token: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_key(refresh_token)).encrypt(
        nonce, pair.model_dump_json().encode(), _CONTEXT
    )


def unseal(blob: bytes, refresh_token: str) -> TokenPair | None:
    try:
        plain = AESGCM(_key(refresh_token)).decrypt(blob[:_NONCE], blob[_NONCE:], _CONTEXT)
    except (InvalidTag, ValueError):
        return None
    return TokenPair.model_validate_json(plain)
