"""Admin: every event's template with its contract, and previews with sample or given data."""

from __future__ import annotations

from typing import Any

import httpx
from notification_helpers import assert_problem, sample

TEMPLATES = "/api/v1/admin/notifications/templates"


async def test_lists_every_event_with_its_contract(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    listed = (await client.get(TEMPLATES, headers=admin_headers)).json()
    by_event = {t["event"]: t for t in listed}
    assert len(by_event) == 13
    verify = by_event["EMAIL_VERIFY"]
    assert (verify["category"], verify["priority"], verify["channels"]) == (
        "transactional",
        "urgent",
        ["email"],
    )
    assert verify["to_unverified_email"] is True and verify["locales"] == ["id", "en"]
    assert set(verify["data_schema"]["required"]) == {"email", "full_name", "link", "expires_at"}
    assert by_event["SYSTEM_ANNOUNCEMENT"]["category"] == "marketing"


async def test_preview_with_sample_data_in_both_locales(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    english = (
        await client.get(
            f"{TEMPLATES}/VPS_ACTIVE/preview", params={"locale": "en"}, headers=admin_headers
        )
    ).json()
    assert english["email"]["subject"] == "Your server web-1 is up"
    assert english["in_app"]["action_url"].startswith("/instances/")
    assert english["telegram"]["visible_length"] < 4096
    assert english["email"]["list_unsubscribe"] is False
    indonesian = (await client.get(f"{TEMPLATES}/VPS_ACTIVE/preview", headers=admin_headers)).json()
    assert indonesian["email"]["subject"] == "Server web-1 sudah aktif"
    marketing = (
        await client.get(f"{TEMPLATES}/SYSTEM_ANNOUNCEMENT/preview", headers=admin_headers)
    ).json()
    assert marketing["email"]["list_unsubscribe"] is True
    assert "/api/v1/notifications/unsubscribe" in marketing["email"]["html"]


async def test_preview_with_given_data_is_checked_and_escaped(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    data = {**sample("VPS_SUSPENDED"), "hostname": "<script>x</script>"}
    preview = await client.post(
        f"{TEMPLATES}/VPS_SUSPENDED/preview", json={"data": data}, headers=admin_headers
    )
    assert preview.status_code == 200
    assert "&lt;script&gt;" in preview.json()["email"]["html"]
    assert "<script>" not in preview.json()["telegram"]["text"]
    broken = await client.post(
        f"{TEMPLATES}/VPS_SUSPENDED/preview",
        json={"data": {"hostname": "x"}},
        headers=admin_headers,
    )
    assert_problem(broken, 422, "invalid_event_data")


async def test_admins_only(client: httpx.AsyncClient, make_user: Any, bearer: Any) -> None:
    assert_problem(
        await client.get(TEMPLATES, headers=bearer(await make_user())), 403, "admin_required"
    )
