"""`python -m webrana_common.worker_main order_service.worker.WorkerSettings`: arq's own
command line, on uvloop like the APIs under uvicorn (the default loop's socket handling was
a fifth of a provisioning worker's CPU under load). The options are arq's (`--help`)."""

from __future__ import annotations

import asyncio

import uvloop
from arq.cli import cli


def main() -> None:
    # Set before arq's Worker asks for its loop; only processes started this way use it.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    cli()


if __name__ == "__main__":
    main()
