"""Which passwords are refused, with a precise code for each reason."""

from __future__ import annotations

import functools
import re
from importlib import resources

from auth_service.errors import WeakPassword

MIN_LENGTH = 10
# Argon2 hashes anything, but a bound keeps a request from buying megabytes of hashing input.
MAX_LENGTH = 128
# The email's local part counts only from this length: "al@x.id" must not forbid every "al".
MIN_LOCAL_PART = 3

_LEET = str.maketrans(
    {"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"}
)
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def is_common(password: str) -> bool:
    """In the list as typed, in leet-speak, or as a listed password plus trailing digits or
    symbols ("sayangku2024!"): the variations every cracking tool tries first."""
    common = common_passwords()
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return True
    stripped = _TRAILING_NOISE.sub("", lowered)
    candidates = {lowered, stripped, lowered.translate(_LEET), stripped.translate(_LEET)}
    return any(c in common for c in candidates)


def _local_parts(email: str) -> set[str]:
    local = email.rpartition("@")[0].lower()
    base = local.split("+", 1)[0]
    parts = {local, base, base.replace(".", "")}
    # "budi.santoso@..." should not allow "budisantoso" nor "santoso123456".
    parts |= set(re.split(r"[._\-]", base))
    return {p for p in parts if len(p) >= MIN_LOCAL_PART}


def check_password(password: str, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"Password must be at least {MIN_LENGTH} characters long", code="password_too_short"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"Password must be at most {MAX_LENGTH} characters long", code="password_too_long"
        )
    lowered = password.lower()
    if any(part in lowered for part in _local_parts(email)):
        raise WeakPassword(
            "Password must not contain your email address or its parts",
            code="password_contains_email",
        )
    if is_common(password):
        raise WeakPassword(
            "Password is too common or predictable; try a longer phrase of unrelated words",
            code="password_too_common",
        )
