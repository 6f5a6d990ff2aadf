"""Cursor pagination over (created_at, id): opaque cursors, and every row exactly once."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Uuid, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from webrana_common.db.session import to_async_url
from webrana_common.errors import BadRequest
from webrana_common.pagination import (
    decode_cursor,
    encode_cursor,
    make_page,
    paginate_newest_first,
)
from webrana_common.testing.client import running_app

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seq", Integer, nullable=False),
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursor_round_trips_exactly() -> None:
    created_at = datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)
    row_id = uuid.uuid4()

    cursor = encode_cursor(created_at, row_id)

    assert decode_cursor(cursor) == (created_at, row_id)
    assert decode_cursor(cursor)[0].utcoffset() == timedelta(0)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%not-base64%%%",
        b64(b"\xff\xfe"),
        b64(b"not json"),
        b64(b'{"a": 1, "b": 2}'),
        b64(b'["2024-01-01T00:00:00+00:00"]'),
        b64(b'["yesterday", "8a6e0804-2bd0-4672-b79d-d97027f9071c"]'),
        b64(b'["2024-01-01T00:00:00+00:00", "not-a-uuid"]'),
        b64(b"[1, 2]"),
        b64(b"42"),
    ],
)
def test_bad_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor)

    assert raised.value.code == "invalid_cursor"
    assert raised.value.status == 400


async def test_bad_cursor_reaches_the_client_as_400_problem(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()

    @app.get("/events")
    async def list_events(cursor: str | None = None) -> dict[str, str]:
        stmt = paginate_newest_first(
            select(events), events.c.created_at, events.c.id, cursor, limit=10
        )
        return {"sql": str(stmt)}

    async with running_app(app) as client:
        response = await client.get("/events", params={"cursor": "garbage!"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("created", OUT_OF_RANGE)
def test_cursor_past_year_1_or_9999_in_utc_is_a_bad_request(created: str) -> None:
    cursor = b64(f'["{created}", "{uuid.uuid4()}"]'.encode())

    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor)

    assert raised.value.code == "invalid_cursor"


@pytest.mark.parametrize("created", OUT_OF_RANGE)
async def test_cursor_out_of_range_is_a_400_not_a_database_overflow(
    make_app: Callable[..., FastAPI], engine: AsyncEngine, created: str
) -> None:
    app = make_app()

    @app.get("/events")
    async def list_events(cursor: str | None = None) -> dict[str, int]:
        stmt = paginate_newest_first(
            select(events), events.c.created_at, events.c.id, cursor, limit=10
        )
        async with engine.connect() as conn:
            return {"rows": len((await conn.execute(stmt)).all())}

    cursor = b64(f'["{created}", "{uuid.uuid4()}"]'.encode())
    async with running_app(app) as client:
        response = await client.get("/events", params={"cursor": cursor})

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "created", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00"]
)
async def test_cursor_at_the_ends_of_the_range_still_queries(
    engine: AsyncEngine, created: str
) -> None:
    cursor = b64(f'["{created}", "{uuid.uuid4()}"]'.encode())
    stmt = paginate_newest_first(select(events), events.c.created_at, events.c.id, cursor, 10)

    async with engine.connect() as conn:
        assert (await conn.execute(stmt)).all() == []


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        paginate_newest_first(select(events), events.c.created_at, events.c.id, None, limit)
    with pytest.raises(ValueError, match="limit"):
        make_page([], limit)


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_async_url(empty_database_url))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def walk(engine: AsyncEngine, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: str | None = None
    async with engine.connect() as conn:
        for _ in range(100):  # a cursor that does not advance must fail, not hang
            stmt = paginate_newest_first(
                select(events), events.c.created_at, events.c.id, cursor, limit
            )
            rows = (await conn.execute(stmt)).all()
            page, cursor = make_page(rows, limit)
            pages.append([row.seq for row in page])
            if cursor is None:
                return pages
    raise AssertionError(f"pagination did not end: {pages[:3]}...")


async def test_walking_all_pages_returns_every_row_once_in_order(engine: AsyncEngine) -> None:
    base = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    # 53 rows over 4 instants: long runs of equal created_at that pages must cut through.
    rows = [
        {"id": uuid.uuid4(), "created_at": base + timedelta(microseconds=n % 4), "seq": n}
        for n in range(53)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(events), rows)
    expected = [
        r["seq"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    ]

    pages = await walk(engine, limit=5)

    assert [seq for page in pages for seq in page] == expected
    assert [len(page) for page in pages] == [5] * 10 + [3]


async def test_exact_multiple_of_the_limit_ends_without_an_empty_page(
    engine: AsyncEngine,
) -> None:
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(events),
            [{"id": uuid.uuid4(), "created_at": moment, "seq": n} for n in range(6)],
        )

    pages = await walk(engine, limit=3)

    assert [len(page) for page in pages] == [3, 3]
    assert sorted(seq for page in pages for seq in page) == list(range(6))


async def test_empty_table_is_one_empty_page(engine: AsyncEngine) -> None:
    assert await walk(engine, limit=10) == [[]]
