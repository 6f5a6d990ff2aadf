"""`webrana`: the local fleet's command line (`make run` is `webrana up`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from devstack.console import Console
from devstack.errors import FleetError
from devstack.fleet import REDIS_PORT, SANDBOX_PORTS, SERVICE_PORTS
from devstack.home import resolve_home
from devstack.sandbox.tripay_cli import add_sandbox_parser, run_sandbox

MAX_PORT_OFFSET = 60000  # keeps the highest port (39xx + offset) below 65536

_SERVICES = ", ".join(f"{n} {p}" for n, p in SERVICE_PORTS.items())
_SANDBOX = ", ".join(f"{n} {p}" for n, p in SANDBOX_PORTS.items())
DESCRIPTION = f"""\
Run WeBrana Cloud on this machine: embedded PostgreSQL and Redis (unless DATABASE_URL /
REDIS_URL name servers), every service of the checkout with its worker, and the sandbox
stand-ins. Data lives in .devstack/ at the repo root, or in $WEBRANA_HOME.

Ports (all shifted by --port-offset):
  services  {_SERVICES}
  sandbox   {_SANDBOX}
  redis     {REDIS_PORT} (embedded; PostgreSQL listens on a Unix socket)"""


def _port_offset(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= MAX_PORT_OFFSET:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_PORT_OFFSET}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        metavar="DIR",
        help="the fleet's data folder (default: $WEBRANA_HOME, else <repo>/.devstack)",
    )
    parser = argparse.ArgumentParser(
        prog="webrana",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        parents=[common],
        help="start the whole fleet; Ctrl-C stops it",
        description="Start servers, create and migrate each service's database, seed, then run "
        "the sandbox, every service and its worker until Ctrl-C (SIGINT) or SIGTERM. A crashed "
        "process is restarted with backoff.",
    )
    up.add_argument(
        "--port-offset",
        type=_port_offset,
        # A string default goes through `type` too, so a bad variable is reported like a flag.
        default=os.environ.get("WEBRANA_PORT_OFFSET", "0"),
        metavar="N",
        help="add N to every port, to run a second fleet beside another "
        "(default: $WEBRANA_PORT_OFFSET, else 0)",
    )
    up.add_argument("--fresh", action="store_true", help="wipe the fleet's data first")
    up.add_argument("--log-level", default="INFO", help="LOG_LEVEL of every service (INFO)")
    up.add_argument(
        "--ready-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for every /ready before printing the table anyway (60)",
    )
    up.add_argument(
        "--raw-logs", action="store_true", help="print the services' JSON log lines as they are"
    )

    status = commands.add_parser(
        "status",
        parents=[common],
        help="what runs: pids, ports, /health",
        description="Exit code 0: every process runs and is healthy; 1: no fleet runs; "
        "2: a fleet runs but some process is down or unhealthy.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")

    migrate = commands.add_parser(
        "migrate",
        parents=[common],
        help="create each service's database if missing and run its migrations",
        description="alembic upgrade head for every service (or those named), against the "
        "server of DATABASE_URL or the embedded one.",
    )
    migrate.add_argument(
        "--service", action="append", metavar="NAME", help="only this service (repeatable)"
    )

    admin = commands.add_parser(
        "create-admin",
        parents=[common],
        help="create an admin user in auth's database",
        description="Create an admin account (auth_service.bootstrap.create_admin). Without "
        "--password, it is asked for at a terminal, else read from the first line of stdin.",
    )
    admin.add_argument(
        "--email", required=True, help="the admin's email; an existing account is promoted"
    )
    admin.add_argument("--password", help="better left out: shells keep a history")
    admin.add_argument("--full-name", required=True, help="shown in the admin UI and audit log")

    add_sandbox_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    home = resolve_home(args.home)
    console = Console(raw_logs=getattr(args, "raw_logs", False))
    try:
        if args.command == "up":
            from devstack.up import UpOptions, run_up

            return run_up(
                UpOptions(
                    home=home,
                    port_offset=args.port_offset,
                    fresh=args.fresh,
                    log_level=args.log_level.upper(),
                    ready_timeout=args.ready_timeout,
                ),
                console,
            )
        if args.command == "status":
            from devstack.status import run_status

            return run_status(home, console, as_json=args.json)
        if args.command == "migrate":
            from devstack.migrate import run_migrate

            return run_migrate(home, console, args.service)
        if args.command == "sandbox":
            return run_sandbox(args, home, console)
        from devstack.create_admin import run_create_admin

        return run_create_admin(
            home, console, email=args.email, password=args.password, full_name=args.full_name
        )
    except FleetError as exc:
        console.error(str(exc))
        return 1
    except KeyboardInterrupt:  # Ctrl-C outside `up` (which handles its own)
        return 130


if __name__ == "__main__":
    sys.exit(main())
