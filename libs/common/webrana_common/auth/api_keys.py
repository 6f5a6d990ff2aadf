"""`X-API-Key` guard for `/internal/**`: a named key per calling service, rotation-friendly."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader
from pydantic import SecretStr
from starlette.requests import HTTPConnection

from webrana_common.errors import Unauthorized

log = logging.getLogger("webrana.internal")


@dataclass(frozen=True)
class InternalCaller:
    name: str


def parse_api_keys(raw: SecretStr | str) -> list[tuple[str, bytes]]:
    """`caller:key,caller:key` → [(caller, key)]. A caller may hold several keys at once."""
    value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
    pairs: list[tuple[str, bytes]] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        caller, sep, key = item.partition(":")
        if not sep or not caller.strip() or not key.strip():
            raise ValueError("INTERNAL_API_KEYS entries must look like caller:key")
        pairs.append((caller.strip(), key.strip().encode()))
    return pairs


def identify_caller(keys: list[tuple[str, bytes]], presented: str | None) -> str | None:
    if not presented:
        return None
    candidate = presented.encode()
    found = None
    # Compare against every key (no early exit) so timing says nothing about which one matched.
    for caller, key in keys:
        if hmac.compare_digest(candidate, key):
            found = caller
    return found


_api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Internal service key (service-to-service only)"
)


async def _internal_caller(
    conn: HTTPConnection,
    _scheme: Annotated[str | None, Depends(_api_key_scheme)] = None,
) -> InternalCaller:
    keys: list[tuple[str, bytes]] = conn.app.state.internal_api_keys
    caller = identify_caller(keys, conn.headers.get("x-api-key"))
    if caller is None:
        log.warning(
            "internal call refused: missing or unknown API key", extra={"path": conn.url.path}
        )
        raise Unauthorized(
            "A valid X-API-Key is required",
            code="api_key_invalid",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    conn.state.internal_caller = caller
    log.debug("internal call", extra={"caller": caller, "path": conn.url.path})
    return InternalCaller(name=caller)


require_internal = Depends(_internal_caller)
Internal = Annotated[InternalCaller, require_internal]
