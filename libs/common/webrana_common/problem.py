"""RFC 9457 problem+json rendering for every error a client can see."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
import sentry_sdk
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from webrana_common.errors import AppError
from webrana_common.nul_text import is_nul_refusal, nul_error
from webrana_common.request_id import get_request_id

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("webrana.errors")

STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Request validation failed"),
    410: ("gone", "Gone"),
    429: ("too_many_requests", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    502: ("upstream_error", "Bad gateway"),
    503: ("service_unavailable", "Service unavailable"),
    504: ("upstream_timeout", "Gateway timeout"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://docs.webrana.cloud/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    request_id = get_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts)


async def _app_error(request: Request, exc: AppError) -> JSONResponse:
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail)
        # Reported here: Sentry's own hook on exception handlers is installed when the app's
        # middleware stack is built, which happens before the lifespan initialises Sentry.
        sentry_sdk.capture_exception(exc)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


def _field_error(err: dict[str, Any]) -> dict[str, Any]:
    # The input is never echoed: it may be a password or a card number.
    loc = err.get("loc", ())
    field = _location(loc)
    message = str(err.get("msg", "invalid"))
    if err.get("type") == "json_invalid":
        # pydantic puts the character offset where a field name would be ("body", 9).
        field = "body"
        reason = (err.get("ctx") or {}).get("error")
        position = loc[1] if len(loc) > 1 else None
        message = f"{message} at position {position}" if position is not None else message
        message = f"{message} ({reason})" if reason else message
    return {
        "location": list(loc),
        "field": field,
        "message": message,
        "type": err.get("type", "invalid"),
    }


def validation_problem(path: str, errors: Sequence[dict[str, Any]]) -> JSONResponse:
    """The 422 for pydantic-style errors (`loc`, `msg`, `type`), whoever found them."""
    fields = [_field_error(err) for err in errors]
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in fields[:5]
    )
    summary = summary or "invalid request"
    return problem_response(
        422,
        "validation_error",
        "Request validation failed",
        summary,
        instance=path,
        errors=fields,
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return validation_problem(request.url.path, exc.errors())


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code, title = STATUS_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"Method {request.method} is not allowed on {request.url.path}"
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_nul_refusal(exc):
        raise exc  # a bug or an outage: the 500, logged and reported as before
    # The client's text (see `nul_text`): a 422, so neither logged nor reported to Sentry.
    # Which field held it, the database does not say.
    return validation_problem(request.url.path, [nul_error(())])


def internal_error_response(path: str) -> JSONResponse:
    """The only body a client sees for a bug: no exception text, no stack."""
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        "An unexpected error occurred. Quote the request id when contacting support.",
        instance=path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    # asyncpg's own when a service queries through `db.raw`, SQLAlchemy's around it otherwise.
    app.add_exception_handler(asyncpg.exceptions.UntranslatableCharacterError, _database_error)
    app.add_exception_handler(asyncpg.exceptions.CharacterNotInRepertoireError, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
