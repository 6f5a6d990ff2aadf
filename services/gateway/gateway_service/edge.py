"""The hot path, pure ASGI (no FastAPI, no Request objects). `claim` runs first for every
request: normalise the path (400 if ambiguous, 404 for /internal/**) and find the route (else
the gateway's own FastAPI routes answer). Then, for a route: refuse oversized bodies (413) and
admin calls from outside ADMIN_ALLOWED_CIDRS (403), check the token, count the call against its
rate limit (429), require a token / the admin role (401/403), consult the service's circuit
breaker (503) and forward.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from gateway_service.circuit_breaker import CircuitBreaker
from gateway_service.client_address import ClientAddress, in_networks
from gateway_service.edge_auth import (
    Identity,
    TokenInvalid,
    bearer_token,
    query_token,
    subprotocol_token,
)
from gateway_service.paths import PathRejected, is_internal, normalize_path
from gateway_service.problems import (
    AdminNetworkForbidden,
    BodyTooLarge,
    CircuitOpen,
    PathInvalid,
    RouteNotFound,
    UpstreamNotConfigured,
    send_problem,
)
from gateway_service.proxy import ClientDisconnected, ForwardedRequest, connection_tokens
from gateway_service.routes import Access, Route, access_for, match_route, match_websocket_route
from gateway_service.runtime import GatewayRuntime
from gateway_service.upstream_pool import UpstreamPool
from gateway_service.websocket_proxy import WebSocketProxy
from webrana_common.errors import AppError, BadRequest, Forbidden, TooManyRequests, Unauthorized

# Request headers the edge reads, each into its slot, in one pass over the headers.
AUTHORIZATION, CONTENT_LENGTH, TRANSFER_ENCODING, HOST = 0, 1, 2, 3
FORWARDED_FOR, FORWARDED_PROTO, FORWARDED_HOST, CONNECTION = 4, 5, 6, 7
_SLOTS = {
    b"authorization": AUTHORIZATION,
    b"content-length": CONTENT_LENGTH,
    b"transfer-encoding": TRANSFER_ENCODING,
    b"host": HOST,
    b"x-forwarded-for": FORWARDED_FOR,
    b"x-forwarded-proto": FORWARDED_PROTO,
    b"x-forwarded-host": FORWARDED_HOST,
    b"connection": CONNECTION,
}
_LISTS = (FORWARDED_FOR, CONNECTION)  # several lines of these are one comma-separated list


@dataclass(slots=True)
class Admission:
    identity: Identity | None
    rate_headers: list[tuple[bytes, bytes]]


class Refused(Exception):
    def __init__(self, error: AppError, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.error = error
        self.headers = headers or []


@dataclass(slots=True)
class Claim:
    """What `Edge.claim` decided for a request, kept in its scope under "gateway"."""

    path: str
    target: bytes
    route: Route | None = None
    error: AppError | None = None


class Edge:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self.runtime = runtime
        self.websockets = WebSocketProxy(runtime)

    def claim(self, scope: Scope) -> bool:
        """Whether the edge answers this request (a route to forward, a refused path, any
        WebSocket); if not, the scope's path is normalised for the gateway's own routes."""
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        try:
            path, target = normalize_path(raw)
        except PathRejected as exc:
            scope["gateway"] = Claim("", b"", error=PathInvalid(str(exc)))
            return True
        if is_internal(path):
            # Not "forbidden": to a client, /internal/** does not exist.
            error = RouteNotFound(f"No route matches {path}")
            scope["gateway"] = Claim(path, target, error=error)
            return True
        if scope["type"] == "websocket":
            route = match_websocket_route(path)
            error = None if route else RouteNotFound(f"No WebSocket route at {path}")
            scope["gateway"] = Claim(path, target, route, error)
            return True
        route = match_route(path)
        if route is None:
            if path != scope["path"]:
                scope["path"], scope["raw_path"] = path, target
            return False
        scope["gateway"] = Claim(path, target, route)
        scope["route"] = route  # the metrics label: the route pattern, never the raw path
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claim: Claim = scope["gateway"]
        if claim.error is not None:
            await send_problem(scope, receive, send, claim.error)
            return
        route = claim.route
        assert route is not None
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, route, claim.path, claim.target)
            return
        try:
            await self._http(scope, receive, send, route, claim.path, claim.target)
        except Refused as refused:
            await send_problem(scope, receive, send, refused.error, refused.headers)
        except ClientDisconnected:
            return

    async def _http(
        self, scope: Scope, receive: Receive, send: Send, route: Route, path: str, target: bytes
    ) -> None:
        runtime = self.runtime
        found = _scan(scope["headers"])
        client = self._client(scope, found[FORWARDED_FOR])
        encoding = found[TRANSFER_ENCODING]
        chunked = encoding is not None and b"chunked" in encoding.lower()
        limit = runtime.body_limits.for_path(path)
        content_length = None
        if found[CONTENT_LENGTH] is not None and not chunked:
            try:
                content_length = int(found[CONTENT_LENGTH])  # type: ignore[arg-type]
            except ValueError:
                raise Refused(BadRequest("Content-Length is not a number")) from None
            if content_length > limit:
                raise Refused(BodyTooLarge(limit))
        access = access_for(route, scope["method"], path)
        token = bearer_token(found[AUTHORIZATION])
        admission = await self._admit(scope, route, access, client, token)
        forwarded_host = found[FORWARDED_HOST] if client.via_trusted_proxy else None
        request = ForwardedRequest(
            target=target,
            forwarded_for=self._forwarded_for(scope, client, found[FORWARDED_FOR]),
            forwarded_proto=self._forwarded_proto(scope, client, found[FORWARDED_PROTO]),
            forwarded_host=forwarded_host or found[HOST] or b"",
            content_length=content_length,
            chunked=chunked,
            body_limit=limit,
            connection_tokens=connection_tokens(found[CONNECTION])
            if found[CONNECTION]
            else frozenset(),
        )
        pool, breaker = self._upstream(route, admission)
        try:
            await runtime.forwarder.forward(
                scope, receive, send, pool, breaker, request, admission.rate_headers
            )
        except AppError as exc:
            raise Refused(exc, admission.rate_headers) from exc

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, route: Route, path: str, target: bytes
    ) -> None:
        found = _scan(scope["headers"])
        client = self._client(scope, found[FORWARDED_FOR])
        token = (
            bearer_token(found[AUTHORIZATION])
            or subprotocol_token(scope.get("subprotocols"))
            or query_token(scope.get("query_string", b""))
        )
        try:
            self._check_origin(scope)
            admission = await self._admit(
                scope, route, access_for(route, "GET", path), client, token
            )
            pool, breaker = self._upstream(route, admission)
        except Refused as refused:
            await send_problem(scope, receive, send, refused.error, refused.headers)
            return
        await self.websockets.serve(
            scope,
            receive,
            send,
            pool=pool,
            breaker=breaker,
            target=target,
            forwarded_for=self._forwarded_for(scope, client, found[FORWARDED_FOR]),
            forwarded_proto=self._forwarded_proto(scope, client, found[FORWARDED_PROTO]),
        )

    async def _admit(
        self,
        scope: Scope,
        route: Route,
        access: Access,
        client: ClientAddress,
        token: str | None,
    ) -> Admission:
        runtime = self.runtime
        if route.admin and runtime.admin_networks:
            if not in_networks(client.ip, runtime.admin_networks):
                raise Refused(
                    AdminNetworkForbidden("Admin routes are not reachable from this network")
                )
        identity = None
        token_error: TokenInvalid | None = None
        if token is not None:
            try:
                identity = await runtime.authenticator.authenticate(token)
            except TokenInvalid as exc:
                token_error = exc
        rate_headers: list[tuple[bytes, bytes]] = []
        limiter = runtime.limiter
        rate_class = access.rate_class
        if rate_class == "webhook" and not _has_header(scope, access.signature_header):
            rate_class = "write"
        if limiter is not None and rate_class != "webhook":
            who = identity.rate_key if identity else f"ip:{_bucket(client.ip)}"
            decision = await limiter.check(rate_class, who)
            rate_headers = decision.headers()
            if not decision.allowed:
                raise Refused(
                    TooManyRequests(
                        f"Too many {rate_class} requests; retry in {decision.retry_after} s",
                        retry_after=decision.retry_after,
                    ),
                    rate_headers,
                )
        if not access.public:
            if token is None:
                raise Refused(
                    Unauthorized("Missing bearer token", code="token_missing"), rate_headers
                )
            if identity is None:
                error = Unauthorized(str(token_error), code="token_invalid")
                error.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                raise Refused(error, rate_headers)
        if route.admin and (identity is None or not identity.is_admin):
            raise Refused(
                Forbidden("This route requires the admin role", code="admin_required"), rate_headers
            )
        return Admission(identity, rate_headers)

    def _check_origin(self, scope: Scope) -> None:
        """WebSocket handshakes are not subject to CORS: a page on any site may open one with
        the user's credentials. With CORS_ORIGINS set, browsers from elsewhere are refused."""
        allowed = self.runtime.cors_origins
        if not allowed:
            return
        for name, value in scope["headers"]:
            if name == b"origin" and value.decode("latin-1") not in allowed:
                error = Forbidden("This origin may not open WebSockets", code="origin_forbidden")
                raise Refused(error)

    def _upstream(self, route: Route, admission: Admission) -> tuple[UpstreamPool, CircuitBreaker]:
        runtime = self.runtime
        service = route.service
        pool = runtime.pools.get(service)
        if pool is None:
            error = UpstreamNotConfigured(service, f"The {service} service is not configured")
            raise Refused(error, admission.rate_headers)
        breaker = runtime.breakers[service]
        if not breaker.allow():
            runtime.metrics.upstream_outcome(service, "circuit_open")
            raise Refused(CircuitOpen(service, breaker.retry_after()), admission.rate_headers)
        return pool, breaker

    def _client(self, scope: Scope, forwarded_for: bytes | None) -> ClientAddress:
        peer = scope.get("client")
        return self.runtime.addresses.resolve(peer[0] if peer else "0.0.0.0", forwarded_for)

    def _forwarded_for(self, scope: Scope, client: ClientAddress, incoming: bytes | None) -> bytes:
        peer = scope.get("client")
        peer_ip = (peer[0] if peer else "0.0.0.0").encode("ascii")
        if client.via_trusted_proxy and incoming:
            return incoming + b", " + peer_ip
        return peer_ip

    def _forwarded_proto(
        self, scope: Scope, client: ClientAddress, incoming: bytes | None
    ) -> bytes:
        if client.via_trusted_proxy and incoming:
            return incoming
        proto = self.runtime.forwarded_proto
        if proto is not None:
            return proto
        return b"https" if scope.get("scheme") in ("https", "wss") else b"http"


def _scan(headers: list[tuple[bytes, bytes]]) -> list[bytes | None]:
    found: list[bytes | None] = [None] * 8
    for name, value in headers:
        slot = _SLOTS.get(name)
        if slot is not None:
            previous = found[slot]
            if previous is not None and slot in _LISTS:
                value = previous + b", " + value
            found[slot] = value
    return found


def _has_header(scope: Scope, name: bytes | None) -> bool:
    return name is not None and any(n == name and v for n, v in scope["headers"])


def _bucket(ip: str) -> str:
    """IPv6 clients are limited per /64: one subscriber usually holds a whole /64."""
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        return ip
