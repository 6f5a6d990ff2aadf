"""Root passwords we generate: strong enough for any provider's strength check, and plain
enough to type into a console (no quotes, backslashes or spaces)."""

from __future__ import annotations

import secrets
import string

from pydantic import SecretStr

LENGTH = 24
SYMBOLS = "!#%+-=@^_"
ALPHABET = string.ascii_letters + string.digits + SYMBOLS
CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS)


def generate_root_password(length: int = LENGTH) -> SecretStr:
    """`length` characters (~140 bits at 24) from CSPRNG, at least one of each class."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if all(any(c in cls for c in candidate) for cls in CLASSES):
            return SecretStr(candidate)
