"""DigitalOcean API v2 (shared/refs/providers/digitalocean.openapi.json).

Droplets and actions have integer ids; every droplet action is `POST /droplets/{id}/actions
{type}` answering an action to poll. Pages: `page`/`per_page` with `links.pages.next`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from provider_service.clouds.cloud_init import cloud_config, is_public_key, user_data
from provider_service.clouds.errors import (
    ActionNotFound,
    ConsoleNotSupported,
    InstanceNotFound,
    SshKeyNotSupported,
)
from provider_service.clouds.http import (
    ProviderHttp,
    ProviderMessage,
    body_text,
    reset_epoch_wait,
    retry_after_seconds,
)

PER_PAGE = 200  # the API's maximum
MAX_PAGES = 1000
MD5_FINGERPRINT = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$")
STATUSES = {
    "new": InstanceStatus.PROVISIONING,
    "active": InstanceStatus.ACTIVE,
    "off": InstanceStatus.OFF,
    "archive": InstanceStatus.TERMINATED,
}
ACTION_STATUSES = {
    "in-progress": ActionStatus.IN_PROGRESS,
    "completed": ActionStatus.COMPLETED,
    "errored": ActionStatus.ERRORED,
}
# Our action -> the droplet action type (same words, except reset_password: not offered).
ACTION_TYPES = {
    ActionType.REBOOT: "reboot",
    ActionType.POWER_ON: "power_on",
    ActionType.POWER_OFF: "power_off",
    ActionType.SHUTDOWN: "shutdown",
    ActionType.REBUILD: "rebuild",
}


def parse_error(response: httpx.Response) -> ProviderMessage:
    try:
        body = response.json()
    except ValueError:
        return ProviderMessage(body_text(response))
    if isinstance(body, dict) and (body.get("message") or body.get("id")):
        return ProviderMessage(str(body.get("message") or body.get("id")))
    return ProviderMessage(body_text(response))


def rate_limit_wait(response: httpx.Response) -> float | None:
    """A burst limit sends Retry-After; the hourly one runs out at `ratelimit-reset`."""
    wait = retry_after_seconds(response)
    if wait is None and response.headers.get("ratelimit-remaining") == "0":
        wait = reset_epoch_wait(response, "ratelimit-reset")
    return wait


class DigitalOcean:
    name = ProviderName.DIGITALOCEAN
    capabilities = capabilities.DIGITALOCEAN

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def uses_our_password(self, spec: CreateSpec) -> bool:
        # With no key, DigitalOcean mails a root password to the account owner (us); ours is
        # set through cloud-init instead, so the customer gets one.
        return not spec.ssh_keys

    async def create(self, spec: CreateSpec) -> Created:
        key_refs, public_keys = _split_keys(spec.ssh_keys)
        password = spec.root_password if self.uses_our_password(spec) else None
        body: dict[str, Any] = {
            "name": spec.hostname,
            "region": spec.region,
            "size": spec.size,
            "image": _image_ref(spec.image),
            "ipv6": True,
            "tags": list(spec.tags),
        }
        if key_refs:
            body["ssh_keys"] = key_refs
        data = user_data(
            cloud_config(public_keys=public_keys, root_password=password), spec.user_data
        )
        if data:
            body["user_data"] = data  # plain text: DigitalOcean takes no base64 here
        response = await self.http.request("POST", "/droplets", json=body)
        payload = response.json()
        actions = (payload.get("links") or {}).get("actions") or []
        create = next((a for a in actions if a.get("rel") == "create"), None)
        return Created(
            instance=_instance(payload["droplet"]),
            action_id=str(create["id"]) if create and create.get("id") is not None else None,
            root_password=password,
        )

    async def get(self, instance_id: str) -> Instance:
        droplet_id = integer_id(self.name, instance_id)
        response = await self.http.request(
            "GET", f"/droplets/{droplet_id}", not_found=InstanceNotFound
        )
        instance = _instance(response.json()["droplet"])
        if instance.provider_status == "new" and await self._create_errored(droplet_id):
            instance.status = InstanceStatus.ERROR
        return instance

    async def _create_errored(self, droplet_id: int) -> bool:
        """A droplet whose build failed stays `new`; only its create action says so."""
        actions = await self._paged(f"/droplets/{droplet_id}/actions", "actions")
        return any(a.get("type") == "create" and a.get("status") == "errored" for a in actions)

    async def delete(self, instance_id: str) -> None:
        droplet_id = integer_id(self.name, instance_id)
        await self.http.request("DELETE", f"/droplets/{droplet_id}", not_found=InstanceNotFound)

    async def find_by_tag(self, tag: str) -> list[Instance]:
        droplets = await self._paged("/droplets", "droplets", {"tag_name": tag})
        return [_instance(d) for d in droplets if tag in (d.get("tags") or [])]

    async def action(self, instance_id: str, request: ActionRequest) -> ActionResult:
        require_action(self, request.type)
        droplet_id = integer_id(self.name, instance_id)
        body: dict[str, Any] = {"type": ACTION_TYPES[request.type]}
        if request.type == ActionType.REBUILD:
            body["image"] = _image_ref(request.image or (await self.get(instance_id)).image or "")
        response = await self.http.request(
            "POST", f"/droplets/{droplet_id}/actions", json=body, not_found=InstanceNotFound
        )
        return _action(response.json()["action"], request.type)

    async def get_action(self, instance_id: str, action_id: str) -> ActionResult:
        droplet_id = integer_id(self.name, instance_id)
        if not action_id.isascii() or not action_id.isdigit():
            raise ActionNotFound(f"digitalocean has no action {action_id!r}", provider=self.name)
        response = await self.http.request(
            "GET", f"/droplets/{droplet_id}/actions/{int(action_id)}", not_found=ActionNotFound
        )
        return _action(response.json()["action"], None)

    async def console(self, instance_id: str) -> Console:
        raise ConsoleNotSupported(
            "DigitalOcean's public API has no console endpoint", provider=self.name
        )

    async def list_regions(self) -> list[Region]:
        return [
            Region(
                id=r["slug"],
                name=r.get("name") or r["slug"],
                available=bool(r.get("available", True)),
                features=list(r.get("features") or []),
            )
            for r in await self._paged("/regions", "regions")
        ]

    async def list_sizes(self) -> list[Size]:
        return [
            Size(
                id=s["slug"],
                vcpus=s["vcpus"],
                memory_mb=s["memory"],
                disk_gb=s["disk"],
                # DigitalOcean gives transfer in terabytes.
                transfer_gb=round(float(s["transfer"]) * 1000) if s.get("transfer") else None,
                price_monthly_usd=s.get("price_monthly"),
                price_hourly_usd=s.get("price_hourly"),
                regions=list(s.get("regions") or []),
                available=bool(s.get("available", True)),
            )
            for s in await self._paged("/sizes", "sizes")
        ]

    async def list_images(self) -> list[Image]:
        images = await self._paged("/images", "images", {"type": "distribution"})
        return [
            Image(
                id=i.get("slug") or str(i["id"]),
                name=" ".join(filter(None, [i.get("distribution"), i.get("name")])),
                distribution=i.get("distribution"),
                public=bool(i.get("public", True)),
                available=i.get("status", "available") == "available",
            )
            for i in images
        ]

    async def _paged(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a list, following `links.pages.next` to the end."""
        items: list[dict[str, Any]] = []
        page = 1
        for _ in range(MAX_PAGES):
            response = await self.http.request(
                "GET", path, params={**(params or {}), "page": page, "per_page": PER_PAGE}
            )
            body = response.json()
            batch = body.get(key) or []
            items.extend(batch)
            following = ((body.get("links") or {}).get("pages") or {}).get("next")
            next_page = _page_number(following) if following else None
            if not batch or next_page is None or next_page <= page:
                break
            page = next_page
        return items


