"""OpenAPI documentation of the problem+json answers a route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from webrana_common.problem import PROBLEM_JSON, STATUS_CODES


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
    """`responses=problems(s401="invalid_credentials", s429="login_locked login_rate_limited")`:
    each status with the space-separated `code`s it can carry, the first used as the example."""
    responses: dict[int | str, dict[str, Any]] = {}
    for key, codes in codes_by_status.items():
        status = int(key.removeprefix("s"))
        title = STATUS_CODES.get(status, ("error", "Error"))[1]
        first = codes.split()[0]
        responses[status] = {
            "model": Problem,
            "description": f"{title}: code " + ", ".join(codes.split()),
            "content": {
                PROBLEM_JSON: {
                    "example": {
                        "type": f"https://docs.webrana.cloud/problems/{first.replace('_', '-')}",
                        "title": title,
                        "status": status,
                        "detail": "…",
                        "code": first,
                    }
                }
            },
        }
    return responses


# Spread into problems(...) for routes behind require_admin / the internal API-key guard.
ADMIN_AUTH = {"s401": "token_missing token_invalid", "s403": "admin_required"}
INTERNAL_AUTH = {"s401": "api_key_invalid"}
