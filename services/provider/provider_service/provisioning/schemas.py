from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from provider_service.clouds.base import InstanceStatus, ProviderName

# Also the server's lookup tag (`wbr-order-<key>`), so: characters every provider allows in a
# tag, and short enough for Linode's 50.
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
Hostname = Annotated[
    str,
    StringConstraints(
        max_length=63,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    ),
]
Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9:_-]{0,49}$")]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
SshKey = Annotated[str, StringConstraints(min_length=1, max_length=8192, strip_whitespace=True)]

TAG_PREFIX = "wbr-order-"


def lookup_tag(idempotency_key: str) -> str:
    return TAG_PREFIX + idempotency_key


class ProvisionRequestBody(BaseModel):
    idempotency_key: IdempotencyKey = Field(
        description="The order id. The same key always yields the same server."
    )
    provider: ProviderName
    region: Slug
    size: Slug
    image: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="DigitalOcean: slug or image id; Vultr: OS id; Linode: image id."
    )
    hostname: Hostname
    ssh_keys: list[SshKey] = Field(
        default=[],
        max_length=20,
        description="OpenSSH public keys (all providers), or account key ids / fingerprints "
        "(DigitalOcean) / SSH-key UUIDs (Vultr).",
    )
    user_data: str | None = Field(default=None, max_length=65_536, description="cloud-init")
    tags: list[Tag] = Field(default=[], max_length=10)

    def fingerprint(self) -> str:
        canonical = self.model_dump(mode="json", exclude={"idempotency_key"})
        encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()


class ProvisionResponse(BaseModel):
    idempotency_key: str
    provider: ProviderName
    provider_instance_id: str
    status: InstanceStatus
    provider_status: str | None = None
    lookup_tag: str
    root_password: str | None = Field(
        default=None,
        description="Present only in the answer that created the server, and only where a "
        "password exists (Linode, Vultr, DigitalOcean without SSH keys). Never stored: keep it.",
    )
    replayed: bool = Field(description="True when an earlier request with this key built it.")
    recovered_by_tag: bool = False
    create_action_id: str | None = None


class ProvisionView(BaseModel):
    idempotency_key: str
    provider: ProviderName
    state: str
    attempts: int
    provider_instance_id: str | None
    create_action_id: str | None
    recovered_by_tag: bool
    last_error_code: str | None
    last_error_detail: str | None
    created_at: datetime
    updated_at: datetime
