"""`webrana up` as `make run` starts it: a real process serving through the URLs it prints,
restarting what crashes, keeping its data across restarts, and leaving nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator

import asyncpg
import psutil
import pytest
from redis.asyncio import Redis

from devstack.fleet import Service
from devstack.home import REPO_ROOT
from devstack.testing import Fleet, free_offset, processes_naming, still_running

MARKER_TABLE = "e2e_marker"
MARKER_KEY = "e2e:marker"
AUTH_REDIS_DB = Service("auth", REPO_ROOT / "services" / "auth").redis_db


async def _write_markers(fleet: Fleet) -> None:
    conn = await asyncpg.connect(fleet.database_url("auth"))
    try:
        await conn.execute(f"CREATE TABLE {MARKER_TABLE} (id int)")
    finally:
        await conn.close()
    redis = Redis.from_url(fleet.redis_url(AUTH_REDIS_DB))
    try:
        await redis.set(MARKER_KEY, "1")
    finally:
        await redis.aclose()


async def _markers(fleet: Fleet) -> tuple[bool, bool]:
    """Whether the marker table and the marker key are (still) there."""
    conn = await asyncpg.connect(fleet.database_url("auth"))
    try:
        table = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", MARKER_TABLE)
    finally:
        await conn.close()
    redis = Redis.from_url(fleet.redis_url(AUTH_REDIS_DB))
    try:
        key = bool(await redis.exists(MARKER_KEY))
    finally:
        await redis.aclose()
    return table, key


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A running fleet with a marker in its data (a table in auth's database, a key in auth's
    Redis database), for the tests of what a restart keeps and what `--fresh` wipes."""
    fleet = Fleet(tmp_path_factory.mktemp("fleet") / "home", free_offset())
    fleet.start()
    try:
        asyncio.run(_write_markers(fleet))
        yield fleet
    finally:
        fleet.kill()


def _wait_ready(fleet: Fleet, url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with fleet.http() as client:
        while True:
            try:
                if client.get(f"{url}/ready").status_code == 200:
                    return
            except Exception:
                pass
            assert time.monotonic() < deadline, f"{url}/ready never answered 200"
            time.sleep(0.2)


def test_auth_answers_ready_through_the_printed_url(fleet: Fleet) -> None:
    url = fleet.printed_url("auth")

    assert url == f"http://127.0.0.1:{3001 + fleet.offset}"
    with fleet.http() as client:
        response = client.get(f"{url}/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"].keys() == {"database", "redis"}


def test_status_reports_the_running_fleet(fleet: Fleet) -> None:
    result = fleet.webrana("status")

    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[3:]}
    assert rows["auth"][1] == str(fleet.child("auth")["pid"])
    assert rows["auth"][3:5] == ["running", "ok"]
    assert {"auth-worker", "sentry", "smtp", "postgres", "redis"} <= rows.keys()

    report = json.loads(fleet.webrana("status", "--json").stdout)
    assert report["running"] and report["healthy"]
    assert {p["name"]: p["health"] for p in report["processes"]}["auth"] == "ok"


def test_killed_service_is_restarted(fleet: Fleet) -> None:
    killed = fleet.child("auth")["pid"]
    seen = len(fleet.lines)

    os.kill(killed, signal.SIGKILL)

    fleet.wait_for(r"auth was killed by SIGKILL.*restarting", 10, after=seen)
    deadline = time.monotonic() + 20
    while fleet.child("auth")["pid"] in (killed, None):
        assert time.monotonic() < deadline, "auth was not restarted"
        time.sleep(0.2)
    _wait_ready(fleet, fleet.printed_url("auth"))
    assert fleet.child("auth")["restarts"] == 1
    assert fleet.webrana("status").returncode == 0


def test_sigint_stops_every_process(fleet: Fleet) -> None:
    processes = fleet.processes()
    commands = " ".join(" ".join(p.cmdline()) for p in processes)
    for expected in (
        "uvicorn",
        "worker.WorkerSettings",
        "redis-server",
        "postgres",
        "devstack.sandbox.smtp",
    ):
        assert expected in commands  # else "nothing is left" below would prove nothing

    assert fleet.stop(signal.SIGINT) == 0

    deadline = time.monotonic() + 5
    while still_running(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert still_running(processes) == []
    assert processes_naming(fleet.home) == []
    assert not (fleet.home / "state.json").exists()
    assert fleet.webrana("status").returncode == 1


def test_restart_keeps_data(fleet: Fleet) -> None:
    fleet.stop()

    fleet.start()
    try:
        assert asyncio.run(_markers(fleet)) == (True, True)
    finally:
        assert fleet.stop() == 0


def test_fresh_starts_empty(fleet: Fleet) -> None:
    fleet.stop()
    keys_before = (fleet.home / "secrets.json").read_text()

    fleet.start("--fresh")
    try:
        assert asyncio.run(_markers(fleet)) == (False, False)
        assert (fleet.home / "secrets.json").read_text() != keys_before
        _wait_ready(fleet, fleet.printed_url("auth"))
    finally:
        assert fleet.stop() == 0
    assert not psutil.pid_exists(fleet.process.pid)  # type: ignore[union-attr]
