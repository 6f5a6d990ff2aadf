"""The part of a stand-in that is one provider: its spec, its error shape, its auth and
rate-limit headers, and a handler per operation of its spec."""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.requests import Request

from devstack.sandbox.cloud.faults import FaultQueue
from devstack.sandbox.cloud.machines import AddressPool, CloudState, Machine, ServerId
from devstack.sandbox.cloud.requestlog import RequestLog
from devstack.sandbox.cloud.schemas import Issue
from devstack.sandbox.cloud.settings import CloudSandboxSettings
from devstack.sandbox.cloud.spec import ApiSpec, CheckedRequest


class ApiError(Exception):
    """Answer `status` in the provider's error shape."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class Reply:
    status: int
    body: Any = None  # None: no body at all
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    request: Request
    checked: CheckedRequest
    now: float

    @property
    def body(self) -> dict[str, Any]:
        body = self.checked.body
        return body if isinstance(body, dict) else {}

    @property
    def path(self) -> dict[str, Any]:
        return self.checked.path_params

    @property
    def query(self) -> dict[str, Any]:
        return self.checked.query

    @property
    def base_url(self) -> str:
        """Where the client reached us (`http://127.0.0.1:3993`), for links in bodies."""
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[Call], Awaitable[Reply]]

DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Unable to authenticate you",
    404: "The resource you requested could not be found",
    405: "Method not allowed",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class CloudProvider(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    spec_file: ClassVar[str]
    spec_options: ClassVar[dict[str, Any]] = {}
    # Schema for error bodies of statuses the spec declares without one (Vultr).
    error_pointer: ClassVar[str | None] = None
    # Operations that need no token, but check one that is sent (Linode's public images).
    optional_auth: ClassVar[frozenset[str]] = frozenset()
    # The provider's wording of common errors, over DEFAULT_MESSAGES.
    messages: ClassVar[dict[int, str]] = {}

    def __init__(self, settings: CloudSandboxSettings) -> None:
        self.settings = settings
        self.initial_settings = settings.model_copy()
        self.spec = ApiSpec.load(self.spec_file, name=self.name, **self.spec_options)
        self.state = CloudState(self.new_server_id, self.address_pool)
        self.faults = FaultQueue()
        self.log = RequestLog(settings.request_log_limit)
        self.handlers: dict[str, Handler] = self.operations()
        missing = set(self.spec.by_id) - set(self.handlers)
        if missing:
            raise RuntimeError(f"{self.name}: no handler for {sorted(missing)}")

    @abstractmethod
    def operations(self) -> dict[str, Handler]:
        """A handler for each operationId of the spec."""

    @abstractmethod
    def error_body(self, status: int, message: str, field: str | None = None) -> dict[str, Any]:
        """The provider's error JSON."""

    @abstractmethod
    def new_server_id(self) -> ServerId: ...

    @abstractmethod
    def address_pool(self) -> AddressPool: ...

    @abstractmethod
    def render_server(self, machine: Machine, base_url: str) -> dict[str, Any]:
        """The server as the provider's API shows it (for the control API's view)."""

    def rate_limit_headers(self, now: float, *, retry_after: int | None = None) -> dict[str, str]:
        return {} if retry_after is None else {"Retry-After": str(retry_after)}

    def error(self, status: int, message: str | None = None, field: str | None = None) -> Reply:
        text = message or self.messages.get(status) or DEFAULT_MESSAGES.get(status, "Error")
        return Reply(status, self.error_body(status, text, field))

    def invalid_request(self, issues: list[Issue]) -> Reply:
        first = issues[0]
        label = f"{first.field} " if first.field else ""
        return self.error(400, f"{label}{first.message}".strip(), first.field)

    def authorize(self, header: str | None) -> str:
        """ "ok", "missing" or "invalid" for an `Authorization: Bearer <token>` header."""
        if not header:
            return "missing"
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "invalid"
        expected = self.settings.token
        if expected and not hmac.compare_digest(token.strip().encode(), expected.encode()):
            return "invalid"
        return "ok"

    def reset(self) -> None:
        for name in type(self.settings).model_fields:
            setattr(self.settings, name, getattr(self.initial_settings, name))
        self.state.reset()
        self.faults.clear()
        self.log.clear()

    def server_view(self, machine: Machine, base_url: str) -> dict[str, Any]:
        """Everything the sandbox knows of a server, for tests to assert on."""
        now = self.state.now()
        machine.refresh(now)
        return {
            "id": machine.id,
            "name": machine.name,
            "state": machine.state.value,
            "busy": machine.busy(now),
            "region": machine.region,
            "size": machine.size,
            "image": machine.image,
            "tags": machine.tags,
            "user_data": machine.user_data,
            "ssh_keys": machine.ssh_keys,
            "root_password": machine.root_password,
            "ipv4_public": machine.ipv4_public,
            "ipv4_private": machine.ipv4_private,
            "ipv6": machine.ipv6,
            "options": machine.options,
            "jobs": [
                {"id": j.id, "kind": j.kind, "status": j.status(now), **j.detail}
                for j in self.state.jobs_of(machine.id)
            ],
            "api": self.render_server(machine, base_url),
        }
