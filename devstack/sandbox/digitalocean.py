"""A stand-in for the DigitalOcean API v2: the droplet endpoints the provider adapter uses,
validated against DigitalOcean's own OpenAPI subset (shared/refs/providers).

    uvicorn --factory devstack.sandbox.digitalocean:create_app --port 3993
    DIGITALOCEAN_API_URL=http://127.0.0.1:3993/v2  DIGITALOCEAN_TOKEN=<anything>

Droplets answer 202 with `status: "new"` and empty `networks`, then become `active` with
IPv4/IPv6 after `DIGITALOCEAN_SANDBOX_BOOT_DELAY` seconds. Actions answer 201 with an action
`in-progress` to poll at `/v2/actions/{id}`. `/_sandbox/...` steers it (devstack/sandbox/README.md).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import FastAPI

from devstack.sandbox.cloud.app import build_app
from devstack.sandbox.cloud.machines import AddressPool, Job, Machine, State, gateway_of, iso_utc
from devstack.sandbox.cloud.provider import ApiError, Call, CloudProvider, Handler, Reply
from devstack.sandbox.cloud.ratelimit import RateWindow
from devstack.sandbox.cloud.schemas import Issue
from devstack.sandbox.cloud.seeds import digitalocean as catalog
from devstack.sandbox.cloud.settings import DigitalOceanSandboxSettings

ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    422: "unprocessable_entity",
    429: "too_many_requests",
}
STATUS = {
    State.PROVISIONING: "new",
    State.BOOTING: "new",
    State.FAILED: "new",  # DigitalOcean has no failed status: the create action errors
    State.OFF: "off",
}
ACTION_STATUS = {"running": "in-progress", "completed": "completed", "failed": "errored"}
BUSY = "Droplet already has a pending event."


class DigitalOcean(CloudProvider):
    name = "digitalocean"
    title = "DigitalOcean"
    spec_file = "digitalocean.openapi.json"
    messages = {
        401: "Unable to authenticate you.",
        404: "The resource you requested could not be found.",
        429: "API rate limit exceeded.",
        500: "Unexpected server-side error.",
    }

    def __init__(self, settings: DigitalOceanSandboxSettings) -> None:
        self._next_id = 412_345_000
        super().__init__(settings)
        self.rate = RateWindow(limit=5000, seconds=3600)  # per token per rolling hour

    def operations(self) -> dict[str, Handler]:
        return {
            "droplets_list": self.list_droplets,
            "droplets_create": self.create_droplets,
            "droplets_get": self.get_droplet,
            "droplets_destroy": self.destroy_droplet,
            "dropletActions_list": self.list_droplet_actions,
            "dropletActions_post": self.post_action,
            "dropletActions_get": self.get_droplet_action,
            "actions_get": self.get_action,
            "regions_list": self.list_regions,
            "sizes_list": self.list_sizes,
            "images_list": self.list_images,
        }

    def new_server_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def address_pool(self) -> AddressPool:
        return AddressPool(["203.0.113.0/24", "198.51.100.0/24"], "10.104.0.0/20", "2001:db8:d0::")

    def error_body(self, status: int, message: str, field: str | None = None) -> dict[str, Any]:
        error_id = ERROR_IDS.get(status, "server_error" if status >= 500 else "error")
        return {"id": error_id, "message": message, "request_id": str(uuid.uuid4())}

    def invalid_request(self, issues: list[Issue]) -> Reply:
        first = issues[0]
        return self.error(422, f"{first.field} {first.message}" if first.field else first.message)

    def rate_limit_headers(self, now: float, *, retry_after: int | None = None) -> dict[str, str]:
        remaining, reset = self.rate.hit(now)
        headers = {
            "ratelimit-limit": str(self.rate.limit),
            "ratelimit-remaining": str(0 if retry_after is not None else remaining),
            "ratelimit-reset": str(reset),
        }
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        return headers

    def reset(self) -> None:
        super().reset()
        self.rate.clear()

    # rendering

    def render_server(self, machine: Machine, base_url: str = "") -> dict[str, Any]:
        now = self.state.now()
        size = catalog.size(machine.size) or catalog.SIZES[0]
        locked = machine.busy(now) and machine.state not in (State.PROVISIONING, State.FAILED)
        options = machine.options
        return {
            "id": machine.id,
            "name": machine.name,
            "memory": size["memory"],
            "vcpus": size["vcpus"],
            "disk": size["disk"],
            "disk_info": size["disk_info"],
            "locked": locked,
            "status": STATUS.get(machine.state, "active"),
            "kernel": None,
            "created_at": iso_utc(machine.created_at),
            "features": self._features(machine),
            "backup_ids": [],
            "next_backup_window": None,
            "snapshot_ids": [],
            "image": catalog.image(machine.image),
            "volume_ids": options.get("volumes", []),
            "size": size,
            "size_slug": machine.size,
            "networks": self._networks(machine),
            "region": catalog.region(machine.region),
            "tags": machine.tags,
            "vpc_uuid": options["vpc_uuid"],
        }

    def _features(self, machine: Machine) -> list[str]:
        options = machine.options
        features = ["private_networking"]
        features += [name for name in ("backups", "ipv6", "monitoring") if options.get(name)]
        if options.get("with_droplet_agent", True):
            features.append("droplet_agent")
        return features

    def _networks(self, machine: Machine) -> dict[str, list[dict[str, Any]]]:
        if machine.state in (State.PROVISIONING, State.FAILED):
            return {"v4": [], "v6": []}
        v4 = [
            {
                "ip_address": machine.ipv4_private,
                "netmask": "255.255.240.0",
                "gateway": "nil",  # sic: what the spec's example (and the live API) sends
                "type": "private",
            }
        ]
        if machine.options.get("public_networking", True):
            v4.append(
                {
                    "ip_address": machine.ipv4_public,
                    "netmask": "255.255.255.0",
                    "gateway": gateway_of(machine.ipv4_public),
                    "type": "public",
                }
            )
        v6 = []
        if machine.ipv6:
            v6.append(
                {
                    "ip_address": machine.ipv6,
                    "netmask": 64,
                    "gateway": "2001:db8:d0::1",
                    "type": "public",
                }
            )
        return {"v4": v4, "v6": v6}

    def render_action(self, job: Job) -> dict[str, Any]:
        now = self.state.now()
        status = ACTION_STATUS[job.status(now)]
        machine_region = job.detail["region"]
        return {
            "id": job.id,
            "status": status,
            "type": job.kind,
            "started_at": iso_utc(job.started_at),
            "completed_at": None if status == "in-progress" else iso_utc(job.completes_at),
            "resource_id": job.server_id,
            "resource_type": "droplet",
            "region": catalog.region(machine_region),
            "region_slug": machine_region,
        }

    def paginate(self, call: Call, key: str, items: list[Any]) -> dict[str, Any]:
        page, per_page = call.query.get("page", 1), call.query.get("per_page", 20)
        last = max(1, math.ceil(len(items) / per_page))
        url = call.request.url

        def link(number: int) -> str:
            return str(url.include_query_params(page=number, per_page=per_page))

        pages: dict[str, str] = {}
        if page > 1:
            pages |= {"first": link(1), "prev": link(min(page - 1, last))}
        if page < last:
            pages |= {"next": link(page + 1), "last": link(last)}
        return {
            key: items[(page - 1) * per_page : page * per_page],
            "links": {"pages": pages} if pages else {},
            "meta": {"total": len(items)},
        }

    def _droplet(self, call: Call) -> Machine:
        machine = self.state.get(call.path["droplet_id"])
        if machine is None:
            raise ApiError(404, self.messages[404])
        return machine

    # droplets

    async def list_droplets(self, call: Call) -> Reply:
        droplets = sorted(self.state.all(), key=lambda m: m.id)
        if "tag_name" in call.query:
            droplets = [m for m in droplets if call.query["tag_name"] in m.tags]
        if "name" in call.query:
            droplets = [m for m in droplets if m.name == call.query["name"]]
        if call.query.get("type") == "gpus":
            droplets = []  # the sandbox sells no GPU droplets
        body = self.paginate(call, "droplets", [self.render_server(m) for m in droplets])
        return Reply(200, body)

    async def create_droplets(self, call: Call) -> Reply:
        body = call.body
        size, image = catalog.size(body["size"]), catalog.image(body["image"])
        region = body.get("region") or catalog.REGIONS[0]["slug"]
        if size is None:
            raise ApiError(422, "You specified an invalid size for Droplet creation.")
        if image is None:
            raise ApiError(422, "You specified an invalid image for Droplet creation.")
        if region not in catalog.REGION_SLUGS:
            raise ApiError(422, "You specified an invalid region for Droplet creation.")
        names = body.get("names") or [body.get("name")]
        if len(names) > 10:
            raise ApiError(422, "You may only create up to 10 Droplets at a time.")
        if self.settings.creation_failure == "reject":
            raise ApiError(422, self.settings.creation_failure_message)
        created = [self._create(call, name, size["slug"], image["slug"], region) for name in names]
        droplets = [self.render_server(machine) for machine, _ in created]
        actions = [
            {"id": job.id, "rel": "create", "href": f"{call.base_url}/v2/actions/{job.id}"}
            for _, job in created
        ]
        if "names" in body:
            return Reply(202, {"droplets": droplets, "links": {"actions": actions}})
        return Reply(202, {"droplet": droplets[0], "links": {"actions": actions}})

    def _create(
        self, call: Call, name: str, size: str, image: str, region: str
    ) -> tuple[Machine, Job]:
        body, now, pool = call.body, call.now, self.state.addresses
        options = {
            key: body[key]
            for key in (
                "backups",
                "ipv6",
                "monitoring",
                "with_droplet_agent",
                "public_networking",
                "volumes",
                "backup_policy",
            )
            if key in body
        }
        options["vpc_uuid"] = body.get("vpc_uuid") or str(uuid.uuid5(uuid.NAMESPACE_DNS, region))
        machine = self.state.add(
            Machine(
                id=self.new_server_id(),
                name=name,
                region=region,
                size=size,
                image=image,
                created_at=now,
                ipv4_public=pool.public_v4(),
                ipv4_private=pool.private_v4(),
                ipv6=pool.ipv6() if body.get("ipv6") else None,
                tags=list(body.get("tags") or []),
                user_data=body.get("user_data"),
                ssh_keys=list(body.get("ssh_keys") or []),
                options=options,
            )
        )
        fail = self.settings.creation_failure == "error"
        end = machine.provision(now, self.settings.boot_delay, fail=fail)
        job = self.state.add_job(machine, "create", now, end, region=region, failed=fail)
        return machine, job

    async def get_droplet(self, call: Call) -> Reply:
        return Reply(200, {"droplet": self.render_server(self._droplet(call))})

    async def destroy_droplet(self, call: Call) -> Reply:
        self.state.remove(self._droplet(call))
        return Reply(204)

    # actions

    async def post_action(self, call: Call) -> Reply:
        machine = self._droplet(call)
        kind, now = call.body["type"], call.now
        if machine.busy(now):
            raise ApiError(422, BUSY)
        if machine.state is State.FAILED:
            raise ApiError(422, "The Droplet failed to be created; destroy it.")
        delay, boot_delay = self.settings.action_delay, self.settings.boot_delay
        if kind in ("reboot", "power_cycle"):
            end = machine.reboot(now, delay)
        elif kind == "power_on":
            end = machine.power_on(now, delay)
        elif kind == "power_off":
            end = machine.power_off(now, delay)
        elif kind == "shutdown":
            end = machine.shutdown(now, delay)
        elif kind == "password_reset":
            end = self._reset_password(machine, now, delay)
        elif kind == "rebuild":
            end = self._rebuild(machine, call, boot_delay)
        elif kind in ("rename", "enable_ipv6", "enable_backups", "disable_backups"):
            end = self._change(machine, call)
        else:
            raise ApiError(422, f"The sandbox does not simulate the {kind} action.")
        job = self.state.add_job(machine, kind, now, end, region=machine.region)
        return Reply(201, {"action": self.render_action(job)})

    def _reset_password(self, machine: Machine, now: float, delay: float) -> float:
        """DigitalOcean power-cycles the droplet and emails a new root password."""
        machine.root_password = uuid.uuid4().hex[:16]
        self.state.send_email(
            machine,
            f"Your new root password for {machine.name}",
            kind="password_reset",
            password=machine.root_password,
        )
        return machine.reboot(now, delay)

    def _rebuild(self, machine: Machine, call: Call, boot_delay: float) -> float:
        image = catalog.image(call.body.get("image", machine.image))
        if image is None:
            raise ApiError(422, "You specified an invalid image for Droplet rebuild.")
        machine.image = image["slug"]
        return machine.rebuild(call.now, boot_delay)

    def _change(self, machine: Machine, call: Call) -> float:
        kind = call.body["type"]
        if kind == "rename":
            if not call.body.get("name"):
                raise ApiError(422, "You must specify a name.")
            machine.name = call.body["name"]
        elif kind == "enable_ipv6" and not machine.ipv6:
            machine.ipv6 = self.state.addresses.ipv6()
            machine.options["ipv6"] = True
        elif kind in ("enable_backups", "disable_backups"):
            machine.options["backups"] = kind == "enable_backups"
        return call.now

    async def list_droplet_actions(self, call: Call) -> Reply:
        machine = self._droplet(call)
        jobs = [self.render_action(j) for j in self.state.jobs_of(machine.id)]
        return Reply(200, self.paginate(call, "actions", jobs))

    async def get_droplet_action(self, call: Call) -> Reply:
        machine = self._droplet(call)
        job = self.state.jobs.get(call.path["action_id"])
        if job is None or job.server_id != machine.id:
            raise ApiError(404, self.messages[404])
        return Reply(200, {"action": self.render_action(job)})

    async def get_action(self, call: Call) -> Reply:
        job = self.state.jobs.get(call.path["action_id"])
        if job is None:
            raise ApiError(404, self.messages[404])
        return Reply(200, {"action": self.render_action(job)})

    # catalog

    async def list_regions(self, call: Call) -> Reply:
        regions = [catalog.region(r["slug"]) for r in catalog.REGIONS]
        return Reply(200, self.paginate(call, "regions", regions))

    async def list_sizes(self, call: Call) -> Reply:
        return Reply(200, self.paginate(call, "sizes", catalog.SIZES))

    async def list_images(self, call: Call) -> Reply:
        images = catalog.IMAGES
        if call.query.get("type") == "application" or call.query.get("private"):
            images = []  # only public distribution images here
        if "tag_name" in call.query:
            images = [i for i in images if call.query["tag_name"] in i["tags"]]
        return Reply(200, self.paginate(call, "images", images))


def create_app(settings: DigitalOceanSandboxSettings | None = None) -> FastAPI:
    provider = DigitalOcean(settings or DigitalOceanSandboxSettings())
    return build_app(provider, __doc__)
