"""A stand-in for the Linode (Akamai) API v4: the instance endpoints the provider adapter uses,
validated against Linode's own OpenAPI subset (shared/refs/providers).

    uvicorn --factory devstack.sandbox.linode:create_app --port 3995
    LINODE_API_URL=http://127.0.0.1:3995/v4  LINODE_API_TOKEN=<anything>

Create answers 200 with the Linode already `provisioning` (its IPs are known at once), then
`booting`, then `running`. boot/reboot/shutdown/password answer 200 `{}` and the work shows in
`status` and in `/v4/account/events` (filter with `X-Filter: {"entity.id": <id>}`).
`/_sandbox/...` steers it (devstack/sandbox/README.md).
"""

from __future__ import annotations

import base64
import json
import math
import re
import string
import uuid
from typing import Any

from fastapi import FastAPI

from devstack.sandbox.cloud import xfilter
from devstack.sandbox.cloud.app import build_app
from devstack.sandbox.cloud.machines import AddressPool, Job, Machine, State, iso_utc
from devstack.sandbox.cloud.provider import ApiError, Call, CloudProvider, Handler, Reply
from devstack.sandbox.cloud.ratelimit import RateWindow
from devstack.sandbox.cloud.schemas import Issue
from devstack.sandbox.cloud.seeds import linode as catalog
from devstack.sandbox.cloud.settings import LinodeSandboxSettings

STATUS = {
    State.PROVISIONING: "provisioning",
    State.BOOTING: "booting",
    State.RUNNING: "running",
    State.REBOOTING: "rebooting",
    State.SHUTTING_DOWN: "shutting_down",
    State.OFF: "offline",
    State.REBUILDING: "rebuilding",
    State.FAILED: "offline",  # with its linode_create event "failed"
}
EVENT_STATUS = {"running": "started", "completed": "finished", "failed": "failed"}
KEY_TYPES = (
    "ssh-dss",
    "ssh-rsa",
    "ecdsa-sha2-nistp",
    "ssh-ed25519",
    "sk-ecdsa-sha2-nistp256",
    "sk-ssh-ed25519",
)
KEPT_OPTIONS = ("backups_enabled", "booted", "authorized_users", "firewall_id", "swap_size")
BUSY = "Linode busy."


def _normalise(document: dict[str, Any]) -> None:
    """Every filter that fits the X-Filter schema's "Filter and sort criteria" branch also fits
    its "Simple filter" branch (any object), so the upstream `oneOf` rejects all of them;
    `anyOf` is what it means."""
    schema = document["paths"]["/{apiVersion}/linode/instances"]["get"]["parameters"][0]["schema"]
    schema["anyOf"] = schema.pop("oneOf")


