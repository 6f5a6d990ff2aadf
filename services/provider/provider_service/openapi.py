"""OpenAPI documentation of the problem+json answers each route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    404: "Not found",
    409: "Conflict",
    422: "Request validation failed",
    429: "Too many requests",
    502: "Bad gateway",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is stable and meant for programs. Provider errors add
    `provider`, and where the provider explained itself `provider_status`, `provider_message`
    (and for Linode `provider_errors`)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None


def problems(**codes_by_status: str) -> dict[int | str, dict[str, Any]]:
    """`problems(s404="instance_not_found", s503="provider_unavailable provider_disabled")`."""
    responses: dict[int | str, dict[str, Any]] = {}
    for key, codes in codes_by_status.items():
        status = int(key.removeprefix("s"))
        first = codes.split()[0]
        responses[status] = {
            "model": Problem,
            "description": f"{_TITLES.get(status, 'Error')}: code " + ", ".join(codes.split()),
            "content": {
                "application/problem+json": {
                    "example": {
                        "type": f"https://docs.webrana.cloud/problems/{first.replace('_', '-')}",
                        "title": _TITLES.get(status, "Error"),
                        "status": status,
                        "detail": "…",
                        "code": first,
                    }
                }
            },
        }
    return responses


# What any route that calls a provider can answer besides its own codes.
PROVIDER_CALL = {
    "s401": "api_key_invalid",
    "s404": "provider_unknown",
    "s429": "provider_rate_limited",
    "s502": "provider_auth_failed",
    "s503": "provider_unavailable provider_disabled provider_not_configured",
}


def provider_problems(**extra: str) -> dict[int | str, dict[str, Any]]:
    merged = dict(PROVIDER_CALL)
    for key, codes in extra.items():
        merged[key] = f"{merged[key]} {codes}" if key in merged else codes
    return problems(**merged)
