"""Sentry init with the fleet's integrations and a `before_send` that drops every secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.arq import ArqIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.redis import RedisIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.types import Event, Hint
from starlette.types import Scope

from webrana_common.errors import AppError
from webrana_common.metrics import route_template
from webrana_common.settings import ServiceSettings

FILTERED = "[Filtered]"
_SECRET_WORDS = (
    r"authorization|cookie|password|passwd|secret|token|api[-_]?key|private[-_]?key|"
    r"signature|credential|session|dsn"
)
_SECRET_KEY = re.compile(f"({_SECRET_WORDS})", re.IGNORECASE)
# Secrets inside free text: log messages, URLs, and the reprs of local variables that Sentry
# attaches to stack frames (a pydantic body `Login(password='...')`, a raw JSON body).
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,2}")  # also when cut short
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>[\w-]*(?:{_SECRET_WORDS})[\w-]*['"]?\s*[:=]\s*)
    (?:(?P<quote>['"])(?P<quoted>.*?)(?P=quote) | (?P<bare>(?!bearer\s)[^\s&,;)}}\]'"]+))
    """
)


def _filter_value(match: re.Match[str]) -> str:
    quote = match["quote"] or ""
    return f"{match['key']}{quote}{FILTERED}{quote}"


def scrub_text(value: str) -> str:
    value = _BEARER.sub("Bearer " + FILTERED, value)
    value = _JWT.sub(FILTERED, value)
    return _KEY_VALUE.sub(_filter_value, value)


def scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, dict):
        return {
            k: FILTERED if isinstance(k, str) and _SECRET_KEY.search(k) else scrub(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs in some places.
        if (
            len(value) == 2
            and isinstance(value[0], str)
            and _SECRET_KEY.search(value[0])
            and isinstance(value[1], str)
        ):
            return [value[0], FILTERED]
        return [scrub(v, depth + 1) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    exc_info = hint.get("exc_info")
    if exc_info and isinstance(exc_info[1], AppError) and exc_info[1].status < 500:
        return None  # an expected client error is not a bug
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        if "data" in request:
            request["data"] = scrub(request["data"])
    return scrub(event)


def request_integrations_active() -> bool:
    """True when sentry-sdk's own Starlette/FastAPI integrations run (with tracing): they then
    scope, describe and report each request themselves."""
    return sentry_sdk.get_client().get_integration(StarletteIntegration) is not None


def _request_data(scope: Scope) -> dict[str, Any]:
    """What Sentry's ASGI integration would attach, minus the body and cookies (before_send
    scrubs the headers and the query string)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1")
        if name != "cookie":
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    host = headers.get("host")
    if host is None and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    scheme = scope.get("scheme", "http")
    return {
        "method": scope.get("method", "GET"),
        "url": f"{scheme}://{host or 'localhost'}{scope.get('root_path', '')}{scope['path']}",
        "query_string": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
    }


@contextmanager
def request_scope(scope: Scope, request_id: str) -> Iterator[None]:
    """One isolation scope per request, tagged with its request id. Without tracing, the SDK's
    Starlette/FastAPI integrations are not installed (they cost 150-300 us of CPU per request,
    for every request): the request is attached here, only to an event that happens, and an
    exception escaping the app is reported here."""
    if request_integrations_active():
        # Their middleware, outside this one, scoped the request and reports from there.
        sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)
        yield
        return
    with sentry_sdk.isolation_scope() as isolation:
        isolation.set_tag("request_id", request_id)

        def describe(event: Event, _hint: Hint) -> Event:
            event.setdefault("request", _request_data(scope))
            event.setdefault("transaction", route_template(scope))
            return event

        isolation.add_event_processor(describe)
        try:
            yield
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
            raise


def init_sentry(settings: ServiceSettings) -> bool:
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    tracing = settings.sentry_traces_sample_rate > 0
    integrations: list[Integration] = [ArqIntegration(), LoggingIntegration(event_level=None)]
    if tracing:
        # Request transactions, and spans for queries, calls and Redis. Without tracing they
        # would only add breadcrumbs and request bookkeeping, at a cost measured at 4-11% of a
        # service's CPU under load; `request_scope` then reports requests' errors.
        integrations += [
            StarletteIntegration(failed_request_status_codes={*range(500, 600)}),
            FastApiIntegration(failed_request_status_codes={*range(500, 600)}),
            SqlalchemyIntegration(),
            HttpxIntegration(),
            RedisIntegration(),
        ]
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment or settings.environment,
        release=settings.sentry_release,
        # 0 would keep tracing switched on with nothing kept, every request still building
        # its spans; None switches it off.
        traces_sample_rate=settings.sentry_traces_sample_rate if tracing else None,
        send_default_pii=False,
        # Bodies hold passwords and tokens, and reading one to attach it to events was
        # done for every request (a second JSON parse per POST), not only for the rare error.
        max_request_body_size="never",
        before_send=before_send,  # type: ignore[arg-type]
        # Only the integrations above: auto-enabled ones would instrument every library found.
        auto_enabling_integrations=False,
        integrations=integrations,
    )
    # The global scope: a tag set on the lifespan's own scope would not reach request events.
    sentry_sdk.get_global_scope().set_tag("service", settings.service_name)
    return True