class Linode(CloudProvider):
    name = "linode"
    title = "Linode"
    spec_file = "linode.openapi.json"
    spec_options = {"naive_datetimes": True, "normalise": _normalise}
    optional_auth = frozenset({"get-images"})  # public images list without a token
    messages = {401: "Invalid Token", 404: "Not found", 429: "Too Many Requests"}

    def __init__(self, settings: LinodeSandboxSettings) -> None:
        self._next_id = 61_234_500
        super().__init__(settings)
        self.rate = RateWindow(limit=800, seconds=120)

    def operations(self) -> dict[str, Handler]:
        return {
            "get-linode-instances": self.list_linodes,
            "post-linode-instance": self.create_linode,
            "get-linode-instance": self.get_linode,
            "delete-linode-instance": self.delete_linode,
            "post-boot-linode-instance": self.boot,
            "post-reboot-linode-instance": self.reboot,
            "post-shutdown-linode-instance": self.shutdown,
            "post-reset-linode-password": self.reset_password,
            "post-rebuild-linode-instance": self.rebuild,
            "get-events": self.list_events,
            "get-event": self.get_event,
            "get-regions": self.list_regions,
            "get-linode-types": self.list_types,
            "get-images": self.list_images,
        }

    def new_server_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def address_pool(self) -> AddressPool:
        return AddressPool(
            ["203.0.113.0/24", "198.51.100.0/24"], "192.168.128.0/17", "2001:db8:11::"
        )

    def error_body(self, status: int, message: str, field: str | None = None) -> dict[str, Any]:
        error = {"reason": message} if field is None else {"reason": message, "field": field}
        return {"errors": [error]}

    def invalid_request(self, issues: list[Issue]) -> Reply:
        errors = []
        for issue in issues:
            error = {"reason": f"{issue.field} {issue.message}" if issue.field else issue.message}
            if issue.field and issue.location == "body":
                error["field"] = issue.field
            errors.append(error)
        return Reply(400, {"errors": errors})

    def rate_limit_headers(self, now: float, *, retry_after: int | None = None) -> dict[str, str]:
        remaining, reset = self.rate.hit(now)
        headers = {
            "X-RateLimit-Limit": str(self.rate.limit),
            "X-RateLimit-Remaining": str(0 if retry_after is not None else remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return headers

    def reset(self) -> None:
        super().reset()
        self.rate.clear()

    # rendering

    def render_server(self, machine: Machine, base_url: str = "") -> dict[str, Any]:
        machine.refresh(self.state.now())
        kind = catalog.linode_type(machine.size) or catalog.TYPES[0]
        backups = bool(machine.options.get("backups_enabled"))
        return {
            "id": machine.id,
            "label": machine.name,
            "group": "",
            "status": STATUS[machine.state],
            "created": iso_utc(machine.created_at, naive=True),
            "updated": iso_utc(machine.updated_at or machine.created_at, naive=True),
            "type": machine.size,
            "ipv4": [machine.ipv4_public]
            + ([machine.ipv4_private] if machine.ipv4_private else []),
            "ipv6": f"{machine.ipv6}/128",
            "image": machine.image,
            "region": machine.region,
            "specs": {key: kind[key] for key in ("disk", "memory", "vcpus", "transfer", "gpus")},
            "alerts": {
                "cpu": 90 * kind["vcpus"],
                "io": 10000,
                "network_in": 10,
                "network_out": 10,
                "transfer_quota": 80,
            },
            "backups": {
                "available": backups,
                "enabled": backups,
                "last_successful": None,
                "schedule": {
                    "day": "Scheduling" if backups else None,
                    "window": "Scheduling" if backups else None,
                },
            },
            "hypervisor": "kvm",
            "watchdog_enabled": True,
            "tags": machine.tags,
            "host_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"linode-host-{machine.id}")),
            "has_user_data": machine.user_data is not None,
            "lke_cluster_id": None,
            "placement_group": None,
            "capabilities": [],
        }

    def render_event(self, job: Job) -> dict[str, Any]:
        now = self.state.now()
        status = "scheduled" if now < job.started_at else EVENT_STATUS[job.status(now)]
        return {
            "id": job.id,
            "action": job.kind,
            "created": iso_utc(job.started_at, naive=True),
            "duration": round(max(0.0, min(now, job.completes_at) - job.started_at), 2),
            "entity": {
                "id": job.server_id,
                "label": job.detail["label"],
                "type": "linode",
                "url": f"/v4/linode/instances/{job.server_id}",
            },
            "message": None,
            "percent_complete": job.percent(now),
            "read": False,
            "seen": False,
            "status": status,
            "time_remaining": None,
            "username": "webrana",
        }

    def paginate(self, call: Call, items: list[Any]) -> dict[str, Any]:
        page, size = call.query.get("page", 1), call.query.get("page_size", 100)
        size = min(max(size, 25), 500)  # regions/types declare no page_size; clamp like lists
        pages = max(1, math.ceil(len(items) / size))
        chunk = items[(page - 1) * size : page * size]
        return {"data": chunk, "page": page, "pages": pages, "results": len(items)}

    def _linode(self, call: Call) -> Machine:
        machine = self.state.get(call.path["linodeId"])
        if machine is None:
            raise ApiError(404, "Not found")
        return machine

    def _event(self, machine: Machine, action: str, start: float, end: float, **detail: Any) -> Job:
        return self.state.add_job(machine, action, start, end, label=machine.name, **detail)

    # instances

    async def list_linodes(self, call: Call) -> Reply:
        linodes = [self.render_server(m) for m in sorted(self.state.all(), key=lambda m: m.id)]
        linodes = xfilter.apply(linodes, call.checked.headers.get("X-Filter"))
        return Reply(200, self.paginate(call, linodes))

    async def create_linode(self, call: Call) -> Reply:
        body = call.body
        self._check_deploy(body, creating=True)
        if self.settings.creation_failure == "reject":
            raise ApiError(400, self.settings.creation_failure_message)
        machine_id = self.new_server_id()
        pool, now = self.state.addresses, call.now
        machine = self.state.add(
            Machine(
                id=machine_id,
                name=body.get("label") or f"linode{machine_id}",
                region=body["region"],
                size=body["type"],
                image=body.get("image"),
                created_at=now,
                ipv4_public=pool.public_v4(),
                ipv4_private=pool.private_v4() if body.get("private_ip") else None,
                ipv6=pool.ipv6(),
                tags=list(body.get("tags") or []),
                user_data=_user_data(body),
                ssh_keys=list(body.get("authorized_keys") or []),
                root_password=body.get("root_pass"),
                options={key: body[key] for key in KEPT_OPTIONS if key in body},
            )
        )
        fail = self.settings.creation_failure == "error"
        boot = bool(body.get("image")) and body.get("booted", True)
        end = machine.provision(now, self.settings.boot_delay, fail=fail, boot=boot)
        if boot and not fail:
            half = now + self.settings.boot_delay / 2
            self._event(machine, "linode_create", now, half)
            self._event(machine, "linode_boot", half, end)
        else:
            self._event(machine, "linode_create", now, end, failed=fail)
        return Reply(200, self.render_server(machine))

    def _check_deploy(self, body: dict[str, Any], *, creating: bool) -> None:
        if creating:
            if body["region"] not in catalog.REGION_IDS:
                raise ApiError(400, "Region is not valid", field="region")
            label = body.get("label")
            if label and any(m.name == label for m in self.state.all()):
                raise ApiError(400, "Label must be unique among your linodes", field="label")
        if "type" in body and catalog.linode_type(body["type"]) is None:
            raise ApiError(400, "A valid type by that ID was not found", field="type")
        if body.get("image") is None:
            return
        if catalog.image(body["image"]) is None:
            raise ApiError(400, "Image is not valid", field="image")
        if not body.get("root_pass"):
            raise ApiError(
                400, "root_pass is required when deploying from an image", field="root_pass"
            )
        if not strong_enough(body["root_pass"]):
            raise ApiError(400, "Password does not meet strength requirement", field="root_pass")
        for number, key in enumerate(body.get("authorized_keys") or [], start=1):
            if not _looks_like_public_key(key):
                raise ApiError(
                    400,
                    f"SSH Key {number} key-type must be ssh-dss, ssh-rsa, ecdsa-sha2-nistp, "
                    "ssh-ed25519, or sk-ecdsa-sha2-nistp256.",
                    field="authorized_keys",
                )

    async def get_linode(self, call: Call) -> Reply:
        return Reply(200, self.render_server(self._linode(call)))

    async def delete_linode(self, call: Call) -> Reply:
        machine = self._linode(call)
        self._event(machine, "linode_delete", call.now, call.now)
        self.state.remove(machine)
        return Reply(200, {})

    def _free(self, machine: Machine, call: Call) -> None:
        if machine.busy(call.now):
            raise ApiError(400, BUSY)
        if machine.state is State.FAILED:
            raise ApiError(400, "This Linode failed to provision; delete it")

    async def boot(self, call: Call) -> Reply:
        machine = self._linode(call)
        self._free(machine, call)
        end = machine.power_on(call.now, self.settings.action_delay)
        self._event(machine, "linode_boot", call.now, end)
        return Reply(200, {})

    async def reboot(self, call: Call) -> Reply:
        machine = self._linode(call)
        self._free(machine, call)
        end = machine.reboot(call.now, self.settings.action_delay)
        self._event(machine, "linode_reboot", call.now, end)
        return Reply(200, {})

    async def shutdown(self, call: Call) -> Reply:
        machine = self._linode(call)
        self._free(machine, call)
        end = machine.shutdown(call.now, self.settings.action_delay)
        self._event(machine, "linode_shutdown", call.now, end)
        return Reply(200, {})

    async def reset_password(self, call: Call) -> Reply:
        """Linode resets the root password only while the Linode is shut down."""
        machine = self._linode(call)
        self._free(machine, call)
        if machine.state is not State.OFF:
            raise ApiError(400, "Linode must be shut down to reset its root password")
        if not strong_enough(call.body["root_pass"]):
            raise ApiError(400, "Password does not meet strength requirement", field="root_pass")
        machine.root_password = call.body["root_pass"]
        self._event(machine, "password_reset", call.now, call.now)
        return Reply(200, {})

    async def rebuild(self, call: Call) -> Reply:
        machine = self._linode(call)
        self._free(machine, call)
        body = call.body
        self._check_deploy(body, creating=False)
        machine.image, machine.root_password = body["image"], body["root_pass"]
        machine.size = body.get("type", machine.size)
        machine.ssh_keys = list(body.get("authorized_keys") or [])
        if "metadata" in body:
            machine.user_data = _user_data(body)
        boot = body.get("booted", True)
        end = machine.rebuild(call.now, self.settings.boot_delay, boot=boot)
        half = call.now + self.settings.boot_delay / 2
        self._event(machine, "linode_rebuild", call.now, half if boot else end)
        if boot:
            self._event(machine, "linode_boot", half, end)
        return Reply(200, self.render_server(machine))

    # events

    async def list_events(self, call: Call) -> Reply:
        jobs = sorted(self.state.jobs.values(), key=lambda j: (j.started_at, j.id), reverse=True)
        events = [self.render_event(j) for j in jobs if call.now >= j.started_at]
        criteria = _x_filter(call)
        return Reply(200, self.paginate(call, xfilter.apply(events, criteria)))

    async def get_event(self, call: Call) -> Reply:
        job = self.state.jobs.get(call.path["eventId"])
        if job is None or call.now < job.started_at:
            raise ApiError(404, "Not found")
        return Reply(200, self.render_event(job))

    # catalog

    async def list_regions(self, call: Call) -> Reply:
        return Reply(200, self.paginate(call, catalog.REGIONS))

    async def list_types(self, call: Call) -> Reply:
        return Reply(200, self.paginate(call, catalog.TYPES))

    async def list_images(self, call: Call) -> Reply:
        return Reply(200, self.paginate(call, catalog.IMAGES))


def _x_filter(call: Call) -> dict[str, Any] | None:
    """The events list declares no X-Filter in the subset, yet Linode (and linodego's event
    poller) filter it with one; it is honoured, not validated."""
    raw = call.request.headers.get("x-filter")
    if not raw:
        return None
    try:
        criteria = json.loads(raw)
    except ValueError:
        raise ApiError(400, "X-Filter must be a JSON object") from None
    return criteria if isinstance(criteria, dict) else None


def _user_data(body: dict[str, Any]) -> str | None:
    encoded = (body.get("metadata") or {}).get("user_data")
    return base64.b64decode(encoded).decode("utf-8", errors="replace") if encoded else None


def _looks_like_public_key(key: str) -> bool:
    parts = key.split()
    return (
        len(parts) >= 2
        and parts[0].startswith(KEY_TYPES)
        and bool(re.fullmatch(r"[A-Za-z0-9+/]+={0,3}", parts[1]))
    )


def strong_enough(password: str) -> bool:
    """Linode scores root passwords "internally"; this approximates it: 7-128 characters from
    at least three of lower case, upper case, digits and punctuation, not one repeated run."""
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation]
    used = sum(any(ch in cls for ch in password) for cls in classes)
    return 7 <= len(password) <= 128 and used >= 3 and len(set(password)) >= 5


def create_app(settings: LinodeSandboxSettings | None = None) -> FastAPI:
    return build_app(Linode(settings or LinodeSandboxSettings()), __doc__)
