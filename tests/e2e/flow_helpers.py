"""A customer of a real fleet (`devstack.testing.Fleet`), over HTTP only: register, read the
verification mail from the SMTP sink, log in, browse the catalog, order, pay an invoice, have
the Tripay stand-in report the payment, and wait for the server; link Telegram by playing the
user on the Telegram stand-in, listen to the in-app notifications over the WebSocket, and read
what reached the SMTP sink and the Telegram chat. Shared by tests/e2e/test_order_flow.py and
tests/perf/bench_order_flow.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from devstack.fleet import HOST, SANDBOX_PORTS, SERVICE_PORTS
from devstack.testing import Fleet, free_offset

# The three cloud stand-ins read these at start (devstack/sandbox/README.md, "Settings").
CLOUDS = ("DIGITALOCEAN", "VULTR", "LINODE")
ROUTED = ("auth", "catalog", "order", "billing")  # what a customer's order needs
PASSWORD = "Kopi-tubruk-tanpa-gula-77"
VERIFY_LINK = re.compile(r"/verify-email\?token=([A-Za-z0-9_\-]+)")
LIVE_PATH = "/api/v1/notifications/ws"
T = TypeVar("T")


def cloud_delays(boot: float, action: float) -> dict[str, str]:
    env = {}
    for cloud in CLOUDS:
        env[f"{cloud}_SANDBOX_BOOT_DELAY"] = str(boot)
        env[f"{cloud}_SANDBOX_ACTION_DELAY"] = str(action)
    return env


class FlowFleet(Fleet):
    """A `Fleet` whose `webrana up` gets extra environment (passed on to every child)."""

    def __init__(self, home: Path, offset: int, extra_env: dict[str, str]) -> None:
        super().__init__(home, offset)
        self.extra_env = extra_env

    def env(self) -> dict[str, str]:
        return super().env() | self.extra_env


def start_fleet(root: Path, extra_env: dict[str, str]) -> FlowFleet:
    """`webrana up` in a home under `root` at a random free offset. free_offset() checks the
    ports a moment before `webrana up` binds them; if something else (another fleet starting
    on this machine) took one meanwhile, `webrana up` refuses at once, and one new offset is
    tried. Any other failure is raised with the fleet's output."""
    for attempt in (1, 2):
        fleet = FlowFleet(root / f"home{attempt}", free_offset(), extra_env)
        try:
            fleet.start()
            return fleet
        except AssertionError:
            fleet.kill()
            if attempt == 2 or not any("already in use:" in line for line in fleet.lines):
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Endpoints:
    """Where a customer's calls go: the gateway when it routes them, else each service."""

    via_gateway: bool
    urls: dict[str, str]  # service -> base URL a customer uses for it
    tripay: str
    smtp_http: str
    gateway_ready: dict[str, Any] = field(default_factory=dict)
    telegram: str = ""  # the Telegram Bot API stand-in

    def __getitem__(self, service: str) -> str:
        return self.urls[service]

    @property
    def live(self) -> str:
        """The WebSocket of in-app notifications (through the gateway when it routes)."""
        return self.urls["notification"].replace("http://", "ws://", 1) + LIVE_PATH


def endpoints(fleet: Fleet, timeout: float = 20) -> Endpoints:
    """The gateway if its /ready says every service of the order flow is up, else direct."""
    services = {
        name: f"http://{HOST}:{port + fleet.offset}" for name, port in SERVICE_PORTS.items()
    }
    gateway = services.pop("gateway")
    tripay = f"http://{HOST}:{SANDBOX_PORTS['tripay'] + fleet.offset}"
    smtp_http = f"http://{HOST}:{SANDBOX_PORTS['smtp-http'] + fleet.offset}"
    telegram = f"http://{HOST}:{SANDBOX_PORTS['telegram'] + fleet.offset}"
    ready: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    with fleet.http() as client:
        while time.monotonic() < deadline:
            try:
                response = client.get(f"{gateway}/ready")
                ready = response.json()
                upstreams = ready.get("upstreams", {})
                if response.status_code == 200 and all(
                    upstreams.get(name, {}).get("status") == "ok" for name in ROUTED
                ):
                    urls = dict.fromkeys(services, gateway)
                    return Endpoints(True, urls, tripay, smtp_http, ready, telegram)
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
    return Endpoints(False, services, tripay, smtp_http, ready, telegram)


class FlowError(AssertionError):
    pass


