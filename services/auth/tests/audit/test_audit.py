from __future__ import annotations

from typing import Any

import httpx
from auth_helpers import assert_problem

AUDIT = "/api/v1/admin/users/audit"


async def test_admins_read_the_audit_trail_filtered_and_paged(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    admin = await make_user(role="admin")
    headers = await bearer(admin)
    targets = [await make_user() for _ in range(3)]
    for user in targets:
        await client.post(
            f"/api/v1/admin/users/{user.id}/suspend", json={"reason": "spam"}, headers=headers
        )
    await client.post(f"/api/v1/admin/users/{targets[0].id}/unsuspend", headers=headers)

    everything = (await client.get(AUDIT, headers=headers)).json()
    assert [e["action"] for e in everything["items"]] == ["user.unsuspended"] + [
        "user.suspended"
    ] * 3
    assert all(e["actor_id"] == str(admin.id) for e in everything["items"])

    about_first = (
        await client.get(AUDIT, params={"target_user_id": str(targets[0].id)}, headers=headers)
    ).json()
    assert [e["action"] for e in about_first["items"]] == ["user.unsuspended", "user.suspended"]
    suspensions = (
        await client.get(AUDIT, params={"action": "user.suspended", "limit": 2}, headers=headers)
    ).json()
    assert len(suspensions["items"]) == 2 and suspensions["next_cursor"]
    rest = (
        await client.get(
            AUDIT,
            params={"action": "user.suspended", "limit": 2, "cursor": suspensions["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert len(rest["items"]) == 1


async def test_audit_refuses_customers_and_bad_cursors(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    assert_problem(
        await client.get(AUDIT, headers=await bearer(await make_user())), 403, "admin_required"
    )
    admin_headers = await bearer(await make_user(role="admin"))
    assert_problem(
        await client.get(AUDIT, params={"cursor": "garbage!"}, headers=admin_headers),
        400,
        "invalid_cursor",
    )
