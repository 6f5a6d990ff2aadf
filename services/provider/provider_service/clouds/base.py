"""The `CloudProvider` protocol every adapter implements, and the shapes it speaks in.

Adapters translate each provider's own vocabulary (ids, statuses, IP layout, action model)
into these; nothing above `clouds/` knows which provider it talks to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

from provider_service.clouds.errors import ActionNotSupported, InvalidInstanceId


class ProviderName(StrEnum):
    DIGITALOCEAN = "digitalocean"
    VULTR = "vultr"
    LINODE = "linode"


class InstanceStatus(StrEnum):
    """Our instance statuses (ARCHITECTURE.md), plus ERROR for a failed build or a provider
    status we do not know (kept in `provider_status`, never guessed)."""

    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    OFF = "OFF"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"


class ActionType(StrEnum):
    REBOOT = "reboot"
    POWER_ON = "power_on"
    POWER_OFF = "power_off"
    SHUTDOWN = "shutdown"
    RESET_PASSWORD = "reset_password"
    REBUILD = "rebuild"


class ActionStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ERRORED = "errored"


class Instance(BaseModel):
    provider: ProviderName
    id: str
    status: InstanceStatus
    provider_status: str
    # An operation holds the server (DigitalOcean `locked`, Vultr `server_status` not ok, a
    # Linode transition): further actions may be refused until it clears.
    busy: bool = False
    hostname: str | None = None
    region: str | None = None
    size: str | None = None
    image: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    private_ipv4: str | None = None
    tags: list[str] = []
    created_at: datetime | None = None


class CreateSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    size: str
    image: str
    hostname: str
    ssh_keys: tuple[str, ...] = ()
    user_data: str | None = None
    tags: tuple[str, ...] = ()
    # The tag that finds this server again (the order id); also in `tags`.
    lookup_tag: str
    # A strong password the service generated; an adapter uses it where the provider needs
    # one from us (`CloudProvider.uses_our_password`).
    root_password: SecretStr


class Created(BaseModel):
    instance: Instance
    # The create's action id where the provider has one (DigitalOcean).
    action_id: str | None = None
    # Shown once to the caller, never stored or logged.
    root_password: SecretStr | None = None


class ActionRequest(BaseModel):
    type: ActionType
    image: str | None = None


class ActionResult(BaseModel):
    # One of ActionType for what we started; the provider's own word for anything else it
    # reports (a DigitalOcean "create", a Linode "linode_create").
    type: str
    status: ActionStatus
    # Poll `get_action` with it; None where the provider has no action objects (Vultr): poll
    # the instance instead.
    action_id: str | None = None
    root_password: SecretStr | None = None
    note: str | None = None


class Region(BaseModel):
    id: str
    name: str
    country: str | None = None
    available: bool = True
    features: list[str] = []


class Size(BaseModel):
    id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int | None = None
    price_monthly_usd: float | None = None
    price_hourly_usd: float | None = None
    # Empty means every region.
    regions: list[str] = []
    available: bool = True


class Image(BaseModel):
    id: str
    name: str
    distribution: str | None = None
    public: bool = True
    available: bool = True


class Console(BaseModel):
    kind: Literal["novnc"]
    url: str
    note: str


class Capabilities(BaseModel):
    actions: list[ActionType]
    rebuild: Literal["any_image", "same_image"] | None
    reset_password: bool
    reset_password_powers_off: bool = False
    console: bool
    # How progress of an action is followed: an action id to poll, the provider's event log,
    # or only the instance's status.
    action_tracking: Literal["action", "event", "instance_status"]
    notes: list[str] = []


class CloudProvider(Protocol):
    name: ProviderName
    capabilities: Capabilities

    def uses_our_password(self, spec: CreateSpec) -> bool:
        """Whether `create` installs `spec.root_password` (otherwise the provider sets one, or
        only SSH keys give access)."""
        ...

    async def create(self, spec: CreateSpec) -> Created: ...

    async def get(self, instance_id: str) -> Instance: ...

    async def delete(self, instance_id: str) -> None: ...

    async def find_by_tag(self, tag: str) -> list[Instance]:
        """Every server carrying `tag`, all pages read."""
        ...

    async def action(self, instance_id: str, request: ActionRequest) -> ActionResult: ...

    async def get_action(self, instance_id: str, action_id: str) -> ActionResult: ...

    async def list_regions(self) -> list[Region]: ...

    async def list_sizes(self) -> list[Size]: ...

    async def list_images(self) -> list[Image]: ...

    async def console(self, instance_id: str) -> Console: ...


def require_action(provider: CloudProvider, action: ActionType) -> None:
    if action not in provider.capabilities.actions:
        raise ActionNotSupported(
            f"{provider.name} does not offer {action}; see GET /internal/providers",
            provider=str(provider.name),
            action=str(action),
        )


def integer_id(provider: ProviderName, instance_id: str) -> int:
    """DigitalOcean and Linode number their servers; any other id cannot exist there."""
    if not instance_id.isascii() or not instance_id.isdigit() or int(instance_id) < 1:
        raise InvalidInstanceId(f"{provider} has no instance {instance_id!r}", provider=provider)
    return int(instance_id)


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 as each provider writes it; Linode's carry no offset and are UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
