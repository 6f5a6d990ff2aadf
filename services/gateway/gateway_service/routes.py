"""The route table: which service answers which public path, and who may call it.

Only what is listed here is ever forwarded; everything else is the gateway's own (health, docs)
or a 404. The table mirrors ARCHITECTURE.md; the public allowlist is code, not configuration,
so that opening a route to anonymous callers goes through review.
"""

from __future__ import annotations

from dataclasses import dataclass

# Services the gateway forwards to (provider is internal only).
PROXIED_SERVICES = ("auth", "catalog", "order", "billing", "notification", "instance")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    service: str
    admin: bool = False
    websocket: bool = False

    @property
    def path(self) -> str:
        """The metric label (`route` in http_requests_total): the pattern, never the raw path."""
        return self.prefix if self.prefix.endswith(".json") else f"{self.prefix}/**"


ROUTES: tuple[Route, ...] = (
    Route("/.well-known/jwks.json", "auth"),
    Route("/api/v1/auth", "auth"),
    Route("/api/v1/admin/users", "auth", admin=True),
    Route("/api/v1/admin/audit", "auth", admin=True),
    Route("/api/v1/catalog", "catalog"),
    Route("/api/v1/admin/catalog", "catalog", admin=True),
    Route("/api/v1/orders", "order"),
    Route("/api/v1/admin/orders", "order", admin=True),
    Route("/api/v1/billing", "billing"),
    Route("/api/v1/admin/billing", "billing", admin=True),
    Route("/api/v1/notifications", "notification"),
    Route("/api/v1/admin/notifications", "notification", admin=True),
    Route("/api/v1/instances", "instance"),
    Route("/api/v1/admin/instances", "instance", admin=True),
)

WEBSOCKET_ROUTES: tuple[Route, ...] = (
    Route("/api/v1/notifications/ws", "notification", websocket=True),
    Route("/api/v1/instances/console/ws", "instance", websocket=True),
)


@dataclass(frozen=True, slots=True)
class Access:
    """How the edge treats one method on one path."""

    public: bool
    rate_class: str  # auth | read | write | webhook
    # Webhooks are exempt from rate limits when they carry their sender's signature header
    # (the service verifies the signature itself); without it they count as writes.
    signature_header: bytes | None = None


_AUTH = Access(public=True, rate_class="auth")
_POST = frozenset({"POST"})
_READ = frozenset({"GET", "HEAD"})
PUBLIC_ENDPOINTS: dict[str, tuple[frozenset[str], Access]] = {
    "/api/v1/auth/register": (_POST, _AUTH),
    "/api/v1/auth/login": (_POST, _AUTH),
    "/api/v1/auth/refresh": (_POST, _AUTH),
    # Takes the refresh token in its body: a client whose access token expired can still end
    # its session.
    "/api/v1/auth/logout": (_POST, _AUTH),
    "/api/v1/auth/forgot-password": (_POST, _AUTH),
    "/api/v1/auth/reset-password": (_POST, _AUTH),
    "/api/v1/auth/verify-email": (_POST, _AUTH),
    "/api/v1/auth/resend-verification": (_POST, _AUTH),
    "/.well-known/jwks.json": (_READ, Access(public=True, rate_class="read")),
    # Marketing mail's one-click unsubscribe (RFC 8058): the signed token in the link is the
    # credential, and mail clients POST to it without any session.
    "/api/v1/notifications/unsubscribe": (_READ | _POST, _AUTH),
    "/api/v1/billing/callbacks/tripay": (
        _POST,
        Access(public=True, rate_class="webhook", signature_header=b"x-callback-signature"),
    ),
    "/api/v1/notifications/telegram/webhook": (
        _POST,
        Access(
            public=True,
            rate_class="webhook",
            signature_header=b"x-telegram-bot-api-secret-token",
        ),
    ),
}
_PUBLIC_READ = Access(public=True, rate_class="read")
_PRIVATE_READ = Access(public=False, rate_class="read")
_PRIVATE_WRITE = Access(public=False, rate_class="write")


def access_for(route: Route, method: str, path: str) -> Access:
    endpoint = PUBLIC_ENDPOINTS.get(path)
    if endpoint is not None and method in endpoint[0]:
        return endpoint[1]
    if method in READ_METHODS:
        if route.service == "catalog" and not route.admin and method != "OPTIONS":
            return _PUBLIC_READ
        return _PRIVATE_READ
    return _PRIVATE_WRITE


def is_public(method: str, path: str) -> bool:
    """For the API document: whether an operation needs no token at the edge."""
    route = match_route(path)
    return route is not None and access_for(route, method.upper(), path).public


_BY_PREFIX = {route.prefix: route for route in ROUTES}
_WS_BY_PREFIX = {route.prefix: route for route in WEBSOCKET_ROUTES}
_MAX_SEGMENTS = max(r.prefix.count("/") for r in (*ROUTES, *WEBSOCKET_ROUTES))


def _longest_prefix(table: dict[str, Route], path: str) -> Route | None:
    """The route whose prefix is the longest whole-segment prefix of `path`: a few dict
    lookups, however long the table."""
    cuts = []
    position = 0
    for _ in range(_MAX_SEGMENTS):
        position = path.find("/", position + 1)
        if position < 0:
            break
        cuts.append(position)
    if len(cuts) < _MAX_SEGMENTS:
        route = table.get(path)
        if route is not None:
            return route
    for cut in reversed(cuts):
        route = table.get(path[:cut])
        if route is not None:
            return route
    return None


def match_route(path: str) -> Route | None:
    return _longest_prefix(_BY_PREFIX, path)


def match_websocket_route(path: str) -> Route | None:
    return _longest_prefix(_WS_BY_PREFIX, path)


class BodyLimits:
    """The request body limit of a path: MAX_BODY_BYTES unless ROUTE_BODY_LIMITS names a prefix
    of it (the longest such prefix wins)."""

    def __init__(self, default: int, overrides: dict[str, int]) -> None:
        self.default = default
        self._overrides = sorted(overrides.items(), key=lambda item: len(item[0]), reverse=True)

    def for_path(self, path: str) -> int:
        for prefix, limit in self._overrides:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return limit
        return self.default
