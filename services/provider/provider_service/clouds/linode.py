"""Linode API v4 (shared/refs/providers/linode.openapi.json).

Linodes have integer ids; power actions are separate endpoints answering `{}`, and progress is
in the account's event log (`GET /account/events`, one event per job). Pages: `page` /
`page_size` with `page`/`pages`/`results`; filters in a JSON `X-Filter` header.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import re
import time
from typing import Any

import httpx

from provider_service.clouds import capabilities
from provider_service.clouds.base import (
    ActionRequest,
    ActionResult,
    ActionStatus,
    ActionType,
    Console,
    Created,
    CreateSpec,
    Image,
    Instance,
    InstanceStatus,
    ProviderName,
    Region,
    Size,
    integer_id,
    parse_timestamp,
    require_action,
)
from provider_service.clouds.cloud_init import is_public_key
from provider_service.clouds.errors import (
    ConsoleNotSupported,
    InstanceNotFound,
    ServerNotPoweredOff,
    SshKeyNotSupported,
)
from provider_service.clouds.http import (
    ProviderHttp,
    ProviderMessage,
    body_text,
    reset_epoch_wait,
    retry_after_seconds,
)
from provider_service.clouds.linode_events import event_of, newest_event
from provider_service.clouds.passwords import generate_root_password

PAGE_SIZE = 500  # the API's maximum
MAX_PAGES = 1000
INSTANCES = "/linode/instances"
PRIVATE_V4 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
STATUSES: dict[str, tuple[InstanceStatus, bool]] = {
    "running": (InstanceStatus.ACTIVE, False),
    "offline": (InstanceStatus.OFF, False),
    "stopped": (InstanceStatus.OFF, False),
    "provisioning": (InstanceStatus.PROVISIONING, True),
    "booting": (InstanceStatus.PROVISIONING, True),
    "busy": (InstanceStatus.PROVISIONING, True),
    "rebuilding": (InstanceStatus.PROVISIONING, True),
    "restoring": (InstanceStatus.PROVISIONING, True),
    "rebooting": (InstanceStatus.ACTIVE, True),
    "shutting_down": (InstanceStatus.ACTIVE, True),
    "migrating": (InstanceStatus.ACTIVE, True),
    "cloning": (InstanceStatus.ACTIVE, True),
    "deleting": (InstanceStatus.TERMINATED, True),
    "billing_suspension": (InstanceStatus.SUSPENDED, False),
}


# Our action -> (endpoint, the event it writes).
ENDPOINTS = {
    ActionType.REBOOT: ("reboot", "linode_reboot"),
    ActionType.POWER_ON: ("boot", "linode_boot"),
    ActionType.POWER_OFF: ("shutdown", "linode_shutdown"),
    ActionType.SHUTDOWN: ("shutdown", "linode_shutdown"),
    ActionType.REBUILD: ("rebuild", "linode_rebuild"),
}


def parse_error(response: httpx.Response) -> ProviderMessage:
    try:
        body = response.json()
    except ValueError:
        return ProviderMessage(body_text(response))
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return ProviderMessage(body_text(response))
    reasons = [
        {"field": e.get("field"), "reason": str(e.get("reason"))}
        for e in errors
        if isinstance(e, dict)
    ]
    message = "; ".join(
        f"{r['field']}: {r['reason']}" if r["field"] else r["reason"] for r in reasons
    )
    return ProviderMessage(message, reasons)


def rate_limit_wait(response: httpx.Response) -> float | None:
    wait = retry_after_seconds(response)
    if wait is None and response.headers.get("x-ratelimit-remaining") == "0":
        wait = reset_epoch_wait(response, "x-ratelimit-reset")
    return wait


class Linode:
    name = ProviderName.LINODE
    capabilities = capabilities.LINODE

    def __init__(
        self, http: ProviderHttp, *, power_off_timeout: float = 180.0, poll_seconds: float = 3.0
    ) -> None:
        self.http = http
        self.power_off_timeout = power_off_timeout
        self.poll_seconds = poll_seconds

    def uses_our_password(self, spec: CreateSpec) -> bool:
        return True  # an image deploy requires root_pass

    async def create(self, spec: CreateSpec) -> Created:
        body: dict[str, Any] = {
            "type": spec.size,
            "region": spec.region,
            "image": spec.image,
            "label": linode_label(spec.hostname, spec.lookup_tag),
            "root_pass": spec.root_password.get_secret_value(),
            "tags": list(spec.tags),
            "booted": True,
        }
        keys = _public_keys(spec.ssh_keys)
        if keys:
            body["authorized_keys"] = keys
        if spec.user_data:
            body["metadata"] = {"user_data": base64.b64encode(spec.user_data.encode()).decode()}
        response = await self.http.request("POST", INSTANCES, json=body)
        return Created(instance=_instance(response.json()), root_password=spec.root_password)

    async def get(self, instance_id: str) -> Instance:
        linode_id = integer_id(self.name, instance_id)
        instance = _instance(await self._get_raw(linode_id))
        if instance.provider_status == "offline" and await self._create_failed(linode_id):
            instance.status = InstanceStatus.ERROR
        return instance

    async def _create_failed(self, linode_id: int) -> bool:
        """A Linode whose build failed just sits `offline`; its linode_create event says why."""
        created = await newest_event(self.http, linode_id, "linode_create", None)
        return created.status == ActionStatus.ERRORED

    async def _get_raw(self, linode_id: int) -> dict[str, Any]:
        response = await self.http.request(
            "GET", f"{INSTANCES}/{linode_id}", not_found=InstanceNotFound
        )
        return response.json()

    async def delete(self, instance_id: str) -> None:
        linode_id = integer_id(self.name, instance_id)
        await self.http.request("DELETE", f"{INSTANCES}/{linode_id}", not_found=InstanceNotFound)

    async def find_by_tag(self, tag: str) -> list[Instance]:
        linodes = await self._paged(INSTANCES, x_filter={"tags": tag})
        return [_instance(i) for i in linodes if tag in (i.get("tags") or [])]

    async def action(self, instance_id: str, request: ActionRequest) -> ActionResult:
        require_action(self, request.type)
        linode_id = integer_id(self.name, instance_id)
        if request.type == ActionType.RESET_PASSWORD:
            return await self._reset_password(linode_id)
        endpoint, event_action = ENDPOINTS[request.type]
        body: dict[str, Any] | None = None
        password = None
        if request.type == ActionType.REBUILD:
            password = generate_root_password()
            image = request.image or (await self._get_raw(linode_id)).get("image")
            body = {"image": image, "root_pass": password.get_secret_value(), "booted": True}
        await self.http.request(
            "POST", f"{INSTANCES}/{linode_id}/{endpoint}", json=body, not_found=InstanceNotFound
        )
        result = await newest_event(self.http, linode_id, event_action, request.type)
        result.root_password = password
        return result

    async def _reset_password(self, linode_id: int) -> ActionResult:
        """Linode sets a root password only on a powered-off Linode: shut it down, wait for
        `offline`, set the password, and boot it again if it was on."""
        was_on = (await self._get_raw(linode_id)).get("status") != "offline"
        if was_on:
            await self.http.request(
                "POST", f"{INSTANCES}/{linode_id}/shutdown", not_found=InstanceNotFound
            )
            await self._wait_until_offline(linode_id)
        password = generate_root_password()
        await self.http.request(
            "POST",
            f"{INSTANCES}/{linode_id}/password",
            json={"root_pass": password.get_secret_value()},
            not_found=InstanceNotFound,
        )
        if was_on:
            await self.http.request(
                "POST", f"{INSTANCES}/{linode_id}/boot", not_found=InstanceNotFound
            )
            result = await newest_event(
                self.http, linode_id, "linode_boot", ActionType.RESET_PASSWORD
            )
            note = (
                "Linode resets a root password only while the server is off: it was shut "
                "down, the new password set, and it is booting again."
            )
        else:
            result = await newest_event(
                self.http, linode_id, "password_reset", ActionType.RESET_PASSWORD
            )
            note = "The server was already off; the new password is set and it stays off."
        result.root_password = password
        result.note = note
        return result

    async def _wait_until_offline(self, linode_id: int) -> None:
        deadline = time.monotonic() + self.power_off_timeout
        while (await self._get_raw(linode_id)).get("status") != "offline":
            if time.monotonic() + self.poll_seconds > deadline:
                raise ServerNotPoweredOff(
                    f"linode {linode_id} was not offline after {self.power_off_timeout:g} s; "
                    "the password was not changed",
                    provider=self.name,
                )
            await asyncio.sleep(self.poll_seconds)

    async def get_action(self, instance_id: str, action_id: str) -> ActionResult:
        return await event_of(self.http, integer_id(self.name, instance_id), action_id)

    async def console(self, instance_id: str) -> Console:
        raise ConsoleNotSupported(
            "Linode's public API has no console (LISH) endpoint", provider=self.name
        )

    async def list_regions(self) -> list[Region]:
        return [
            Region(
                id=r["id"],
                name=r.get("label") or r["id"],
                country=(r.get("country") or "").upper() or None,
                available=r.get("status", "ok") == "ok",
                features=list(r.get("capabilities") or []),
            )
            for r in await self._paged("/regions", declares_paging=False)
        ]

    async def list_sizes(self) -> list[Size]:
        return [
            Size(
                id=t["id"],
                vcpus=t["vcpus"],
                memory_mb=t["memory"],
                disk_gb=t["disk"] // 1024,  # Linode gives disk in MB
                transfer_gb=t.get("transfer"),
                price_monthly_usd=(t.get("price") or {}).get("monthly"),
                price_hourly_usd=(t.get("price") or {}).get("hourly"),
            )
            for t in await self._paged("/linode/types", declares_paging=False)
        ]

    async def list_images(self) -> list[Image]:
        return [
            Image(
                id=i["id"],
                name=i.get("label") or i["id"],
                distribution=i.get("vendor"),
                public=bool(i.get("is_public")),
                available=i.get("status") == "available" and not i.get("deprecated"),
            )
            for i in await self._paged("/images")
        ]

    async def _paged(
        self,
        path: str,
        *,
        x_filter: dict[str, Any] | None = None,
        declares_paging: bool = True,
    ) -> list[dict[str, Any]]:
        """Every item, page by page until `pages`. /regions and /linode/types declare no query
        parameters, so they get `page` only past the first page and never `page_size`."""
        headers = {"X-Filter": json.dumps(x_filter)} if x_filter else None
        items: list[dict[str, Any]] = []
        page = 1
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {}
            if declares_paging:
                params = {"page": page, "page_size": PAGE_SIZE}
            elif page > 1:
                params = {"page": page}
            body = (await self.http.request("GET", path, params=params, headers=headers)).json()
            batch = body.get("data") or []
            items.extend(batch)
            if not batch or page >= int(body.get("pages") or 1):
                break
            page += 1
        return items


def linode_label(hostname: str, lookup_tag: str) -> str:
    """A label Linode accepts: 3-64 of [A-Za-z0-9-_.], starting with a letter, no doubled
    separators, and unique in the account (Linode refuses a second `web01`), so the order's tag
    lends it a short suffix."""
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", hostname)
    if not label[:1].isalpha():
        label = "vps-" + label
    suffix = hashlib.sha256(lookup_tag.encode()).hexdigest()[:6]
    label = f"{label[: 64 - len(suffix) - 1]}-{suffix}"
    return re.sub(r"([-_.])[-_.]+", r"\1", label)


def _public_keys(keys: tuple[str, ...]) -> list[str]:
    for key in keys:
        if not is_public_key(key):
            raise SshKeyNotSupported(
                f"Linode installs OpenSSH public keys only; got {key[:20]!r}", provider="linode"
            )
    return [k.strip() for k in keys]


def _instance(raw: dict[str, Any]) -> Instance:
    provider_status = str(raw.get("status"))
    status, busy = STATUSES.get(provider_status, (InstanceStatus.ERROR, False))
    public = [a for a in raw.get("ipv4") or [] if not _is_private(a)]
    private = [a for a in raw.get("ipv4") or [] if _is_private(a)]
    ipv6 = raw.get("ipv6")
    return Instance(
        provider=ProviderName.LINODE,
        id=str(raw["id"]),
        status=status,
        provider_status=provider_status,
        busy=busy,
        hostname=raw.get("label"),
        region=raw.get("region"),
        size=raw.get("type"),
        image=raw.get("image"),
        ipv4=public[0] if public else None,
        ipv6=ipv6.split("/", 1)[0] if ipv6 else None,  # "2600:3c00::1/128": SLAAC with prefix
        private_ipv4=private[0] if private else None,
        tags=list(raw.get("tags") or []),
        created_at=parse_timestamp(raw.get("created")),
    )


def _is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in PRIVATE_V4)
