"""`webrana create-admin`: the first admin of a fleet, through auth's own bootstrap code."""

from __future__ import annotations

import asyncio
import getpass
import inspect
import sys
from contextlib import AsyncExitStack

from devstack.console import Console
from devstack.errors import FleetError
from devstack.home import Home
from devstack.migrate import migrated_databases, select_services


def read_password(prompt: bool) -> str:
    """Typed twice at a terminal; else the first line of stdin (`... < secret-file`)."""
    if prompt:
        password = getpass.getpass("password: ")
        if getpass.getpass("password again: ") != password:
            raise FleetError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise FleetError("an empty password is refused")
    return password


def run_create_admin(
    home: Home, console: Console, *, email: str, password: str | None, full_name: str
) -> int:
    auth = select_services(["auth"])
    sys.path.insert(0, str(auth[0].root))  # importable even if not installed
    try:
        # Imported only now: a fleet without this module must still run every other command.
        from auth_service.bootstrap import create_admin  # type: ignore[import-not-found]
    except ImportError as exc:
        raise FleetError(f"auth_service.bootstrap.create_admin is not available: {exc}") from exc
    password = password or read_password(prompt=sys.stdin.isatty())

    async def main() -> object:
        async with AsyncExitStack() as stack:
            urls = await migrated_databases(home, auth, console, stack)
            result = create_admin(urls["auth"], email, password, full_name)
            return await result if inspect.isawaitable(result) else result

    from webrana_common.errors import AppError

    try:
        result = asyncio.run(main())
    # A refused email or password is a sentence for the person typing, not a traceback.
    except AppError as exc:
        raise FleetError(f"{exc.code}: {exc.detail}") from exc
    except ValueError as exc:
        raise FleetError(str(exc)) from exc
    console.info(f"admin {email} is ready" + (f" (user id {result})" if result else ""))
    return 0
