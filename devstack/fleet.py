"""What the fleet runs: the services found in this checkout, their workers, the sandbox
stand-ins, and the port each one listens on."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.home import REPO_ROOT

HOST = "127.0.0.1"  # a development fleet is not meant to be reachable from the network

# The table of ARCHITECTURE.md. The order is also each service's Redis database number.
SERVICE_PORTS: dict[str, int] = {
    "gateway": 3000,
    "auth": 3001,
    "catalog": 3002,
    "order": 3003,
    "billing": 3004,
    "notification": 3005,
    "instance": 3006,
    "provider": 3007,
}
# Embedded Redis and the sandbox stand-ins, out of the services' way in the 39xx range.
REDIS_PORT = 3980
SANDBOX_PORTS: dict[str, int] = {
    "sentry": 3990,
    "smtp": 3991,
    "smtp-http": 3992,
    "digitalocean": 3993,
    "vultr": 3994,
    "linode": 3995,
    "telegram": 3996,
    "tripay": 3997,
}

SANDBOX_DIR = REPO_ROOT / "devstack" / "sandbox"


@dataclass(frozen=True)
class Ports:
    """Every port of a fleet, shifted by `offset` so a second fleet (a test) runs beside one."""

    offset: int = 0

    def service(self, name: str) -> int:
        return SERVICE_PORTS[name] + self.offset

    def sandbox(self, name: str) -> int:
        return SANDBOX_PORTS[name] + self.offset

    @property
    def redis(self) -> int:
        return REDIS_PORT + self.offset

    def service_url(self, name: str) -> str:
        return f"http://{HOST}:{self.service(name)}"


@dataclass(frozen=True)
class Service:
    name: str
    root: Path  # services/<name>

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def package_dir(self) -> Path:
        return self.root / self.package

    @property
    def has_worker(self) -> bool:
        return (self.package_dir / "worker.py").exists() or (
            self.package_dir / "worker" / "__init__.py"
        ).exists()

    @property
    def has_database(self) -> bool:
        """The gateway has no database; every service that owns one has migrations."""
        return self.alembic_ini.exists()

    @property
    def has_seed(self) -> bool:
        return (self.package_dir / "seed.py").exists()

    @property
    def alembic_ini(self) -> Path:
        return self.root / "alembic.ini"

    @property
    def database_name(self) -> str:
        return f"webrana_{self.name}"

    @property
    def redis_db(self) -> int:
        """Its own Redis database, so that each service's arq queue is seen by its worker only."""
        return list(SERVICE_PORTS).index(self.name)


def discover_services(repo_root: Path = REPO_ROOT) -> tuple[list[Service], list[str]]:
    """Services of this checkout (services/<name>/<name>_service/app.py), in the table's order,
    and a warning for each app found that has no port in the table."""
    services = [
        Service(name, repo_root / "services" / name)
        for name in SERVICE_PORTS
        if (repo_root / "services" / name / f"{name}_service" / "app.py").exists()
    ]
    warnings = [
        f"{app.parent.parent.relative_to(repo_root)} has an app but no port in "
        "devstack/fleet.py SERVICE_PORTS; skipped"
        for app in sorted((repo_root / "services").glob("*/*_service/app.py"))
        if app.parent.parent.name not in SERVICE_PORTS
    ]
    return services, warnings


def uvicorn_argv(factory: str, port: int, log_level: str = "info") -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", HOST, "--port", str(port),
        # "auto" would log a failing lifespan and serve anyway; a broken startup must crash.
        "--lifespan", "on",
        # Open WebSockets must not hold a shutdown past the supervisor's grace period.
        "--timeout-graceful-shutdown", "5",
        # Small JSON messages: per-message deflate would cost a zlib context per socket
        # (services/notification/README.md: 110 KB per connection with it, 47 KB without).
        "--ws-per-message-deflate", "false",
        # A protocol ping a minute (uvicorn's default: every 20 s) still finds dead peers; with
        # thousands of sockets every 20 s cost a tenth of a core (services/notification).
        "--ws-ping-interval", "60",
        "--log-level", log_level.lower(),
    ]  # fmt: skip


def worker_argv(service: Service) -> list[str]:
    return [
        sys.executable,
        "-m",
        "webrana_common.worker_main",
        f"{service.package}.worker.WorkerSettings",
    ]


