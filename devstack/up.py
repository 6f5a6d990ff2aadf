"""`webrana up`: data servers, one database per service, migrations, seeds, then every process
of the fleet under the supervisor until SIGINT (Ctrl-C) or SIGTERM stops it all."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass

from devstack import databases
from devstack.console import Console
from devstack.credentials import DEVELOPER_CALLER, FleetCredentials, load_or_create
from devstack.databases import DataServers, mask_password
from devstack.errors import FleetError
from devstack.fleet import (
    SENTRY,
    SERVICE_PORTS,
    Ports,
    Service,
    all_ports,
    busy_ports,
    discover_services,
    sentry_dsn,
)
from devstack.home import Home
from devstack.processes import FleetEnvironment, plan
from devstack.readiness import wait_until_ready
from devstack.state import (
    kill_leftovers,
    process_identity,
    read_state,
    supervisor_alive,
    write_state,
)
from devstack.supervisor import Supervisor


@dataclass(frozen=True)
class UpOptions:
    home: Home
    port_offset: int = 0
    fresh: bool = False
    log_level: str = "INFO"
    ready_timeout: float = 60.0


class Stopper:
    """The first signal cancels the main task (its exit stack then stops everything in order);
    a second one, while that runs, kills every process group at once."""

    def __init__(self, task: asyncio.Task[object], console: Console) -> None:
        self.task = task
        self.console = console
        self.requested = False
        self.supervisor: Supervisor | None = None

    def __call__(self, sig: signal.Signals) -> None:
        if not self.requested:
            self.requested = True
            self.console.info(f"\n* {sig.name}: stopping the fleet (again to kill at once)")
            self.task.cancel()
        elif self.supervisor is not None:
            self.console.warn("killing every process now")
            self.supervisor.kill()


def run_up(options: UpOptions, console: Console) -> int:
    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        stopper = Stopper(task, console)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopper, sig)
        try:
            await _up(options, console, stopper)
        except asyncio.CancelledError:
            if not stopper.requested:
                raise
            task.uncancel()
            console.info("* stopped")
        return 0

    return asyncio.run(main())


def _claim_home(home: Home, console: Console) -> None:
    home.create()
    previous = read_state(home.state_file)
    if previous and supervisor_alive(previous):
        pid = previous["supervisor"]["pid"]
        raise FleetError(
            f"a fleet is already running from {home.root} (pid {pid}); see `webrana status`, "
            "or run a second one with WEBRANA_HOME and --port-offset"
        )
    if previous:
        console.info("* cleaning up after a previous `webrana up` that did not stop")
        kill_leftovers(previous, home.redis, console)
        home.state_file.unlink(missing_ok=True)


async def _up(options: UpOptions, console: Console, stopper: Stopper) -> None:
    home = options.home
    services, warnings = discover_services()
    for warning in warnings:
        console.warn(warning)
    if not services:
        raise FleetError("no service found (services/<name>/<name>_service/app.py)")
    _claim_home(home, console)
    # Written at once: a second `webrana up` on this home, or `webrana status`, must see this
    # one while it is still migrating.
    write_state(home.state_file, _starting_state(options))
    try:
        await _run(options, services, console, stopper)
    finally:
        home.state_file.unlink(missing_ok=True)


async def _run(
    options: UpOptions, services: list[Service], console: Console, stopper: Stopper
) -> None:
    began = time.monotonic()
    home = options.home
    ports = Ports(options.port_offset)
    external_db, external_redis = "DATABASE_URL" in os.environ, "REDIS_URL" in os.environ
    busy = busy_ports(all_ports(ports, services, embedded_redis=not external_redis))
    if busy:
        raise FleetError(
            f"already in use: {', '.join(busy)}. Another fleet? `webrana status`, or shift every "
            "port with --port-offset N"
        )
    if options.fresh:
        with console.step(f"wiping {home.root} (--fresh)"):
            databases.stop_postgres_at(home.postgres)
            home.wipe()
            home.create()
            write_state(home.state_file, _starting_state(options))
    credentials = load_or_create(home.secrets_file, SERVICE_PORTS)

    async with AsyncExitStack() as stack:
        servers = await databases.start_servers(home, ports, console, stack)
        assert servers.redis_url is not None
        if options.fresh and external_db:
            await databases.drop_databases(servers.postgres_url, services, console)
        if options.fresh and external_redis:
            await databases.flush_redis(servers.redis_url, services, console)
        await databases.ensure_databases(servers.postgres_url, services, console)
        urls = servers.database_urls(services)
        await databases.migrate(services, urls, console)
        await databases.seed(services, urls, console)

        fleet = FleetEnvironment(
            home, ports, credentials, urls, servers.redis_url, options.log_level
        )
        supervisor: Supervisor | None = None

        def on_change() -> None:  # a child started, crashed or gave up: its pid is news
            if supervisor is not None:
                _write_state(options, servers, supervisor, urls)

        supervisor = Supervisor(plan(services, fleet), console, on_change)
        stopper.supervisor = supervisor
        stack.push_async_callback(_stop_processes, supervisor, console)
        console.info(f"* starting {len(supervisor.children)} processes")
        supervisor.start()
        _write_state(options, servers, supervisor, urls)
        results = await wait_until_ready(supervisor.children, console, options.ready_timeout)
        _print_summary(console, services, supervisor, results, servers, options, credentials)
        console.info(
            f"* fleet up in {time.monotonic() - began:.1f}s; Ctrl-C stops it, `webrana status` "
            "shows it"
        )
        await asyncio.Event().wait()  # until a signal cancels this task


def _starting_state(options: UpOptions) -> dict[str, object]:
    return {
        "supervisor": process_identity(os.getpid()),
        "phase": "starting",
        "home": str(options.home.root),
        "port_offset": options.port_offset,
        "processes": [],
    }


async def _stop_processes(supervisor: Supervisor, console: Console) -> None:
    with console.step(f"stopping {len(supervisor.children)} processes"):
        await supervisor.stop()


def _write_state(
    options: UpOptions, servers: DataServers, supervisor: Supervisor, urls: dict[str, str]
) -> None:
    write_state(
        options.home.state_file,
        {
            "supervisor": process_identity(os.getpid()),
            "phase": "running",
            "home": str(options.home.root),
            "port_offset": options.port_offset,
            "postgres": {
                "url": mask_password(servers.postgres_url),
                "embedded": servers.postgres is not None,
                "pid": servers.postgres_pid,
                "databases": {name: mask_password(url) for name, url in urls.items()},
            },
            "redis": {
                **(process_identity(servers.redis_pid) or {}),
                "url": mask_password(servers.redis_url or ""),
                "embedded": servers.redis is not None,
            },
            "processes": [
                {
                    **(process_identity(child.pid) or {"pid": None}),
                    "name": child.name,
                    "kind": child.spec.kind,
                    "port": child.spec.port,
                    "url": child.spec.url,
                    "docs_url": child.spec.docs_url,
                    "health_url": child.spec.health_url,
                    "status": child.status,
                    "restarts": child.restarts,
                }
                for child in supervisor.children
            ],
        },
    )


def _print_summary(
    console: Console,
    services: list[Service],
    supervisor: Supervisor,
    results: dict[str, str],
    servers: DataServers,
    options: UpOptions,
    credentials: FleetCredentials,
) -> None:
    rows = [
        [c.name, c.spec.url or "-", c.spec.docs_url or "-", results[c.name]]
        for c in supervisor.children
    ]
    rows.append(
        ["postgres", mask_password(servers.postgres_url),
         "-", "embedded" if servers.postgres else "DATABASE_URL"]
    )  # fmt: skip
    rows.append(
        ["redis", mask_password(servers.redis_url or ""),
         "-", "embedded" if servers.redis else "REDIS_URL"]
    )  # fmt: skip
    console.info("")
    console.table(["service", "URL", "docs", "status"], rows)
    console.info("")
    names = {s.name for s in services}
    if "gateway" in names:
        console.info(f"  gateway: {Ports(options.port_offset).service_url('gateway')}")
    else:
        console.info("  no gateway in this checkout yet: call the services directly")
    console.info(
        f"  internal API keys: {options.home.secrets_file} "
        f"(caller '{DEVELOPER_CALLER}' is yours, for X-API-Key)"
    )
    if SENTRY.available:
        dsn = sentry_dsn(Ports(options.port_offset), credentials.sentry_public_key)
        console.info(f"  SENTRY_DSN of the services: {dsn}")
    console.info(f"  data: {options.home.root}")
    lagging = [name for name, result in results.items() if result not in ("ready", "running")]
    if lagging:
        console.warn(
            f"not ready: {', '.join(lagging)} (their output above says why); the rest runs"
        )
