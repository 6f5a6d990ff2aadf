"""`webrana migrate`: every service's migrations against DATABASE_URL's server, or the embedded
one (attached to if `webrana up` runs, else started for the occasion and stopped after)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack

from devstack import databases
from devstack.console import Console
from devstack.errors import FleetError
from devstack.fleet import Ports, Service, discover_services
from devstack.home import Home


def select_services(names: Sequence[str] | None) -> list[Service]:
    services, _ = discover_services()
    if not names:
        return services
    known = {s.name: s for s in services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise FleetError(f"no such service: {', '.join(unknown)} (have: {', '.join(known)})")
    return [known[n] for n in names]


async def migrated_databases(
    home: Home, services: Sequence[Service], console: Console, stack: AsyncExitStack
) -> dict[str, str]:
    """Each service's database URL, once the database exists and is at head. Redis is not
    started: neither migrations nor admin bootstrap need it."""
    home.create()
    servers = await databases.start_servers(home, Ports(), console, stack, redis=False)
    await databases.ensure_databases(servers.postgres_url, services, console)
    urls = servers.database_urls(services)
    await databases.migrate(services, urls, console)
    return urls


def run_migrate(home: Home, console: Console, names: Sequence[str] | None = None) -> int:
    services = select_services(names)

    async def main() -> None:
        async with AsyncExitStack() as stack:
            await migrated_databases(home, services, console, stack)

    asyncio.run(main())
    return 0
