"""Vultr API v2 (shared/refs/providers/vultr.openapi.json).

Instances have UUID ids; power actions are separate endpoints answering 204 with no action
object, so progress shows only in the instance's `status` / `power_status` / `server_status`.
Pages: `per_page` + opaque `cursor` tokens in `meta.links.next` (empty string: no more).
"""

from __future__ import annotations

import base64
import re
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
    parse_timestamp,
    require_action,
)
from provider_service.clouds.cloud_init import cloud_config, is_public_key, user_data
from provider_service.clouds.errors import (
    ActionTrackingNotSupported,
    ConsoleNotReady,
    InstanceNotFound,
    InvalidImage,
    InvalidInstanceId,
    RebuildImageNotSupported,
    SshKeyNotSupported,
)
from provider_service.clouds.http import (
    ProviderHttp,
    ProviderMessage,
    body_text,
    retry_after_seconds,
)

PER_PAGE = 500  # the API's maximum
MAX_PAGES = 1000
UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
UNASSIGNED_IPV4 = "0.0.0.0"
# /os also lists deploy sources that are not operating systems.
NOT_AN_OS = {"iso", "snapshot", "backup", "application", "ipxe"}
ENDPOINTS = {
    ActionType.REBOOT: "reboot",
    ActionType.POWER_ON: "start",
    ActionType.POWER_OFF: "halt",
}
POLL_THE_INSTANCE = "Vultr has no action objects: follow the instance's status."


def parse_error(response: httpx.Response) -> ProviderMessage:
    try:
        body = response.json()
    except ValueError:
        return ProviderMessage(body_text(response))
    if isinstance(body, dict) and body.get("error"):
        return ProviderMessage(str(body["error"]))
    return ProviderMessage(body_text(response))


def rate_limit_wait(response: httpx.Response) -> float | None:
    return retry_after_seconds(response)


class Vultr:
    name = ProviderName.VULTR
    capabilities = capabilities.VULTR

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def uses_our_password(self, spec: CreateSpec) -> bool:
        return False  # Vultr sets the root password and returns it once, as default_password

    async def create(self, spec: CreateSpec) -> Created:
        key_ids, public_keys = _split_keys(spec.ssh_keys)
        body: dict[str, Any] = {
            "region": spec.region,
            "plan": spec.size,
            "os_id": _os_id(spec.image),
            "label": spec.hostname,
            "hostname": spec.hostname,
            "tags": list(spec.tags),
            "enable_ipv6": True,
            "backups": "disabled",
            # Otherwise Vultr mails the deployment (with the root password) to the account
            # owner, which is us, not the customer.
            "activation_email": False,
        }
        if key_ids:
            body["sshkey_id"] = key_ids
        data = user_data(cloud_config(public_keys=public_keys, root_password=None), spec.user_data)
        if data:
            body["user_data"] = base64.b64encode(data.encode()).decode()
        response = await self.http.request("POST", "/instances", json=body)
        instance = response.json()["instance"]
        password = instance.get("default_password")
        return Created(instance=_instance(instance), root_password=password or None)

    async def get(self, instance_id: str) -> Instance:
        return _instance(await self._get_raw(instance_id))

    async def _get_raw(self, instance_id: str) -> dict[str, Any]:
        response = await self.http.request(
            "GET", f"/instances/{_uuid(instance_id)}", not_found=InstanceNotFound
        )
        return response.json()["instance"]

    async def delete(self, instance_id: str) -> None:
        await self.http.request(
            "DELETE", f"/instances/{_uuid(instance_id)}", not_found=InstanceNotFound
        )

    async def find_by_tag(self, tag: str) -> list[Instance]:
        # The list's `tag` filter is deprecated: read every page and match here.
        instances = await self._paged("/instances", "instances")
        return [_instance(i) for i in instances if tag in (i.get("tags") or [])]

    async def action(self, instance_id: str, request: ActionRequest) -> ActionResult:
        require_action(self, request.type)
        uuid = _uuid(instance_id)
        if request.type != ActionType.REBUILD:
            await self.http.request(
                "POST", f"/instances/{uuid}/{ENDPOINTS[request.type]}", not_found=InstanceNotFound
            )
            return ActionResult(
                type=request.type, status=ActionStatus.IN_PROGRESS, note=POLL_THE_INSTANCE
            )
        current = await self._get_raw(uuid)
        if request.image is not None and request.image != str(current.get("os_id")):
            raise RebuildImageNotSupported(
                "Vultr reinstalls the instance's own OS "
                f"(os_id {current.get('os_id')}); it cannot rebuild onto image {request.image}",
                provider=self.name,
            )
        body = {"hostname": current["hostname"]} if current.get("hostname") else {}
        response = await self.http.request(
            "POST", f"/instances/{uuid}/reinstall", json=body, not_found=InstanceNotFound
        )
        password = (response.json().get("instance") or {}).get("default_password")
        if not password:
            # Reinstall sets a new root password without returning it; the instance shows its
            # `default_password` for a while after a deployment, so look once.
            password = (await self._get_raw(uuid)).get("default_password")
        return ActionResult(
            type=request.type,
            status=ActionStatus.IN_PROGRESS,
            root_password=password or None,
            note=POLL_THE_INSTANCE
            + ("" if password else " Vultr did not reveal the new root password."),
        )

    async def get_action(self, instance_id: str, action_id: str) -> ActionResult:
        raise ActionTrackingNotSupported(POLL_THE_INSTANCE, provider=self.name)

    async def console(self, instance_id: str) -> Console:
        # Fetched on every call: the URL is short-lived and must never be cached.
        url = (await self._get_raw(instance_id)).get("kvm")
        if not url:
            raise ConsoleNotReady(
                "Vultr has no console URL for this instance yet", provider=self.name
            )
        return Console(
            kind="novnc",
            url=url,
            note="Short-lived noVNC link from Vultr: open it now, fetch a new one next time.",
        )

    async def list_regions(self) -> list[Region]:
        return [
            Region(
                id=r["id"],
                name=r.get("city") or r["id"],
                country=r.get("country"),
                features=list(r.get("options") or []),
            )
            for r in await self._paged("/regions", "regions")
        ]

    async def list_sizes(self) -> list[Size]:
        return [
            Size(
                id=p["id"],
                vcpus=p["vcpu_count"],
                memory_mb=p["ram"],
                disk_gb=p["disk"],
                transfer_gb=p.get("bandwidth"),
                price_monthly_usd=p.get("monthly_cost"),
                regions=list(p.get("locations") or []),
                available=bool(p.get("locations")),
            )
            for p in await self._paged("/plans", "plans")
        ]

    async def list_images(self) -> list[Image]:
        return [
            Image(id=str(o["id"]), name=o.get("name") or str(o["id"]), distribution=o.get("family"))
            for o in await self._paged("/os", "os")
            if str(o.get("family", "")).lower() not in NOT_AN_OS
        ]

    async def _paged(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"per_page": PER_PAGE}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = (await self.http.request("GET", path, params=params)).json()
            items.extend(body.get(key) or [])
            cursor = ((body.get("meta") or {}).get("links") or {}).get("next") or ""
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
            params = {"per_page": PER_PAGE, "cursor": cursor}
        return items


