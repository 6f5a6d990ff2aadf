"""Secrets of one fleet: an internal API key per service (plus one for the developer's own
calls) and the Sentry DSN key. Generated once per home, so a restarted fleet keeps them, and
`--fresh` gets new ones; never the well-known development key of libs/common."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The caller name under which a developer (curl, `webrana demo`) reaches /internal/** routes.
DEVELOPER_CALLER = "devstack"


@dataclass(frozen=True)
class FleetCredentials:
    internal_api_keys: dict[str, str]  # caller -> the key it presents
    sentry_public_key: str

    def accepted_by(self, service: str) -> str:
        """INTERNAL_API_KEYS of `service`: every other caller's key, as `caller:key,...`."""
        return ",".join(
            f"{caller}:{key}"
            for caller, key in sorted(self.internal_api_keys.items())
            if caller != service
        )


def load_or_create(path: Path, callers: Iterable[str]) -> FleetCredentials:
    data = json.loads(path.read_text()) if path.exists() else {}
    keys: dict[str, str] = dict(data.get("internal_api_keys", {}))
    wanted = [*callers, DEVELOPER_CALLER]
    missing = [c for c in wanted if c not in keys]
    for caller in missing:
        keys[caller] = secrets.token_urlsafe(32)
    sentry_key = data.get("sentry_public_key") or secrets.token_hex(16)
    if missing or sentry_key != data.get("sentry_public_key"):
        _write_private(path, {"internal_api_keys": keys, "sentry_public_key": sentry_key})
    return FleetCredentials(internal_api_keys=keys, sentry_public_key=sentry_key)


def _write_private(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)
