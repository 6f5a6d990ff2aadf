"""`/health` (liveness, no I/O) and `/ready` (each dependency checked and reported)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_SECONDS = 2.0


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health(request: Request) -> dict[str, str]:
        return {"status": "ok", "service": request.app.state.settings.service_name}

    @router.get("/ready", summary="Readiness: every dependency answers")
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, Check] = request.app.state.readiness_checks
        results = await asyncio.gather(*(_run(check) for check in checks.values()))
        report = dict(zip(checks.keys(), results, strict=True))
        ok = all(r["status"] == "ok" for r in report.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": report},
            status_code=200 if ok else 503,
        )

    return router


async def _run(check: Check) -> dict[str, object]:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}