def _uuid(instance_id: str) -> str:
    if not UUID.match(instance_id):
        raise InvalidInstanceId(f"vultr has no instance {instance_id!r}", provider="vultr")
    return instance_id


def _os_id(image: str) -> int:
    if not (image.isascii() and image.isdigit()):
        raise InvalidImage(
            f"Vultr deploys an OS by its numeric id (GET /internal/providers/vultr/images); "
            f"got {image!r}",
            provider="vultr",
        )
    return int(image)


def _split_keys(keys: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Account SSH-key ids go to `sshkey_id`; public keys to cloud-init."""
    ids: list[str] = []
    public: list[str] = []
    for key in keys:
        if UUID.match(key):
            ids.append(key)
        elif is_public_key(key):
            public.append(key)
        else:
            raise SshKeyNotSupported(
                f"Vultr takes an account SSH-key id or an OpenSSH public key; got {key[:20]!r}",
                provider="vultr",
            )
    return ids, public


def _status(instance: dict[str, Any]) -> tuple[InstanceStatus, bool]:
    """Three fields decide: only active + running + ok is up."""
    status = instance.get("status")
    power = instance.get("power_status")
    server = instance.get("server_status")
    if status == "pending":
        return InstanceStatus.PROVISIONING, True
    if status == "suspended":
        return InstanceStatus.SUSPENDED, False
    if status not in ("active", "resizing"):
        return InstanceStatus.ERROR, False
    if power == "stopped":
        return InstanceStatus.OFF, status == "resizing"
    if status == "resizing" or server == "locked":
        return InstanceStatus.ACTIVE, True
    if server == "ok":
        return InstanceStatus.ACTIVE, False
    return InstanceStatus.PROVISIONING, True  # none / installingbooting


def _instance(raw: dict[str, Any]) -> Instance:
    status, busy = _status(raw)
    ipv4 = raw.get("main_ip") or None
    if ipv4 == UNASSIGNED_IPV4:
        ipv4 = None
    if status == InstanceStatus.ACTIVE and ipv4 is None:
        status, busy = InstanceStatus.PROVISIONING, True
    # Live responses carry the flat v6_main_ip; the schema declares v6_networks[]. Read both.
    ipv6 = raw.get("v6_main_ip") or next(
        (n.get("main_ip") for n in raw.get("v6_networks") or [] if n.get("main_ip")), None
    )
    return Instance(
        provider=ProviderName.VULTR,
        id=raw["id"],
        status=status,
        provider_status="/".join(
            str(raw.get(f)) for f in ("status", "power_status", "server_status")
        ),
        busy=busy,
        hostname=raw.get("hostname") or raw.get("label") or None,
        region=raw.get("region"),
        size=raw.get("plan"),
        image=str(raw["os_id"]) if raw.get("os_id") is not None else None,
        ipv4=ipv4,
        ipv6=ipv6 or None,
        private_ipv4=raw.get("internal_ip") or None,
        tags=list(raw.get("tags") or []),
        created_at=parse_timestamp(raw.get("date_created")),
    )