def _page_number(url: str) -> int | None:
    # The link is a full URL on the API host; only its page number is used, so the request
    # goes to our configured base URL whatever host the link names.
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else None


def _image_ref(image: str) -> str | int:
    """A slug (`ubuntu-24-04-x64`) or an image id (snapshots, custom images)."""
    return int(image) if image.isascii() and image.isdigit() else image


def _split_keys(keys: tuple[str, ...]) -> tuple[list[str | int], list[str]]:
    """Account key ids and fingerprints go to `ssh_keys`; public keys to cloud-init."""
    refs: list[str | int] = []
    public: list[str] = []
    for key in keys:
        if key.isascii() and key.isdigit():
            refs.append(int(key))
        elif MD5_FINGERPRINT.match(key):
            refs.append(key)
        elif is_public_key(key):
            public.append(key)
        else:
            raise SshKeyNotSupported(
                "DigitalOcean takes an account key id, an MD5 fingerprint or an OpenSSH public "
                f"key; got {key[:20]!r}",
                provider=ProviderName.DIGITALOCEAN,
            )
    return refs, public


def _instance(droplet: dict[str, Any]) -> Instance:
    networks = droplet.get("networks") or {}
    v4 = networks.get("v4") or []
    v6 = networks.get("v6") or []
    ipv4 = _address(v4, "public")
    raw = str(droplet.get("status"))
    status = STATUSES.get(raw, InstanceStatus.ERROR)
    if status == InstanceStatus.ACTIVE and ipv4 is None:
        status = InstanceStatus.PROVISIONING  # active before its address is assigned
    image = droplet.get("image") or {}
    region = droplet.get("region") or {}
    return Instance(
        provider=ProviderName.DIGITALOCEAN,
        id=str(droplet["id"]),
        status=status,
        provider_status=raw,
        busy=bool(droplet.get("locked")),
        hostname=droplet.get("name"),
        region=region.get("slug"),
        size=droplet.get("size_slug"),
        image=image.get("slug") or (str(image["id"]) if image.get("id") is not None else None),
        ipv4=ipv4,
        ipv6=_address(v6, "public"),
        private_ipv4=_address(v4, "private"),
        tags=list(droplet.get("tags") or []),
        created_at=parse_timestamp(droplet.get("created_at")),
    )


def _address(networks: list[dict[str, Any]], kind: str) -> str | None:
    return next((n["ip_address"] for n in networks if n.get("type") == kind), None)


def _action(action: dict[str, Any], requested: ActionType | None) -> ActionResult:
    raw_type = str(action.get("type"))
    ours = {v: k for k, v in ACTION_TYPES.items()}.get(raw_type)
    return ActionResult(
        type=str(requested or ours or raw_type),
        status=ACTION_STATUSES.get(str(action.get("status")), ActionStatus.IN_PROGRESS),
        action_id=str(action["id"]),
    )
