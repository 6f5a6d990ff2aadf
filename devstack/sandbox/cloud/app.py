"""The ASGI app of a cloud stand-in: every provider API call goes through `dispatch`, which
matches it to an operation of the spec, logs and validates it, applies latency and faults,
checks the token, and hands it to the provider's handler."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from devstack.sandbox.cloud.control import control_router
from devstack.sandbox.cloud.faults import Fault
from devstack.sandbox.cloud.machines import iso_utc
from devstack.sandbox.cloud.provider import ApiError, Call, CloudProvider, Reply
from devstack.sandbox.cloud.requestlog import KEPT_HEADERS, LoggedRequest
from devstack.sandbox.cloud.schemas import Issue
from devstack.sandbox.cloud.spec import CheckedRequest, NoRoute

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def build_app(provider: CloudProvider, description: str | None = None) -> FastAPI:
    app = FastAPI(
        title=f"{provider.title} sandbox",
        description=description,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.provider = provider

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(control_router(provider), prefix="/_sandbox")

    @app.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
    async def api(request: Request) -> Response:
        return await dispatch(provider, request)

    return app


def _logged_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


async def dispatch(provider: CloudProvider, request: Request) -> Response:
    started = time.perf_counter()
    raw = await request.body()
    path, method = request.url.path, request.method
    entry = provider.log.new(
        at=iso_utc(time.time()),
        method=method,
        path=path,
        query={k: request.query_params.getlist(k) for k in request.query_params},
        headers={k: v for k, v in request.headers.items() if k in KEPT_HEADERS},
        body=_logged_body(raw),
        operation=None,
        valid=False,
    )
    reply = await _answer(provider, request, entry, raw)
    now = provider.state.now()
    # The provider decides how Retry-After is spelt, next to its rate-limit headers.
    held = reply.headers.pop("Retry-After", None)
    retry_after = int(held) if held is not None else None
    headers = {**provider.rate_limit_headers(now, retry_after=retry_after), **reply.headers}
    entry.status = reply.status
    entry.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    operation = provider.spec.by_id.get(entry.operation or "")
    if operation is not None and provider.settings.validate_responses:
        issues = provider.spec.check_response(
            operation,
            reply.status,
            reply.body,
            has_body=reply.body is not None,
            error_pointer=provider.error_pointer,
        )
        entry.response_issues = [i.as_dict() for i in issues]
    if reply.body is None:
        return Response(status_code=reply.status, headers=headers)
    return Response(
        json.dumps(reply.body),
        status_code=reply.status,
        headers=headers,
        media_type="application/json",
    )


async def _answer(
    provider: CloudProvider, request: Request, entry: LoggedRequest, raw: bytes
) -> Reply:
    try:
        operation, raw_params = provider.spec.match(request.method, request.url.path)
    except NoRoute as exc:
        issue = Issue("route", None, "no operation of the spec subset has this method and path")
        entry.issues = [issue.as_dict()]
        if exc.allowed:
            reply = provider.error(405)
            reply.headers["Allow"] = ", ".join(exc.allowed)
            return reply
        return provider.error(404)
    checked = provider.spec.check_request(
        operation,
        raw_params,
        list(request.query_params.multi_items()),
        {k.lower(): v for k, v in request.headers.items()},
        raw,
        request.headers.get("content-type"),
    )
    entry.operation = operation.operation_id
    entry.valid = checked.valid
    entry.issues = [i.as_dict() for i in checked.issues]
    entry.warnings = checked.warnings

    if provider.settings.latency_ms:
        await asyncio.sleep(provider.settings.latency_ms / 1000)
    fault = provider.faults.take(request.method, request.url.path, operation.operation_id)
    if fault is not None:
        entry.fault = fault.kind
        if not (fault.kind == "timeout" and fault.process):
            return await _fault_reply(provider, fault)
    reply = await _handle(provider, request, entry, checked)
    if fault is not None:
        await provider.faults.hold(fault.seconds)
    return reply


async def _fault_reply(provider: CloudProvider, fault: Fault) -> Reply:
    if fault.kind == "timeout":
        await provider.faults.hold(fault.seconds)
        return provider.error(504, fault.message)
    if fault.kind == "rate_limit":
        reply = provider.error(429, fault.message)
        reply.headers["Retry-After"] = str(fault.retry_after)
        return reply
    return provider.error(fault.status, fault.message)


async def _handle(
    provider: CloudProvider, request: Request, entry: LoggedRequest, checked: CheckedRequest
) -> Reply:
    operation = checked.operation
    header = request.headers.get("authorization")
    optional = operation.operation_id in provider.optional_auth
    if (not operation.public and not optional) or (optional and header):
        entry.auth = provider.authorize(header)
        if entry.auth != "ok":
            return provider.error(401)
    path_issues = [i for i in checked.issues if i.location == "path"]
    if path_issues:
        return provider.error(404)
    if checked.issues:
        return provider.invalid_request(checked.issues)
    call = Call(request, checked, provider.state.now())
    try:
        return await provider.handlers[operation.operation_id](call)
    except ApiError as exc:
        return provider.error(exc.status, exc.message, exc.field)
