"""Admin broadcasts of a SYSTEM_ANNOUNCEMENT: to every active user auth lists or a filtered
part, page by page, idempotent, resumable, progress visible, pushed live."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from notification_helpers import assert_problem, receive
from sqlalchemy import func, select, update

from auth_service.users.models import User
from notification_service.broadcasts import service as broadcasts
from notification_service.broadcasts.models import Broadcast
from notification_service.notifications.models import Notification
from webrana_common.db.session import Database

BROADCASTS = "/api/v1/admin/notifications/broadcasts"
ANNOUNCEMENT = {
    "title": "Pemeliharaan Sabtu malam",
    "body": "Jaringan Jakarta dipelihara Sabtu 23.00-01.00 WIB.",
    "title_en": "Maintenance on Saturday night",
    "body_en": "The Jakarta network is serviced on Saturday 23:00-01:00 WIB.",
    "channels": ["in_app"],
}


async def _active_users(auth_db: Database, **filters: Any) -> set[uuid.UUID]:
    async with auth_db.session() as session:
        stmt = select(User.id).where(User.status == "active")
        for name, value in filters.items():
            stmt = stmt.where(getattr(User, name) == value)
        return set(await session.scalars(stmt))


async def _recipients(db: Database, broadcast_id: str) -> dict[uuid.UUID, Notification]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.broadcast_id == uuid.UUID(broadcast_id))
        )
        return {row.user_id: row for row in rows}


async def test_broadcast_reaches_every_active_user_in_their_language(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    make_user: Any,
    run_jobs: Any,
    db: Database,
    auth_db: Database,
) -> None:
    english = await make_user(locale="en")
    indonesian = await make_user()
    created = await client.post(
        BROADCASTS,
        json={**ANNOUNCEMENT, "idempotency_key": f"b-{uuid.uuid4()}"},
        headers=admin_headers,
    )
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "pending"

    await run_jobs(broadcast_batch_size=7)

    progress = (
        await client.get(f"{BROADCASTS}/{created.json()['id']}", headers=admin_headers)
    ).json()
    everyone = await _active_users(auth_db)
    assert progress["status"] == "completed" and progress["done"] is True
    assert progress["recipients"] == progress["created"] == len(everyone)
    assert progress["pages"] == max(1, -(-len(everyone) // 7))
    received = await _recipients(db, created.json()["id"])
    assert set(received) == everyone
    assert received[english.id].title == "Maintenance on Saturday night"
    assert received[indonesian.id].title == "Pemeliharaan Sabtu malam"
    assert received[english.id].category == "marketing"


async def test_audience_filter(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    make_user: Any,
    run_jobs: Any,
    db: Database,
    auth_db: Database,
) -> None:
    await make_user(locale="en")
    await make_user(locale="id")
    created = await client.post(
        BROADCASTS,
        json={**ANNOUNCEMENT, "audience": {"locale": "en"}, "idempotency_key": f"b-{uuid.uuid4()}"},
        headers=admin_headers,
    )
    await run_jobs()
    assert set(await _recipients(db, created.json()["id"])) == await _active_users(
        auth_db, locale="en"
    )


async def test_the_same_key_broadcasts_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str], run_jobs: Any, db: Database
) -> None:
    body = {**ANNOUNCEMENT, "idempotency_key": "maintenance-2025-01-18"}
    first = await client.post(BROADCASTS, json=body, headers=admin_headers)
    await run_jobs()
    again = await client.post(
        BROADCASTS,
        json={**ANNOUNCEMENT},
        headers={**admin_headers, "Idempotency-Key": "maintenance-2025-01-18"},
    )
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "completed"
    await run_jobs()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 1
    missing = await client.post(BROADCASTS, json=ANNOUNCEMENT, headers=admin_headers)
    assert_problem(missing, 400, "idempotency_key_missing")


async def test_a_broadcast_resumes_where_it_stopped_without_doubles(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    make_user: Any,
    run_jobs: Any,
    db: Database,
    auth_db: Database,
    app: Any,
) -> None:
    for _ in range(3):
        await make_user()
    created = (
        await client.post(
            BROADCASTS, json={**ANNOUNCEMENT, "idempotency_key": "resume-me"}, headers=admin_headers
        )
    ).json()
    broadcast_id = uuid.UUID(created["id"])
    broadcaster = _broadcaster(app, db, batch=2)
    # One page, then the worker "dies".
    assert await broadcasts.run(broadcaster, broadcast_id, max_pages=1) is False
    half = (await client.get(f"{BROADCASTS}/{broadcast_id}", headers=admin_headers)).json()
    assert (half["status"], half["pages"], half["recipients"], half["created"]) == (
        "running",
        1,
        2,
        2,
    )
    # The crash hit after the page's notifications committed but before the cursor did:
    # the same page is read again.
    async with db.session() as session:
        await session.execute(update(Broadcast).values(cursor=None, pages=0, recipients=0))

    await run_jobs(broadcast_batch_size=2)

    done = (await client.get(f"{BROADCASTS}/{broadcast_id}", headers=admin_headers)).json()
    everyone = await _active_users(auth_db)
    assert done["status"] == "completed" and done["recipients"] == len(everyone)
    assert done["created"] == len(everyone)  # the redone page created nothing twice
    assert set(await _recipients(db, created["id"])) == everyone


def _broadcaster(app: Any, db: Database, batch: int) -> broadcasts.Broadcaster:
    state = app.state
    return broadcasts.Broadcaster(
        settings=state.settings.model_copy(update={"broadcast_batch_size": batch}),
        db=state.db,
        auth=state.auth,
        renderer=state.renderer,
        publisher=state.hub,
        queue=state.delivery_queue,
    )


async def test_connected_users_get_the_announcement_live(
    serve: Any, make_user: Any, ws_connect: Any, run_jobs: Any, admin_headers: dict[str, str]
) -> None:
    server = serve()
    user = await make_user()
    async with (
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
        ws_connect(server, user) as (ws, _),
    ):
        await http.post(
            BROADCASTS, json={**ANNOUNCEMENT, "idempotency_key": "live-1"}, headers=admin_headers
        )
        await run_jobs()
        pushed = await receive(ws, "notification:new")
        assert pushed["notification"]["event"] == "SYSTEM_ANNOUNCEMENT"
        assert pushed["notification"]["title"] == "Pemeliharaan Sabtu malam"


async def test_auth_down_keeps_the_broadcast_resumable(
    client: httpx.AsyncClient, admin_headers: dict[str, str], run_jobs: Any
) -> None:
    created = (
        await client.post(
            BROADCASTS, json={**ANNOUNCEMENT, "idempotency_key": "down"}, headers=admin_headers
        )
    ).json()
    await run_jobs(max_jobs=1, auth_url="http://127.0.0.1:9")
    stuck = (await client.get(f"{BROADCASTS}/{created['id']}", headers=admin_headers)).json()
    assert stuck["status"] in ("pending", "running") and "auth" in (stuck["last_error"] or "")
    resumed = await client.post(f"{BROADCASTS}/{created['id']}/resume", headers=admin_headers)
    assert resumed.json()["status"] == "running"
    await run_jobs()
    done = (await client.get(f"{BROADCASTS}/{created['id']}", headers=admin_headers)).json()
    assert done["status"] == "completed" and done["last_error"] is None
    listed = (await client.get(BROADCASTS, headers=admin_headers)).json()["items"]
    assert [b["id"] for b in listed] == [created["id"]]


@pytest.mark.parametrize("role", [None, "customer"])
async def test_admins_only(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, role: str | None
) -> None:
    headers = bearer(await make_user(), role=role) if role else {}
    response = await client.post(
        BROADCASTS, json={**ANNOUNCEMENT, "idempotency_key": "x"}, headers=headers
    )
    if role is None:
        assert_problem(response, 401, "token_missing")
    else:
        assert_problem(response, 403, "admin_required")
