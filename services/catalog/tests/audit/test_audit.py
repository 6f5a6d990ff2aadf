from __future__ import annotations

import httpx
from catalog_builders import make_basics, make_plan
from catalog_helpers import assert_problem

AUDIT = "/api/v1/admin/catalog/audit"


async def test_admins_read_the_trail_newest_first_and_filtered(
    client: httpx.AsyncClient, admin: dict[str, str], customer: dict[str, str]
) -> None:
    await make_basics(client, admin)
    plan = await make_plan(client, admin)
    await client.delete(f"/api/v1/admin/catalog/plans/{plan['id']}", headers=admin)

    trail = (await client.get(AUDIT, headers=admin)).json()
    assert [e["action"] for e in trail["items"]] == [
        "plan.deleted",
        "plan.created",
        "image.created",
        "region.created",
        "provider.created",
    ]
    deleted = trail["items"][0]
    assert deleted["before"]["slug"] == plan["slug"] and deleted["after"] is None
    assert deleted["request_id"]

    only_plan = (
        await client.get(
            AUDIT, params={"target_type": "plan", "target_id": plan["id"]}, headers=admin
        )
    ).json()
    assert [e["action"] for e in only_plan["items"]] == ["plan.deleted", "plan.created"]

    page = (await client.get(AUDIT, params={"limit": 2}, headers=admin)).json()
    rest = (
        await client.get(AUDIT, params={"limit": 10, "cursor": page["next_cursor"]}, headers=admin)
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 5

    assert_problem(await client.get(AUDIT, headers=customer), 403, "admin_required")
    assert_problem(
        await client.get(AUDIT, params={"action": "plan.exploded"}, headers=admin),
        422,
        "validation_error",
    )
