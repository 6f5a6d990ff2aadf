"""Request id, metrics and security headers around the edge, in one pass.

For proxied requests this does what libs/common's RequestIdMiddleware and PrometheusMiddleware
and this service's SecurityHeadersMiddleware do around the gateway's own routes, folded into
one wrapper: three middlewares cost three closures per message and three metric-label lookups
per request, a measurable share of proxying a small request (README, "Hot path"). The series
are the fleet's own (the app's HttpMetrics, route label = route pattern); labelled children are
cached instead of looked up per request.
"""

from __future__ import annotations

import time
from random import getrandbits

import sentry_sdk
from prometheus_client.metrics import MetricWrapperBase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.security_headers import SecurityHeaders
from webrana_common.metrics import KNOWN_METHODS, OTHER_METHOD, UNMATCHED, HttpMetrics
from webrana_common.problem import internal_error_response
from webrana_common.request_id import sanitize_request_id, set_request_id
from webrana_common.sentry import request_scope

_REQUEST_ID = b"x-request-id"


class EdgeEnvelope:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, security: SecurityHeaders) -> None:
        self.app = app
        self.metrics = metrics
        self.security = security
        self._in_progress: dict[str, MetricWrapperBase] = {}
        self._finished: dict[tuple[str, str, int], tuple[MetricWrapperBase, MetricWrapperBase]] = {}
        self._sentry: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                incoming = value.decode("latin-1")
                break
        # 128 random bits as 32 hex digits, like uuid4().hex, without its system call: a
        # request id must be unique, not secret.
        request_id = sanitize_request_id(incoming) or f"{getrandbits(128):032x}"
        set_request_id(request_id)
        if self._sentry is None:  # Sentry starts with the lifespan, before any request
            self._sentry = sentry_sdk.get_client().is_active()
        if self._sentry:
            with request_scope(scope, request_id):
                await self._handle(scope, receive, send, request_id)
        else:
            await self._handle(scope, receive, send, request_id)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        extra = [*self.security.for_scope(scope), (_REQUEST_ID, request_id.encode("latin-1"))]
        status = 500
        started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0] != _REQUEST_ID]
                SecurityHeaders.add_missing(headers, extra)
                message["headers"] = headers
            await send(message)

        gauge = self._in_progress.get(method)
        if gauge is None:
            gauge = self._in_progress[method] = self.metrics.in_progress.labels(
                self.metrics.service, method
            )
        gauge.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapped)
        except Exception:
            if not started:
                # As the fleet's RequestIdMiddleware: a problem+json 500 with the request id,
                # then the exception goes on to the server log and Sentry.
                await internal_error_response(scope.get("path", "/"))(scope, receive, send_wrapped)
            raise
        finally:
            gauge.dec()
            route = scope.get("route")
            key = (method, route.path if route is not None else UNMATCHED, status)
            children = self._finished.get(key)
            if children is None:
                service = self.metrics.service
                children = self._finished[key] = (
                    self.metrics.requests.labels(service, key[0], key[1], str(status)),
                    self.metrics.duration.labels(service, key[0], key[1]),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - start)
