from __future__ import annotations

from typing import Any

from sqlalchemy import text, update

from catalog_service.plans.models import PlanPrice
from catalog_service.seed import seed
from webrana_common.db.session import Database

TABLES = [
    "providers", "regions", "region_codes", "images", "image_codes", "plans", "plan_prices",
    "plan_regions", "audit_log", "catalog_state",
]  # fmt: skip


async def _dump(db: Database) -> dict[str, Any]:
    async with db.session() as session:
        return {
            table: sorted(map(str, (await session.execute(text(f"SELECT * FROM {table}"))).all()))
            for table in TABLES
        }


async def test_seeding_twice_changes_nothing(database_url: str, db: Database, capsys: Any) -> None:
    await seed(database_url)
    first = await _dump(db)
    assert "inserted 3 providers, 9 regions, 5 images, 21 plans" in capsys.readouterr().out
    await seed(database_url)
    assert await _dump(db) == first
    assert "nothing missing" in capsys.readouterr().out


async def test_seeding_keeps_admin_edits(database_url: str, db: Database) -> None:
    await seed(database_url)
    async with db.session() as session:
        await session.execute(update(PlanPrice).values(amount_idr=PlanPrice.amount_idr + 1000))
        await session.execute(text("DELETE FROM image_codes WHERE code = 'linode/rocky9'"))
    edited = await _dump(db)
    await seed(database_url)
    assert await _dump(db) == edited


async def test_the_seed_maps_real_provider_codes(database_url: str, db: Database) -> None:
    await seed(database_url)
    async with db.session() as session:
        codes = {
            (region, provider): code
            for region, provider, code in await session.execute(
                text(
                    "SELECT r.slug, p.slug, c.code FROM region_codes c "
                    "JOIN regions r ON r.id = c.region_id JOIN providers p ON p.id = c.provider_id"
                )
            )
        }
        images = {
            (image, provider): code
            for image, provider, code in await session.execute(
                text(
                    "SELECT i.slug, p.slug, c.code FROM image_codes c "
                    "JOIN images i ON i.id = c.image_id JOIN providers p ON p.id = c.provider_id"
                )
            )
        }
        sizes = {
            (provider, size, vcpus, memory)
            for provider, size, vcpus, memory in await session.execute(
                text(
                    "SELECT p.slug, pl.provider_size_slug, pl.vcpus, pl.memory_mb FROM plans pl "
                    "JOIN providers p ON p.id = pl.provider_id"
                )
            )
        }
    assert codes[("sg-sin", "digitalocean")] == "sgp1"
    assert codes[("sg-sin", "vultr")] == "sgp"
    assert codes[("sg-sin", "linode")] == "ap-south"
    assert [k for k in codes if k[0] == "id-jkt"] == [("id-jkt", "linode")]
    assert codes[("id-jkt", "linode")] == "id-cgk"
    assert images[("ubuntu-24.04", "digitalocean")] == "ubuntu-24-04-x64"
    assert images[("ubuntu-24.04", "vultr")] == "2284"
    assert images[("ubuntu-24.04", "linode")] == "linode/ubuntu24.04"
    assert {slug for slug, _ in images} == {
        "ubuntu-24.04", "ubuntu-22.04", "debian-12", "rocky-9", "almalinux-9",
    }  # fmt: skip
    assert ("digitalocean", "s-1vcpu-1gb", 1, 1024) in sizes
    assert ("digitalocean", "s-8vcpu-16gb", 8, 16384) in sizes
    assert ("vultr", "vc2-1c-1gb", 1, 1024) in sizes
    assert ("linode", "g6-nanode-1", 1, 1024) in sizes
