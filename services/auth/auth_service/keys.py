"""RS256 signing keys: the current one signs, every listed one is published in the JWKS.

A key's `kid` is its RFC 7638 thumbprint, so every replica loading the same PEM agrees on it
without any coordination. Rotation is described in services/auth/README.md ("Keys").
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from auth_service.config import AuthSettings

log = logging.getLogger("auth.keys")

CURRENT_FILE = "current.pem"
PREVIOUS_GLOB = "previous-*.pem"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_jwk: dict[str, str]
    # None for a key known only by its public half (published, never used to sign).
    private_pem: str | None = field(default=None, repr=False)


@functools.lru_cache(maxsize=32)
def _load_private(pem: str) -> rsa.RSAPrivateKey:
    # Loading checks the key's consistency, which costs tens of milliseconds: once per process.
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("signing keys must be RSA")
    return private


def key_from_pem(pem: str) -> SigningKey:
    data = pem.encode()
    private_pem = None
    if "PRIVATE KEY" in pem:
        public = _load_private(pem).public_key()
        private_pem = pem
    else:
        loaded = serialization.load_pem_public_key(data)
        if not isinstance(loaded, rsa.RSAPublicKey):
            raise ValueError("signing keys must be RSA")
        public = loaded
    numbers = public.public_numbers()
    if numbers.n.bit_length() < 2048:
        raise ValueError("RSA signing keys must have at least 2048 bits")
    e, n = _b64url_uint(numbers.e), _b64url_uint(numbers.n)
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=")
    public_jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid.decode(), "n": n, "e": e}
    return SigningKey(kid=kid.decode(), public_jwk=public_jwk, private_pem=private_pem)


def split_pems(raw: str) -> list[str]:
    """Several PEMs in one environment variable, concatenated; `\\n` escapes are accepted
    because many .env and secret stores cannot hold real newlines."""
    text = raw.replace("\\n", "\n")
    return [m.group(0) for m in _PEM_BLOCK.finditer(text)]


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class KeyRing:
    def __init__(self, current: SigningKey, previous: list[SigningKey] | None = None) -> None:
        if current.private_pem is None:
            raise ValueError("the current signing key needs its private half")
        self.current = current
        self.previous = [k for k in previous or [] if k.kid != current.kid]
        # Built once from the parsed key: constructing it per token would cost more than signing.
        self._signer = jwk.construct(_load_private(current.private_pem), algorithm="RS256")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.current.public_jwk, *(k.public_jwk for k in self.previous)]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._signer, algorithm="RS256", headers={"kid": self.current.kid}
        )


def _write_private(path: Path, pem: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)


def read_keys_dir(directory: Path) -> tuple[str, list[str]]:
    """The folder's current PEM (generated on first use) and its previous ones."""
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / CURRENT_FILE
    if not current.exists():
        try:
            _write_private(current, generate_private_pem())
            log.warning("generated a development signing key", extra={"path": str(current)})
        except FileExistsError:
            pass  # another process of the devstack generated it first
    previous = sorted(directory.glob(PREVIOUS_GLOB), reverse=True)
    return current.read_text(), [p.read_text() for p in previous]


def rotate_keys_dir(directory: Path) -> str:
    """Demote the current key to a previous one and generate a new current; returns its kid."""
    current = directory / CURRENT_FILE
    if current.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        current.rename(directory / f"previous-{stamp}.pem")
    pem, _ = read_keys_dir(directory)
    return key_from_pem(pem).kid


def load_keyring(settings: AuthSettings) -> KeyRing:
    if settings.jwt_private_key is not None:
        pems = split_pems(settings.jwt_private_key.get_secret_value())
        if len(pems) != 1:
            raise ValueError("JWT_PRIVATE_KEY must hold exactly one PEM private key")
        current_pem, previous_pems = pems[0], []
    elif settings.is_development:
        directory = settings.jwt_keys_dir or Path(".devstack/keys")
        current_pem, previous_pems = read_keys_dir(directory)
    else:
        raise ValueError("JWT_PRIVATE_KEY is required outside development")
    if settings.jwt_previous_keys is not None:
        previous_pems += split_pems(settings.jwt_previous_keys.get_secret_value())
    return KeyRing(key_from_pem(current_pem), [key_from_pem(p) for p in previous_pems])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m auth_service.keys", description="Manage auth's RS256 signing keys."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="print a new PEM private key (for JWT_PRIVATE_KEY)")
    kid = commands.add_parser("kid", help="print the kid of a PEM read from stdin")
    kid.set_defaults(stdin=True)
    rotate = commands.add_parser("rotate", help="rotate a development keys folder")
    rotate.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        sys.stdout.write(generate_private_pem())
    elif args.command == "kid":
        print(key_from_pem(sys.stdin.read()).kid)
    else:
        print(rotate_keys_dir(args.directory))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
