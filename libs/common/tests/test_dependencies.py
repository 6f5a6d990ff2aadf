"""The shared dependencies run on the event loop: FastAPI hands a plain `def` dependency to a
worker thread, a handoff per request that cost more under load than the query it served."""

from __future__ import annotations

from typing import Any

import fastapi.dependencies.utils as fastapi_dependencies
import httpx
import pytest
from fastapi import FastAPI

from webrana_common.db.session import DatabaseDep


async def test_database_dependency_stays_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed_off: list[Any] = []
    original = fastapi_dependencies.run_in_threadpool

    async def recording(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed_off.append(func)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(fastapi_dependencies, "run_in_threadpool", recording)
    app = FastAPI()
    app.state.db = database = object()

    @app.get("/db")
    async def uses_database(db: DatabaseDep) -> dict[str, bool]:
        return {"same": db is database}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/db")
    assert response.json() == {"same": True}
    assert handed_off == []
