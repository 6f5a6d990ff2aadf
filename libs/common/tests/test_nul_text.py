"""A NUL (U+0000) in a request is the client's error: refused with a 422 `validation_error`
before the route (or a fast path) runs, and PostgreSQL's refusal of one is a 422 too, not a
500 (nor a Sentry report: the exception never leaves the app, which `running_app` would
raise here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from webrana_common.nul_text import NUL_MESSAGE
from webrana_common.problem import PROBLEM_JSON
from webrana_common.service import create_service_app
from webrana_common.settings import ServiceSettings
from webrana_common.testing.client import running_app


class Note(BaseModel):
    title: str
    tags: list[str] = []
    meta: dict[str, Any] = {}


@pytest.fixture
def ran() -> list[str]:
    return []


@pytest.fixture
async def client(
    make_app: Callable[..., FastAPI], empty_database_url: str, ran: list[str]
) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(database_url=empty_database_url)

    @app.post("/notes")
    async def create_note(note: Note) -> Note:
        ran.append(note.title)
        return note

    @app.get("/notes")
    async def search(q: str = "") -> dict[str, str]:
        ran.append(q)
        return {"q": q}

    @app.get("/notes/{name}")
    async def get_note(name: str) -> dict[str, str]:
        ran.append(name)
        return {"name": name}

    # Text the request validation never saw (built here), as it reaches the database.
    @app.get("/db/raw-text")
    async def raw_text(request: Request) -> None:
        async with request.app.state.db.driver() as connection:
            await connection.fetchval("SELECT $1::text", "a\x00b")

    @app.get("/db/raw-jsonb")
    async def raw_jsonb(request: Request) -> None:
        async with request.app.state.db.driver() as connection:
            await connection.fetchval("SELECT $1::jsonb", '["a\\u0000b"]')

    @app.get("/db/orm-text")
    async def orm_text(request: Request) -> None:
        async with request.app.state.db.session() as session:
            await session.execute(text("SELECT CAST(:v AS text)"), {"v": "a\x00b"})

    @app.get("/db/division")
    async def division(request: Request) -> None:
        async with request.app.state.db.session() as session:
            await session.execute(text("SELECT 1 / 0"))

    async with running_app(app) as http:
        yield http


def assert_nul_refused(response: httpx.Response, field: str | None) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["type"] == "https://docs.webrana.cloud/problems/validation-error"
    assert NUL_MESSAGE in body["detail"]
    if field is not None:
        assert body["errors"][0]["field"] == field
        assert body["errors"][0]["type"] == "nul_character"


async def test_nul_in_a_nested_json_field_is_refused_before_the_route_runs(
    client: httpx.AsyncClient, ran: list[str]
) -> None:
    body = {"title": "ok", "tags": ["a", "b\u0000"]}

    response = await client.post("/notes", json=body)

    assert_nul_refused(response, "tags.1")
    assert response.json()["detail"] == f"tags.1: {NUL_MESSAGE}"
    assert ran == []


async def test_nul_in_a_json_key_is_refused(client: httpx.AsyncClient, ran: list[str]) -> None:
    response = await client.post("/notes", json={"title": "ok", "meta": {"k\u0000": 1}})

    assert_nul_refused(response, "meta.k\x00")
    assert ran == []


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: httpx.AsyncClient, ran: list[str]
) -> None:
    response = await client.post("/notes", json={"title": "C:\\u0000"})

    assert response.status_code == 200, response.text
    assert ran == ["C:\\u0000"]


async def test_nul_in_the_query_string_is_refused(
    client: httpx.AsyncClient, ran: list[str]
) -> None:
    response = await client.get("/notes", params={"q": "web\u00001"})

    assert_nul_refused(response, "q")
    assert ran == []


async def test_nul_in_a_path_parameter_is_refused(
    client: httpx.AsyncClient, ran: list[str]
) -> None:
    response = await client.get("/notes/a%00b")

    assert_nul_refused(response, "path")
    assert ran == []


@pytest.mark.parametrize("path", ["/db/raw-text", "/db/raw-jsonb", "/db/orm-text"])
async def test_the_databases_refusal_of_nul_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    assert_nul_refused(await client.get(path), field=None)


async def test_other_database_errors_stay_server_errors(client: httpx.AsyncClient) -> None:
    # The exception still leaves the app (for the log and Sentry): `running_app` raises it.
    with pytest.raises(Exception, match="division by zero"):
        await client.get("/db/division")


async def test_a_fast_path_outside_fastapi_never_sees_a_nul() -> None:
    answered: list[bytes] = []

    class FastPath:
        """Answers every POST itself, as notification's send does."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST":
                await self.app(scope, receive, send)
                return
            answered.append((await receive())["body"])
            await PlainTextResponse("fast")(scope, receive, send)

    app = create_service_app(
        ServiceSettings(service_name="testsvc", environment="test"),
        title="test",
        description="library tests",
        inner_middleware=[Middleware(FastPath)],
    )
    async with running_app(app) as http:
        refused = await http.post("/send", json={"data": {"note": "a\u0000"}})
        fine = await http.post("/send", json={"data": {"note": "a"}})

    assert_nul_refused(refused, "data.note")
    assert fine.text == "fast"
    assert answered == [b'{"data":{"note":"a"}}']
