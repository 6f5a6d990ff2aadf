"""A stand-in for the Vultr API v2: the instance endpoints the provider adapter uses,
validated against Vultr's own OpenAPI subset (shared/refs/providers).

    uvicorn --factory devstack.sandbox.vultr:create_app --port 3994
    VULTR_API_URL=http://127.0.0.1:3994/v2  VULTR_API_KEY=<anything>

Vultr has no action objects: create and reinstall answer 202 with the instance, start, reboot
and halt answer 204, and progress shows only in `status`, `power_status` and `server_status`
(up = active + running + ok). `/_sandbox/...` steers it (devstack/sandbox/README.md).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from devstack.sandbox.cloud.app import build_app
from devstack.sandbox.cloud.machines import AddressPool, Machine, State, gateway_of, iso_utc
from devstack.sandbox.cloud.provider import ApiError, Call, CloudProvider, Handler, Reply
from devstack.sandbox.cloud.schemas import Issue
from devstack.sandbox.cloud.seeds import vultr as catalog
from devstack.sandbox.cloud.settings import VultrSandboxSettings

# state -> (status, power_status, server_status)
STATUS = {
    State.PROVISIONING: ("pending", "running", "none"),
    State.BOOTING: ("active", "running", "installingbooting"),
    State.RUNNING: ("active", "running", "ok"),
    State.REBOOTING: ("active", "running", "installingbooting"),
    State.SHUTTING_DOWN: ("active", "running", "ok"),
    State.OFF: ("active", "stopped", "ok"),
    State.REBUILDING: ("active", "running", "locked"),
    State.FAILED: ("pending", "stopped", "none"),
}
DEPLOY_SOURCES = ("os_id", "iso_id", "snapshot_id", "app_id", "image_id")
KEPT_OPTIONS = ("user_scheme", "firewall_group_id", "backups", "activation_email", "enable_vpc")
PASSWORD_SHOWN_FOR = 600  # seconds: "Only available for ten minutes after deployment."


class Vultr(CloudProvider):
    name = "vultr"
    title = "Vultr"
    spec_file = "vultr.openapi.json"
    error_pointer = "/components/schemas/error"
    messages = {401: "Invalid API token.", 404: "Not found.", 429: "Rate limit reached."}

    def operations(self) -> dict[str, Handler]:
        return {
            "list-instances": self.list_instances,
            "create-instance": self.create_instance,
            "get-instance": self.get_instance,
            "delete-instance": self.delete_instance,
            "start-instance": self.start,
            "reboot-instance": self.reboot,
            "halt-instance": self.halt,
            "reinstall-instance": self.reinstall,
            "list-regions": self.list_regions,
            "list-available-plans-region": self.region_availability,
            "list-plans": self.list_plans,
            "list-os": self.list_os,
        }

    def new_server_id(self) -> str:
        return str(uuid.uuid4())

    def address_pool(self) -> AddressPool:
        return AddressPool(["192.0.2.0/24", "198.51.100.0/24"], "10.6.96.0/20", "2001:db8:5f::")

    def error_body(self, status: int, message: str, field: str | None = None) -> dict[str, Any]:
        return {"error": message, "status": status}

    def invalid_request(self, issues: list[Issue]) -> Reply:
        text = "; ".join(f"{i.field} {i.message}" if i.field else i.message for i in issues)
        return self.error(400, text)

    # rendering

    def render_server(self, machine: Machine, base_url: str = "") -> dict[str, Any]:
        now = self.state.now()
        machine.refresh(now)
        status, power, server = STATUS[machine.state]
        plan = catalog.plan(machine.size) or catalog.PLANS[0]
        system = catalog.operating_system(machine.image) or {"name": ""}
        assigned = status == "active"
        options = machine.options
        v6 = machine.ipv6 if assigned and machine.ipv6 else ""
        rendered = {
            "id": machine.id,
            "os": system["name"],
            "ram": plan["ram"],
            "disk": plan["disk"] if assigned else 0,
            "main_ip": machine.ipv4_public if assigned else "0.0.0.0",
            "vcpu_count": plan["vcpu_count"],
            "region": machine.region,
            "plan": machine.size,
            "date_created": iso_utc(machine.created_at, offset="+00:00"),
            "status": status,
            "allowed_bandwidth": plan["bandwidth"],
            "netmask_v4": "255.255.254.0" if assigned else "",
            "gateway_v4": gateway_of(machine.ipv4_public) if assigned else "0.0.0.0",
            "power_status": power,
            "server_status": server,
            # Flat v6_* as the live API and the spec's own examples send them.
            "v6_network": v6.rsplit(":", 1)[0] + ":" if v6 else "",
            "v6_main_ip": v6,
            "v6_network_size": 64 if v6 else 0,
            "label": machine.name,
            "internal_ip": (machine.ipv4_private or "") if assigned else "",
            "kvm": f"{base_url}/_sandbox/console/{machine.id}" if server == "ok" else "",
            "hostname": options["hostname"],
            "os_id": machine.image,
            "app_id": 0,
            "image_id": "",
            "firewall_group_id": options.get("firewall_group_id", ""),
            "features": options["features"],
            "tags": machine.tags,
            "user_scheme": options.get("user_scheme", "root"),
        }
        if now - machine.created_at < PASSWORD_SHOWN_FOR and machine.root_password:
            rendered["default_password"] = machine.root_password
        return rendered

    def paginate(
        self, call: Call, key: str, items: list[Any], sort_key: Callable[[Any], str]
    ) -> dict[str, Any]:
        """Vultr's cursors: base64 of `next__<key>` / `prev__<key>`, "" when there is none."""
        per_page = call.query.get("per_page") or 100
        per_page = min(max(per_page, 1), 500)
        items = sorted(items, key=sort_key)
        keys = [sort_key(item) for item in items]
        start = 0
        if call.query.get("cursor"):
            try:
                direction, _, mark = base64.b64decode(call.query["cursor"]).decode().partition("__")
            except (binascii.Error, UnicodeDecodeError):
                direction, mark = "", ""
            if direction == "next":
                start = sum(1 for k in keys if k < mark)
            elif direction == "prev":
                start = max(0, sum(1 for k in keys if k < mark) - per_page)
            else:
                raise ApiError(400, "Invalid cursor.")
        end = start + per_page

        def cursor(direction: str, index: int) -> str:
            return base64.b64encode(f"{direction}__{keys[index]}".encode()).decode()

        links = {
            "next": cursor("next", end) if end < len(items) else "",
            "prev": cursor("prev", start) if start > 0 else "",
        }
        return {key: items[start:end], "meta": {"total": len(items), "links": links}}

    def _instance(self, call: Call) -> Machine:
        machine = self.state.get(call.path["instance-id"])
        if machine is None:
            raise ApiError(404, "Invalid instance-id.")
        return machine

    # instances

    async def list_instances(self, call: Call) -> Reply:
        machines = self.state.all()
        query = call.query
        if "tag" in query:
            machines = [m for m in machines if query["tag"] in m.tags]
        if "label" in query:
            machines = [m for m in machines if m.name == query["label"]]
        instances = [self.render_server(m, call.base_url) for m in machines]
        for name in ("region", "main_ip", "firewall_group_id"):
            if name in query:
                instances = [i for i in instances if i[name] == query[name]]
        body = self.paginate(
            call, "instances", instances, lambda i: f"{i['date_created']}{i['id']}"
        )
        return Reply(200, body)

    async def create_instance(self, call: Call) -> Reply:
        body = call.body
        self._check_create(body)
        if self.settings.creation_failure == "reject":
            raise ApiError(400, self.settings.creation_failure_message)
        pool, now = self.state.addresses, call.now
        features = [
            name
            for name, on in (
                ("auto_backups", body.get("backups") == "enabled"),
                ("ipv6", body.get("enable_ipv6")),
                ("ddos_protection", body.get("ddos_protection")),
            )
            if on
        ]
        options = {
            "hostname": body.get("hostname") or body.get("label") or "vultr.guest",
            "features": features,
            **{key: body[key] for key in KEPT_OPTIONS if key in body},
        }
        machine = self.state.add(
            Machine(
                id=self.new_server_id(),
                name=body.get("label", ""),
                region=body["region"],
                size=body["plan"],
                image=body["os_id"],
                created_at=now,
                ipv4_public=pool.public_v4(),
                ipv4_private=pool.private_v4() if body.get("enable_vpc") else None,
                ipv6=pool.ipv6() if body.get("enable_ipv6") else None,
                tags=list(body.get("tags") or []),
                user_data=_decoded(body.get("user_data")),
                ssh_keys=list(body.get("sshkey_id") or []),
                root_password=_vultr_password(),
                options=options,
            )
        )
        fail = self.settings.creation_failure == "error"
        end = machine.provision(now, self.settings.boot_delay, fail=fail)
        self.state.add_job(machine, "create", now, end, failed=fail)
        if body.get("activation_email"):
            self.state.send_email(
                machine,
                f"Your new Vultr server {machine.name or machine.id} is being deployed",
                kind="activation_email",
                password=machine.root_password,
            )
        return Reply(202, {"instance": self.render_server(machine, call.base_url)})

    def _check_create(self, body: dict[str, Any]) -> None:
        plan = catalog.plan(body["plan"])
        if body["region"] not in catalog.REGION_IDS:
            raise ApiError(400, "Invalid region.")
        if plan is None or body["region"] not in plan["locations"]:
            raise ApiError(400, "Invalid plan chosen.")
        sources = [s for s in DEPLOY_SOURCES if body.get(s)]
        if not sources:
            raise ApiError(
                400, "You must choose one of os_id, iso_id, snapshot_id, app_id or image_id."
            )
        if sources != ["os_id"]:
            raise ApiError(400, "The sandbox deploys from os_id only.")
        if catalog.operating_system(body["os_id"]) is None:
            raise ApiError(400, "Invalid os_id.")
        if body.get("backups", "disabled") not in ("enabled", "disabled"):
            raise ApiError(400, "backups must be enabled or disabled.")
        if body.get("user_scheme", "root") not in ("root", "limited"):
            raise ApiError(400, "user_scheme must be root or limited.")
        if body.get("user_data") and _decoded(body["user_data"]) is None:
            raise ApiError(400, "user_data must be base64 encoded.")

    async def get_instance(self, call: Call) -> Reply:
        return Reply(200, {"instance": self.render_server(self._instance(call), call.base_url)})

    async def delete_instance(self, call: Call) -> Reply:
        self.state.remove(self._instance(call))
        return Reply(204)

    def _ready(self, machine: Machine, call: Call, verb: str) -> None:
        if machine.state in (State.PROVISIONING, State.FAILED) or machine.busy(call.now):
            raise ApiError(400, f"Unable to {verb} instance: the server is locked.")

    async def start(self, call: Call) -> Reply:
        machine = self._instance(call)
        self._ready(machine, call, "start")
        end = machine.power_on(call.now, self.settings.action_delay)
        self.state.add_job(machine, "start", call.now, end)
        return Reply(204)

    async def reboot(self, call: Call) -> Reply:
        machine = self._instance(call)
        self._ready(machine, call, "reboot")
        end = machine.reboot(call.now, self.settings.action_delay)
        self.state.add_job(machine, "reboot", call.now, end)
        return Reply(204)

    async def halt(self, call: Call) -> Reply:
        machine = self._instance(call)
        self._ready(machine, call, "halt")
        machine.schedule(call.now, [(0, State.OFF)])  # a hard power-off, done when answered
        self.state.add_job(machine, "halt", call.now, call.now)
        return Reply(204)

    async def reinstall(self, call: Call) -> Reply:
        """Same OS again (an OS change is a PATCH, outside the subset). Vultr sets a new root
        password but does not return it; the sandbox keeps it in /_sandbox/servers."""
        machine = self._instance(call)
        self._ready(machine, call, "reinstall")
        if call.body.get("hostname"):
            machine.options["hostname"] = call.body["hostname"]
        machine.root_password = _vultr_password()
        end = machine.rebuild(call.now, self.settings.boot_delay)
        self.state.add_job(machine, "reinstall", call.now, end)
        rendered = self.render_server(machine, call.base_url)
        rendered.pop("default_password", None)
        return Reply(202, {"instance": rendered})

    # catalog

    async def list_regions(self, call: Call) -> Reply:
        return Reply(200, self.paginate(call, "regions", catalog.REGIONS, lambda r: r["id"]))

    async def region_availability(self, call: Call) -> Reply:
        region = call.path["region-id"]
        if region not in catalog.REGION_IDS:
            raise ApiError(404, "Invalid region-id.")
        wanted = call.query.get("type", "all")
        plans = [
            p["id"]
            for p in catalog.PLANS
            if region in p["locations"] and wanted in ("all", p["type"])
        ]
        return Reply(200, {"available_plans": plans})

    async def list_plans(self, call: Call) -> Reply:
        wanted = call.query.get("type", "all")
        plans = [p for p in catalog.PLANS if wanted in ("all", p["type"])]
        return Reply(200, self.paginate(call, "plans", plans, _plan_order))

    async def list_os(self, call: Call) -> Reply:
        systems = catalog.OPERATING_SYSTEMS
        return Reply(200, self.paginate(call, "os", systems, lambda o: f"{o['id']:08d}"))


def _plan_order(plan: dict[str, Any]) -> str:
    return f"{plan['monthly_cost']:06d}{plan['id']}"


def _decoded(user_data: str | None) -> str | None:
    """Vultr takes user_data base64-encoded; None when it is not."""
    if not user_data:
        return None
    try:
        return base64.b64decode(user_data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _vultr_password() -> str:
    alphabet = string.ascii_letters + string.digits + "#{}[]()@!"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def create_app(settings: VultrSandboxSettings | None = None) -> FastAPI:
    return build_app(Vultr(settings or VultrSandboxSettings()), __doc__)
