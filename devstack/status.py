"""`webrana status`: what the state file of a running `webrana up` says, checked against the
live processes (pid alive) and their /health."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from devstack.console import Console
from devstack.home import Home
from devstack.readiness import http_client, probe
from devstack.state import is_alive, read_state, supervisor_alive


async def _health(processes: list[dict[str, Any]]) -> list[str]:
    async with http_client(timeout=1.5) as client:

        async def one(entry: dict[str, Any]) -> str:
            if not is_alive(entry):
                return "down"
            url = entry.get("health_url")
            return await probe(client, url) if url else "-"

        return await asyncio.gather(*(one(e) for e in processes))


def run_status(home: Home, console: Console, *, as_json: bool = False) -> int:
    """0 when every process runs and answers /health, 1 when no fleet runs, 2 when some part
    of a running fleet is down."""
    state = read_state(home.state_file)
    if state is None or not supervisor_alive(state):
        if as_json:
            console.info(json.dumps({"running": False, "home": str(home.root)}))
        elif state is None:
            console.info(f"no fleet is running from {home.root}")
        else:
            console.info(
                f"no fleet is running from {home.root} (the last `webrana up` was killed; "
                "the next one cleans up after it)"
            )
        return 1
    if state.get("phase") == "starting":
        pid = state["supervisor"]["pid"]
        if as_json:
            console.info(json.dumps({"running": True, "healthy": False, **state}, indent=2))
        else:
            console.info(f"a fleet is starting from {home.root} (pid {pid}): servers, migrations")
        return 2
    processes: list[dict[str, Any]] = state.get("processes", [])
    health = asyncio.run(_health(processes))
    for entry, result in zip(processes, health, strict=True):
        entry["alive"] = is_alive(entry)
        entry["health"] = result
    redis = state.get("redis", {})
    redis["alive"] = is_alive(redis) if redis.get("embedded") else None
    healthy = all(e["alive"] and e["health"] in ("ok", "-") for e in processes)
    healthy = healthy and redis["alive"] is not False
    if as_json:
        console.info(json.dumps({"running": True, "healthy": healthy, **state}, indent=2))
        return 0 if healthy else 2

    started = state["supervisor"]["create_time"]
    console.info(
        f"fleet running: pid {state['supervisor']['pid']}, up {_age(time.time() - started)}, "
        f"home {state['home']}, port offset {state['port_offset']}"
    )
    rows = [
        [
            e["name"],
            str(e["pid"] or "-"),
            str(e["port"] or "-"),
            e["status"] if e["alive"] else "down",
            e["health"],
            str(e["restarts"]),
            e["url"] or "-",
        ]
        for e in processes
    ]
    postgres = state.get("postgres", {})
    rows.append(["postgres", str(postgres.get("pid") or "-"), "-", "-", "-", "-", postgres["url"]])
    alive = {None: "-", True: "running", False: "down"}[redis["alive"]]
    rows.append(["redis", str(redis.get("pid", "-")), "-", alive, "-", "-", redis["url"]])
    console.table(["name", "pid", "port", "process", "health", "restarts", "URL"], rows)
    return 0 if healthy else 2


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
