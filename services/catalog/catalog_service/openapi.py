"""OpenAPI documentation of the problem+json answers each route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "Request validation failed",
    502: "Bad gateway",
}


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is stable and meant for programs."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None


def problems(**codes_by_status: str) -> dict[int | str, dict[str, Any]]:
    """`problems(s404="plan_not_found", s422="validation_error region_not_offered")`."""
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


ADMIN_AUTH = {"s401": "token_missing token_invalid", "s403": "admin_required"}
INTERNAL_AUTH = {"s401": "api_key_invalid"}
