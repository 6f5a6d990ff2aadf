"""Live notifications at scale, against one notification API process (uvicorn, as devstack
starts it) plus its arq worker, embedded PostgreSQL and Redis, and an auth-shaped stub (JWKS,
`GET /internal/users/{id}`, `GET /internal/users`) serving N users from memory.

This process is the client side (the 20,000 open-files cap per process is why the clients
live apart from the server): N WebSockets, each authenticated with its own token in the first
message, then

1. RSS of the server process with N connections open (target: N=5,000 within 500 MB);
2. per-user push latency, from just before `POST /internal/notifications/send` to the
   client's receipt of `notification:new`, at 200 sends/s to random connected users
   (target p99 <= 50 ms);
3. a SYSTEM_ANNOUNCEMENT broadcast (admin POST, worker pages through the stub's listing) to
   all N connected users: time from the POST until the last client has it (target <= 2 s).

Users have a verified email (notification caches only those: an unverified address is
looked up afresh each time) and no Telegram chat; sends and the broadcast are restricted to
`in_app`, so only the in-app path is measured.
`--smoke`: 200 connections, a couple of seconds per phase, no targets. `BENCH_SEND_RATE`
(default 200) and `BENCH_CONNECTIONS` (default 5000) change the load, e.g. to find the highest
rate that keeps the p99 target on a given machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from webrana_common.embedded import free_port
from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.servers import postgres_server, redis_server

REPO_ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"
API_KEY = "bench-order-key"
USER_NAMESPACE = uuid.UUID("6f6f7c2e-3f6b-4a52-9d7e-2b0c2b1f0a11")
TARGET_RSS_MB = 500.0
TARGET_P99_MS = 50.0
TARGET_BROADCAST_S = 2.0
SEND_RATE = int(os.environ.get("BENCH_SEND_RATE", "200"))  # per second
IDLE_SECONDS = 10.0
ACTIVE_USERS = 1000  # the users the push phase sends to, among the connected ones


def user_id(index: int) -> uuid.UUID:
    return uuid.uuid5(USER_NAMESPACE, f"bench-user-{index}")


def auth_stub() -> Any:
    """`uvicorn --factory tests.perf.bench_notifications:auth_stub`: what notification asks
    of auth, for BENCH_USERS users, from memory."""
    from fastapi import FastAPI, Query
    from fastapi.responses import JSONResponse

    count = int(os.environ["BENCH_USERS"])
    jwks = json.loads(os.environ["BENCH_JWKS"])
    users = [
        {
            "id": str(user_id(i)),
            "email": f"bench{i}@example.co.id",
            "full_name": f"Bench {i}",
            "phone": None,
            "locale": "en" if i % 5 == 0 else "id",
            "role": "customer",
            "status": "active",
            "email_verified": True,
            "telegram_chat_id": None,
        }
        for i in range(count)
    ]
    by_id = {u["id"]: u for u in users}
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def keys() -> dict[str, Any]:
        return jwks

    @app.get("/internal/users/{uid}")
    async def one(uid: str) -> JSONResponse:
        user = by_id.get(uid)
        if user is None:
            return JSONResponse({"code": "user_not_found"}, status_code=404)
        return JSONResponse(user)

    @app.get("/internal/users")
    async def listing(cursor: str | None = None, limit: int = Query(500)) -> dict[str, Any]:
        start = int(cursor or 0)
        page = users[start : start + limit]
        more = start + limit < len(users)
        return {"items": page, "next_cursor": str(start + limit) if more else None}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


@dataclass
class Keys:
    jwks: dict[str, Any]
    signer: Any
    kid: str

    @classmethod
    def generate(cls) -> Keys:
        from auth_service.keys import KeyRing, generate_private_pem, key_from_pem

        ring = KeyRing(key_from_pem(generate_private_pem()))
        return cls(jwks=ring.jwks(), signer=ring, kid=ring.current.kid)

    def token(self, subject: uuid.UUID, role: str = "customer") -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(subject),
            "role": role,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        }
        return str(self.signer.sign(claims))


def _raise_open_files() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_open_files,
        )


def _uvicorn(factory: str, port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning", "--lifespan", "on",
        "--backlog", "4096", *extra,
    ]  # fmt: skip


async def _wait_ready(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} did not become ready")


class RawHttp:
    """Kept-alive HTTP/1.1 connections, one request at a time each: a load generator whose own
    cost stays flat with the number of requests in flight (httpx's pool does not: assigning
    requests to connections grows with both)."""

    def __init__(self, port: int, size: int, headers: dict[str, str]) -> None:
        self.port = port
        self.size = size
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def __aenter__(self) -> RawHttp:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))
        return self

    async def __aexit__(self, *exc: object) -> None:
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        reader, writer = await self.idle.get()
        try:
            try:
                return await self._exchange(reader, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle kept-alive connection: once more, on a new one.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                return await self._exchange(reader, writer, request)
        finally:
            self.idle.put_nowait((reader, writer))

    @staticmethod
    async def _exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, bytes]:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await reader.readexactly(length)


@dataclass
class Client:
    index: int
    ws: ClientConnection
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    announcement: asyncio.Future[float] | None = None
    task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                received = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") != "notification:new":
                    continue
                notification = message["notification"]
                if notification["event"] == "SYSTEM_ANNOUNCEMENT":
                    if self.announcement is not None and not self.announcement.done():
                        self.announcement.set_result(received)
                    continue
                marker = str(notification["data"].get("bench_marker"))
                future = self.waiting.pop(marker, None)
                if future is not None and not future.done():
                    future.set_result(received)


async def _open(url: str, token: str, index: int) -> Client:
    ws = await connect(url, open_timeout=60, ping_interval=None, max_queue=64)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    while json.loads(await ws.recv())["type"] != "ready":
        pass
    client = Client(index, ws)
    client.task = asyncio.create_task(client.read())
    return client


async def _connect_all(url: str, keys: Keys, count: int) -> tuple[list[Client], float]:
    limit = asyncio.Semaphore(100)
    # Signed up front: RS256 signing is the client's cost, not the server's.
    tokens = [keys.token(user_id(index)) for index in range(count)]

    async def one(index: int) -> Client:
        async with limit:
            return await _open(url, tokens[index], index)

    started = time.perf_counter()
    clients = await asyncio.gather(*(one(i) for i in range(count)))
    return list(clients), time.perf_counter() - started


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[94], cuts[98]


async def _push_latency(
    port: int, clients: list[Client], seconds: float
) -> tuple[list[float], list[float], int, float]:
    """Open-loop: a send every 1/SEND_RATE s whatever the answers; latencies in ms, to the
    client's receipt and to the send's answer (which tells a slow server from a slow push)."""
    latencies: list[float] = []
    answers: list[float] = []
    lost = 0
    async with RawHttp(port, 48, {"X-API-Key": API_KEY}) as http:

        async def one(sequence: int) -> None:
            nonlocal lost
            client = clients[sequence % len(clients)]
            marker = f"{sequence}-{uuid.uuid4().hex[:6]}"
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            client.waiting[marker] = future
            body = {
                "event": "WALLET_TOPUP",
                "user_id": str(user_id(client.index)),
                "idempotency_key": f"bench:{marker}",
                "channels": ["in_app"],
                "data": {
                    "amount": 50000,
                    "balance": 150000,
                    "reference": f"T{sequence}",
                    "topped_up_at": "2025-01-15T07:30:00Z",
                    "bench_marker": marker,
                },
            }
            started = time.perf_counter()
            status, answer = await http.post("/internal/notifications/send", body)
            answers.append((time.perf_counter() - started) * 1000)
            if status != 202:
                raise RuntimeError(f"send answered {status}: {answer[:300]!r}")
            try:
                received = await asyncio.wait_for(future, 5)
                latencies.append((received - started) * 1000)
            except TimeoutError:
                lost += 1

        tasks = []
        started = time.perf_counter()
        total = int(seconds * SEND_RATE)
        for sequence in range(total):
            due = started + sequence / SEND_RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(sequence)))
        issuing = time.perf_counter() - started
        await asyncio.gather(*tasks)
    return latencies, answers, lost, total / issuing


async def _broadcast(base: str, keys: Keys, clients: list[Client]) -> list[float]:
    """Seconds from the admin's POST to each client's receipt."""
    loop = asyncio.get_running_loop()
    for client in clients:
        client.announcement = loop.create_future()
    admin = keys.token(uuid.uuid4(), role="admin")
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as http:
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/admin/notifications/broadcasts",
            json={
                "title": "Pemeliharaan jaringan",
                "body": "Sabtu 23.00-01.00 WIB.",
                "channels": ["in_app"],
                "idempotency_key": f"bench-{uuid.uuid4()}",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        if response.status_code != 202:
            raise RuntimeError(f"broadcast answered {response.status_code}: {response.text}")
        futures = [c.announcement for c in clients if c.announcement is not None]
        done, pending = await asyncio.wait(futures, timeout=30)
    if pending:
        raise RuntimeError(f"{len(pending)} of {len(clients)} clients never got the broadcast")
    return sorted(f.result() - started for f in done)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (cpus: {os.cpu_count()})"


async def main(smoke: bool) -> None:
    connections = 200 if smoke else int(os.environ.get("BENCH_CONNECTIONS", "5000"))
    push_seconds = 2.0 if smoke else 15.0
    keys = Keys.generate()
    print(f"   load before: {_load()}", flush=True)
    with (
        postgres_server() as admin_url,
        redis_server() as redis_url,
        tempfile.TemporaryDirectory(prefix="bench-notification-") as scratch,
    ):
        database_url = await DatabaseFactory(admin_url).create("notification")
        auth_port, api_port = free_port(), free_port()
        base_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        stub_env = {
            **base_env,
            "BENCH_USERS": str(connections),
            "BENCH_JWKS": json.dumps(keys.jwks),
        }
        service_env = {
            **base_env,
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DB_POOL_SIZE": "20",
            "JWKS_URL": f"http://127.0.0.1:{auth_port}/.well-known/jwks.json",
            "AUTH_URL": f"http://127.0.0.1:{auth_port}",
            "INTERNAL_API_KEYS": f"order:{API_KEY}",
            "USER_CACHE_SECONDS": "600",
            "BROADCAST_BATCH_SIZE": "1000",
        }
        for name in ("TELEGRAM_BOT_TOKEN", "SENTRY_DSN"):
            service_env.pop(name, None)
        logs = Path(scratch)
        processes = {
            "auth-stub": _spawn(
                _uvicorn("tests.perf.bench_notifications:auth_stub", auth_port),
                stub_env,
                logs / "auth.log",
            ),
            "notification": _spawn(
                # As devstack should start it (README, "Running it"): per-message deflate
                # would cost a zlib context (~64 KB) per socket for ~600-byte messages.
                _uvicorn(
                    "notification_service.app:create_app",
                    api_port,
                    "--ws-per-message-deflate",
                    "false",
                    "--ws-ping-interval",
                    "60",
                ),
                service_env,
                logs / "notification.log",
            ),
            "worker": _spawn(
                [
                    sys.executable,
                    "-m",
                    "webrana_common.worker_main",
                    "notification_service.worker.WorkerSettings",
                ],
                service_env,
                logs / "worker.log",
            ),
        }
        base = f"http://127.0.0.1:{api_port}"
        clients: list[Client] = []
        try:
            await _wait_ready(
                f"http://127.0.0.1:{auth_port}/health", processes["auth-stub"], "auth stub"
            )
            await _wait_ready(f"{base}/ready", processes["notification"], "notification")
            pid = processes["notification"].pid
            idle_rss = _rss_mb(pid)
            ws_url = base.replace("http://", "ws://") + "/api/v1/notifications/ws"
            server_cpu = _cpu(psutil.Process(pid))
            clients, connect_seconds = await _connect_all(ws_url, keys, connections)
            connect_ms = (_cpu(psutil.Process(pid)) - server_cpu) * 1000 / len(clients)
            idle_cpu = _cpu(psutil.Process(pid))
            idle_seconds = 1.0 if smoke else IDLE_SECONDS
            await asyncio.sleep(idle_seconds)
            idle_share = (_cpu(psutil.Process(pid)) - idle_cpu) / idle_seconds
            rss = _rss_mb(pid)
            print(
                f"   connections: {len(clients)} authenticated in {connect_seconds:.1f} s; "
                f"server RSS {idle_rss:.0f} MB idle -> {rss:.0f} MB "
                f"({(rss - idle_rss) * 1000 / len(clients):.1f} KB per connection; server CPU "
                f"{connect_ms:.1f} ms per connect); holding them idle costs "
                f"{idle_share * 100:.0f}% of a core (heartbeats, pings)",
                flush=True,
            )
            # The active users: each gets one notification first (auth lookup cached, pools
            # and statements warm), then the measured sends go to them round robin.
            active = random.sample(clients, min(ACTIVE_USERS, len(clients)))
            await _push_latency(api_port, active, len(active) / SEND_RATE)
            server, me = psutil.Process(pid), psutil.Process()
            cpu_before = (_cpu(server), _cpu(me))
            latencies, answers, lost, rate = await _push_latency(api_port, active, push_seconds)
            p50, p95, p99 = _quantiles(latencies)
            a50, _, a99 = _quantiles(answers)
            sends = len(latencies) + lost
            server_ms = (_cpu(server) - cpu_before[0]) * 1000 / sends
            client_ms = (_cpu(me) - cpu_before[1]) * 1000 / sends
            print(
                f"   push at {rate:.0f} sends/s for {push_seconds:.0f} s to {len(active)} users: "
                f"{len(latencies)} received, "
                f"{lost} lost; send->receipt p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms "
                f"(the send's answer: p50 {a50:.1f} ms, p99 {a99:.1f} ms)",
                flush=True,
            )
            print(
                f"   CPU per send: server {server_ms:.2f} ms, this client {client_ms:.2f} ms",
                flush=True,
            )
            arrivals = await _broadcast(base, keys, clients)
            print(
                f"   broadcast to {len(arrivals)} connected users: first {arrivals[0]:.2f} s, "
                f"median {statistics.median(arrivals):.2f} s, all {arrivals[-1]:.2f} s",
                flush=True,
            )
            rss_after = _rss_mb(pid)
            print(f"   server RSS after the run: {rss_after:.0f} MB", flush=True)
            print(f"   load after: {_load()}", flush=True)
            if not smoke:
                verdicts = {
                    f"RSS <= {TARGET_RSS_MB:.0f} MB": max(rss, rss_after) <= TARGET_RSS_MB,
                    f"p99 <= {TARGET_P99_MS:.0f} ms at {SEND_RATE}/s": p99 <= TARGET_P99_MS
                    and lost == 0,
                    f"broadcast <= {TARGET_BROADCAST_S:.0f} s": arrivals[-1] <= TARGET_BROADCAST_S,
                }
                print(
                    "   targets: "
                    + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in verdicts.items()),
                    flush=True,
                )
        except BaseException:
            for name in processes:
                log = logs / f"{name.split('-')[0]}.log"
                if log.exists():
                    print(f"--- {name} log ---\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
        finally:
            for client in clients:
                if client.task is not None:
                    client.task.cancel()
            await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
