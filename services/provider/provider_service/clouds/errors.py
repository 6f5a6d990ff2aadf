"""Typed provider errors: every answer of a cloud becomes one of these, with a precise `code`.

Each carries `provider` in its problem body. The provider's own message is carried through
(`provider_message`) where it explains a refusal; credentials never appear in any of them.
"""

from __future__ import annotations

from typing import Any

from webrana_common.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    UpstreamError,
    ValidationFailed,
)


class UnknownProvider(NotFound):
    code = "provider_unknown"
    title = "Unknown provider"


class ProviderDisabled(ServiceUnavailable):
    code = "provider_disabled"
    title = "Provider disabled"


class ProviderNotConfigured(ServiceUnavailable):
    code = "provider_not_configured"
    title = "Provider not configured"


class ProviderAuthFailed(UpstreamError):
    """The provider refused our credentials (401/403): an operator must fix the token."""

    code = "provider_auth_failed"
    title = "Provider refused our credentials"


class ProviderResourceNotFound(NotFound):
    code = "provider_resource_not_found"
    title = "Not found at the provider"


class InstanceNotFound(ProviderResourceNotFound):
    code = "instance_not_found"
    title = "Instance not found"


class ActionNotFound(ProviderResourceNotFound):
    code = "action_not_found"
    title = "Action not found"


class ProviderRejected(ValidationFailed):
    """A 4xx refusal (bad size, busy server, ...); `provider_message` says why in the
    provider's words."""

    code = "provider_rejected"
    title = "Provider rejected the request"


class ProviderRateLimited(TooManyRequests):
    code = "provider_rate_limited"
    title = "Provider rate limit reached"


class ProviderUnavailable(ServiceUnavailable):
    """5xx, timeouts, connection failures, after the retries the deadline allowed.

    `outcome_unknown` is set when a non-idempotent request may have reached the provider
    (a create that timed out may have built a server): never blindly repeat it."""

    code = "provider_unavailable"
    title = "Provider unavailable"

    def __init__(self, detail: str | None = None, *, outcome_unknown: bool = False, **kw: Any):
        super().__init__(detail, **kw)
        self.outcome_unknown = outcome_unknown


class NotSupported(BadRequest):
    """The provider cannot do this (see `GET /internal/providers`)."""

    code = "not_supported"
    title = "Not supported by this provider"


class ActionNotSupported(NotSupported):
    code = "action_not_supported"


class ConsoleNotSupported(NotSupported):
    code = "console_not_supported"


class RebuildImageNotSupported(NotSupported):
    code = "rebuild_image_not_supported"


class ActionTrackingNotSupported(NotSupported):
    code = "action_tracking_not_supported"


class SshKeyNotSupported(ValidationFailed):
    code = "ssh_key_not_supported"
    title = "SSH key not usable with this provider"


class InvalidImage(ValidationFailed):
    code = "image_invalid"
    title = "Image not usable with this provider"


class InvalidInstanceId(NotFound):
    """An id that cannot exist at this provider (wrong shape) is simply not found there."""

    code = "instance_not_found"
    title = "Instance not found"


class ConsoleNotReady(Conflict):
    code = "console_not_ready"
    title = "Console not ready yet"


class ServerNotPoweredOff(ServiceUnavailable):
    """Linode's password reset waited for the power-off longer than allowed."""

    code = "power_off_timeout"
    title = "Server did not power off in time"
