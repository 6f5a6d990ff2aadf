"""The one exception hierarchy of the fleet.

Services raise these (or subclasses with a more precise `code`) from their rules; the handlers
in `problem.py` render them as RFC 9457 problem+json. Only `AppError`s with a 5xx status are
reported to Sentry.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        if code:
            self.code = code
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)


class BadRequest(AppError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    title = "Request validation failed"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(AppError):
    status = 410
    code = "gone"
    title = "Gone"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **kw: Any):
        super().__init__(detail, **kw)
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, int(retry_after)))
            self.extra.setdefault("retry_after", max(1, int(retry_after)))


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


class UpstreamError(AppError):
    """Another service or an outside system answered badly."""

    status = 502
    code = "upstream_error"
    title = "Bad gateway"
