"""Security headers on every response the gateway sends, its own and the services' (a header
the service set itself is left alone).

API responses get a Content-Security-Policy that allows nothing and forbids framing; the
Swagger UI page gets one that lets it load its script and styles from the CDN FastAPI uses.
HSTS is sent when the client reached us over HTTPS: FORWARDED_PROTO=https (TLS ends at a load
balancer in front), a TLS connection, or X-Forwarded-Proto from a trusted proxy.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.client_address import ClientAddressResolver

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
    b"connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


class SecurityHeaders:
    """Which headers a response gets; used by the middleware below and by the edge envelope."""

    def __init__(
        self, *, forwarded_proto: str, hsts_max_age: int, addresses: ClientAddressResolver
    ) -> None:
        self.always_https = forwarded_proto == "https"
        self.addresses = addresses
        base = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self.api_headers = [*base, (b"content-security-policy", API_CSP)]
        self.docs_headers = [*base, (b"content-security-policy", DOCS_CSP)]
        hsts = (b"strict-transport-security", b"max-age=%d; includeSubDomains" % hsts_max_age)
        self.api_https_headers = [*self.api_headers, hsts]
        self.docs_https_headers = [*self.docs_headers, hsts]

    def for_scope(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        docs = scope["path"] in DOCS_PATHS
        if self._https(scope):
            return self.docs_https_headers if docs else self.api_https_headers
        return self.docs_headers if docs else self.api_headers

    @staticmethod
    def add_missing(headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> None:
        present = {name.lower() for name, _ in headers}
        headers.extend(h for h in extra if h[0] not in present)

    def _https(self, scope: Scope) -> bool:
        if self.always_https or scope.get("scheme") == "https":
            return True
        if not self.addresses.trusted:
            return False
        client = scope.get("client")
        if client is None or not self.addresses.is_trusted(client[0]):
            return False
        return any(
            name == b"x-forwarded-proto" and value.strip().lower() == b"https"
            for name, value in scope["headers"]
        )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, policy: SecurityHeaders) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.policy.for_scope(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                self.policy.add_missing(headers, extra)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