@dataclass(frozen=True)
class Sandbox:
    """A local stand-in for an outside system, run as one process."""

    name: str
    module: str  # under devstack/sandbox/
    port_names: Sequence[str]
    # For stand-ins that are an ASGI app factory run by uvicorn: where a person looks first,
    # and the settings (by name, given the stand-in's base URL) that point services at it.
    docs_path: str = "/docs"
    service_env: Callable[[str], dict[str, str]] | None = None

    @property
    def available(self) -> bool:
        # Stand-ins arrive one by one; a missing one is skipped, not an error.
        return (SANDBOX_DIR / f"{self.module}.py").exists()


SENTRY = Sandbox("sentry", "sentry", ("sentry",), "/api/envelopes")
SMTP = Sandbox("smtp", "smtp", ("smtp", "smtp-http"))
DIGITALOCEAN = Sandbox(
    "digitalocean",
    "digitalocean",
    ("digitalocean",),
    "/_sandbox/docs",
    lambda url: {"DIGITALOCEAN_API_URL": f"{url}/v2", "DIGITALOCEAN_TOKEN": "sandbox-do-token"},
)
VULTR = Sandbox(
    "vultr",
    "vultr",
    ("vultr",),
    "/_sandbox/docs",
    lambda url: {"VULTR_API_URL": f"{url}/v2", "VULTR_API_KEY": "sandbox-vultr-key"},
)
LINODE = Sandbox(
    "linode",
    "linode",
    ("linode",),
    "/_sandbox/docs",
    lambda url: {"LINODE_API_URL": f"{url}/v4", "LINODE_API_TOKEN": "sandbox-linode-token"},
)
TELEGRAM = Sandbox(
    "telegram",
    "telegram",
    ("telegram",),
    "/docs",
    lambda url: {
        "TELEGRAM_API_URL": url,
        "TELEGRAM_BOT_TOKEN": "123456:sandbox-token",
        # notification registers its webhook (PUBLIC_BASE_URL + path, with this secret) with
        # the stand-in at startup; POST /sandbox/updates then plays a user through it.
        "TELEGRAM_WEBHOOK_SECRET": "devstack-webhook-secret",
        "TELEGRAM_REGISTER_WEBHOOK": "true",
    },
)
# The sandbox merchant's credentials are the stand-in's defaults
# (devstack/sandbox/tripay_standin/settings.py). Callbacks reach billing through the gateway
# (billing's default TRIPAY_CALLBACK_URL is PUBLIC_BASE_URL + /api/v1/billing/callbacks/tripay).
TRIPAY = Sandbox(
    "tripay",
    "tripay",
    ("tripay",),
    "/docs",
    lambda url: {
        "TRIPAY_API_URL": f"{url}/api-sandbox",
        "TRIPAY_MERCHANT_CODE": "T0001",
        "TRIPAY_API_KEY": "DEV-sandbox-api-key",
        "TRIPAY_PRIVATE_KEY": "sandbox-private-key",
    },
)
# Stand-ins that are one uvicorn app each (SMTP runs its own two servers).
HTTP_SANDBOXES: tuple[Sandbox, ...] = (SENTRY, DIGITALOCEAN, VULTR, LINODE, TELEGRAM, TRIPAY)
SANDBOXES: tuple[Sandbox, ...] = (*HTTP_SANDBOXES, SMTP)


def sentry_dsn(ports: Ports, public_key: str) -> str:
    return f"http://{public_key}@{HOST}:{ports.sandbox('sentry')}/1"


def all_ports(ports: Ports, services: Sequence[Service], *, embedded_redis: bool) -> dict[str, int]:
    """Every TCP port `webrana up` will listen on, by what listens there."""
    wanted = {s.name: ports.service(s.name) for s in services}
    for sandbox in SANDBOXES:
        if sandbox.available:
            wanted |= {name: ports.sandbox(name) for name in sandbox.port_names}
    if embedded_redis:
        wanted["redis"] = ports.redis
    return wanted


def busy_ports(wanted: Mapping[str, int]) -> list[str]:
    """Those of `wanted` something already listens on, as "name port"."""
    busy = []
    for name, port in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As uvicorn binds: a socket of a fleet just stopped (TIME_WAIT) is not "busy".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                busy.append(f"{name} {port}")
    return busy