def expect(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise FlowError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response.json() if response.content else None


def new_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout: float,
    what: str,
    interval: float = 0.3,
) -> T:
    """`await probe()` until `done(result)`; FlowError with the last result after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise FlowError(f"{what} not within {timeout} s; last seen: {result!r}"[:4000])
        await asyncio.sleep(interval)


class Customer:
    """One customer: their own token, every call a real HTTP request."""

    def __init__(self, client: httpx.AsyncClient, api: Endpoints, email: str) -> None:
        self.client = client
        self.api = api
        self.email = email
        self.token: str | None = None
        self.user: dict[str, Any] = {}

    @property
    def headers(self) -> dict[str, str]:
        assert self.token, "log in first"
        return {"Authorization": f"Bearer {self.token}"}

    async def register(self, full_name: str = "Siti Pelanggan") -> dict[str, Any]:
        response = await self.client.post(
            f"{self.api['auth']}/api/v1/auth/register",
            json={"email": self.email, "password": PASSWORD, "full_name": full_name},
        )
        self.user = expect(response, 201)
        return self.user

    async def verification_token(self, timeout: float = 20) -> str:
        """The token of the verification link mailed to this customer (the SMTP sink)."""
        deadline = time.monotonic() + timeout
        while True:
            listing = await self.client.get(
                f"{self.api.smtp_http}/messages", params={"to": self.email}
            )
            for summary in expect(listing, 200)["messages"]:
                message = expect(
                    await self.client.get(f"{self.api.smtp_http}/messages/{summary['id']}"), 200
                )
                if match := VERIFY_LINK.search(message.get("text") or message.get("html") or ""):
                    return match.group(1)
            if time.monotonic() > deadline:
                raise FlowError(f"no verification mail for {self.email} within {timeout} s")
            await asyncio.sleep(0.2)

    async def verify_email(self, token: str) -> None:
        response = await self.client.post(
            f"{self.api['auth']}/api/v1/auth/verify-email", json={"token": token}
        )
        expect(response, 200, 204)

    async def login(self) -> dict[str, Any]:
        response = await self.client.post(
            f"{self.api['auth']}/api/v1/auth/login",
            json={"email": self.email, "password": PASSWORD},
        )
        pair = expect(response, 200)
        self.token = pair["access_token"]
        return pair

    async def me(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.api['auth']}/api/v1/auth/me", headers=self.headers)
        return dict(expect(response, 200))

    async def link_telegram(self, chat_id: int) -> dict[str, Any]:
        """Connect Telegram as a customer does: ask auth for the t.me link, then be the
        Telegram user who opens it and presses Start in chat `chat_id` (the stand-in posts the
        `/start <token>` update to the webhook notification registered). The stand-in's answer:
        `delivered`, the webhook's `status` and `response` (`outcome: linked` when it worked)."""
        link = expect(
            await self.client.post(
                f"{self.api['auth']}/api/v1/auth/telegram/link", headers=self.headers
            ),
            200,
            201,
        )
        url = urlsplit(link["url"])
        assert url.netloc == "t.me", link
        token = parse_qs(url.query)["start"][0]
        response = await self.client.post(
            f"{self.api.telegram}/sandbox/updates",
            json={"chat_id": chat_id, "text": f"/start {token}", "first_name": "Siti"},
        )
        return dict(expect(response, 200))

    async def notifications(self) -> list[dict[str, Any]]:
        """My in-app inbox (GET /api/v1/notifications, every page), newest first."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            response = await self.client.get(
                f"{self.api['notification']}/api/v1/notifications",
                headers=self.headers,
                params=params,
            )
            page = expect(response, 200)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def live(self) -> LiveNotifications:
        """A browser tab's WebSocket of in-app notifications (`async with`)."""
        assert self.token, "log in first"
        return LiveNotifications(self.api.live, self.token)

    async def plans(self) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.api['catalog']}/api/v1/catalog/plans")
        return list(expect(response, 200)["items"])

    async def plan(self, slug: str) -> dict[str, Any]:
        response = await self.client.get(f"{self.api['catalog']}/api/v1/catalog/plans/{slug}")
        return dict(expect(response, 200))

    async def place_order(
        self, plan: dict[str, Any], region: str, image: str, hostname: str
    ) -> httpx.Response:
        return await self.client.post(
            f"{self.api['order']}/api/v1/orders",
            headers=self.headers,
            json={
                "plan_id": plan["id"],
                "region": region,
                "image": image,
                "hostname": hostname,
                "billing_cycle": "monthly",
                "payment": "tripay",
            },
        )

    async def order(self, order_id: str) -> httpx.Response:
        return await self.client.get(
            f"{self.api['order']}/api/v1/orders/{order_id}", headers=self.headers
        )

    async def invoice(self, invoice_id: str) -> httpx.Response:
        return await self.client.get(
            f"{self.api['billing']}/api/v1/billing/invoices/{invoice_id}", headers=self.headers
        )

    async def pay(self, invoice_id: str, channel: str = "QRIS") -> httpx.Response:
        return await self.client.post(
            f"{self.api['billing']}/api/v1/billing/invoices/{invoice_id}/pay",
            headers=self.headers,
            json={"channel": channel},
        )

    async def invoice_of(self, order_id: str, timeout: float, interval: float = 0.1) -> Any:
        """The order's invoice, from my invoice list filtered by order. The order service asks
        billing for it through its outbox, after answering, and learns its id only when it is
        paid: a client finds it at billing, by `order_id`."""
        deadline = time.monotonic() + timeout
        while True:
            response = await self.client.get(
                f"{self.api['billing']}/api/v1/billing/invoices",
                headers=self.headers,
                params={"order_id": order_id},
            )
            for invoice in expect(response, 200)["items"]:
                if invoice["order_id"] == order_id:
                    return invoice
            if time.monotonic() > deadline:
                raise FlowError(f"no invoice for order {order_id} within {timeout} s")
            await asyncio.sleep(interval)

    async def wait_for_order(
        self, order_id: str, done: Any, timeout: float, interval: float = 0.2
    ) -> dict[str, Any]:
        """Poll the order until `done(order)`; FlowError with its last state otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            order = expect(await self.order(order_id), 200)
            if done(order):
                return dict(order)
            if order["status"] in ("PROVISIONING_FAILED", "CANCELLED", "EXPIRED"):
                raise FlowError(f"order {order['number']} ended {order['status']}: {order}")
            if time.monotonic() > deadline:
                raise FlowError(f"order {order['number']} still {order['status']}: {order}")
            await asyncio.sleep(interval)


async def tripay_pay(client: httpx.AsyncClient, api: Endpoints, invoice_number: str) -> Any:
    """What `webrana sandbox pay INV-...` does: the customer pays at Tripay, and the stand-in
    sends billing the signed callback."""
    response = await client.post(
        f"{api.tripay}/_sandbox/transactions/{invoice_number}/pay", json={}
    )
    return expect(response, 200)


def is_active(order: dict[str, Any]) -> bool:
    return order["status"] == "ACTIVE" and bool(order.get("ipv4"))


async def mails_to(client: httpx.AsyncClient, api: Endpoints, address: str) -> list[dict[str, Any]]:
    """Every mail the SMTP sink received for `address`, oldest first, with subject and bodies."""
    listing = expect(await client.get(f"{api.smtp_http}/messages", params={"to": address}), 200)
    mails = []
    for summary in reversed(listing["messages"]):  # the sink lists newest first
        mails.append(expect(await client.get(f"{api.smtp_http}/messages/{summary['id']}"), 200))
    return mails


async def telegram_messages(
    client: httpx.AsyncClient, api: Endpoints, chat_id: int
) -> list[dict[str, Any]]:
    """What the bot sent to `chat_id` at the Telegram stand-in, oldest first (`visible_text`
    is the text as the user sees it, after Telegram's HTML parsing)."""
    response = await client.get(f"{api.telegram}/sandbox/messages", params={"chat_id": chat_id})
    return list(expect(response, 200)["messages"])


async def telegram_webhook(
    client: httpx.AsyncClient, api: Endpoints, timeout: float = 20
) -> dict[str, Any]:
    """The webhook set at the Telegram stand-in; notification sets it (setWebhook) in the
    background at startup, so it may come a moment after the fleet is up."""

    async def probe() -> dict[str, Any]:
        return dict(expect(await client.get(f"{api.telegram}/sandbox/webhook"), 200))

    return await eventually(probe, lambda hook: bool(hook["url"]), timeout, "telegram webhook")


class LiveNotifications:
    """A browser tab listening to in-app notifications: a WebSocket to `url`, authenticated as
    a browser can (`new WebSocket(url, ["bearer", token])`, i.e. `Sec-WebSocket-Protocol:
    bearer, <token>`, no Authorization header), that collects every message the server sends
    in the background once `ready` arrived."""

    def __init__(self, url: str, token: str, ready_timeout: float = 10) -> None:
        self.url = url
        self.token = token
        self.ready_timeout = ready_timeout
        self.ready: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._arrived = asyncio.Condition()
        self.closed = False

    async def __aenter__(self) -> LiveNotifications:
        self._socket = await connect(
            self.url,
            subprotocols=[Subprotocol("bearer"), Subprotocol(self.token)],
            proxy=None,
            compression=None,
            open_timeout=self.ready_timeout,
        )
        try:
            assert self._socket.subprotocol == "bearer", self._socket.subprotocol
            first = json.loads(await asyncio.wait_for(self._socket.recv(), self.ready_timeout))
            if first.get("type") != "ready":
                raise FlowError(f"the live socket's first message is not ready: {first}")
        except BaseException:
            await self._socket.close()
            raise
        self.ready = first
        self._reader = asyncio.create_task(self._read(self._socket))
        return self

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for text in socket:
                self.messages.append(json.loads(text))
                async with self._arrived:
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        self.close_code = socket.close_code  # the server closed it (or we did, on exit)
        self.closed = True
        async with self._arrived:
            self._arrived.notify_all()

    async def notification(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """The first notification pushed so far or from now on that `wanted` accepts."""

        def found() -> dict[str, Any] | None:
            return next((n for n in self.new() if wanted(n)), None)

        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: found() is not None or self.closed)
        except TimeoutError:
            raise FlowError(f"no such notification within {timeout} s") from None
        match = found()
        if match is None:
            raise FlowError(f"the live socket closed ({self.close_code}) before it came")
        return match

    def new(self) -> list[dict[str, Any]]:
        """The notifications pushed so far (`notification:new`), in arrival order."""
        return [m["notification"] for m in self.messages if m.get("type") == "notification:new"]

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
