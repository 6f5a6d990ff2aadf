"""DigitalOcean regions, Basic sizes and distribution images.

Slugs are DigitalOcean's own; prices are the public Basic (regular SSD) prices in USD.
DigitalOcean has no Jakarta region; Singapore (sgp1) is the nearest. Image ids are made up
(DigitalOcean's change with every image refresh): address images by slug.
"""

from __future__ import annotations

from typing import Any

REGION_FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"]

REGIONS: list[dict[str, Any]] = [
    {"slug": "sgp1", "name": "Singapore 1"},
    {"slug": "blr1", "name": "Bangalore 1"},
    {"slug": "syd1", "name": "Sydney 1"},
    {"slug": "nyc3", "name": "New York 3"},
    {"slug": "sfo3", "name": "San Francisco 3"},
    {"slug": "ams3", "name": "Amsterdam 3"},
    {"slug": "fra1", "name": "Frankfurt 1"},
    {"slug": "lon1", "name": "London 1"},
    {"slug": "tor1", "name": "Toronto 1"},
]
REGION_SLUGS = [r["slug"] for r in REGIONS]

# slug, vcpus, memory MB, disk GB, transfer TB, USD/month
_SIZES = [
    ("s-1vcpu-1gb", 1, 1024, 25, 1.0, 6),
    ("s-1vcpu-2gb", 1, 2048, 50, 2.0, 12),
    ("s-2vcpu-2gb", 2, 2048, 60, 3.0, 18),
    ("s-2vcpu-4gb", 2, 4096, 80, 4.0, 24),
    ("s-4vcpu-8gb", 4, 8192, 160, 5.0, 48),
    ("s-8vcpu-16gb", 8, 16384, 320, 6.0, 96),
]
SIZES: list[dict[str, Any]] = [
    {
        "slug": slug,
        "memory": memory,
        "vcpus": vcpus,
        "disk": disk,
        "transfer": transfer,
        "price_monthly": float(monthly),
        "price_hourly": round(monthly / 672, 5),  # DigitalOcean bills 672 hours a month at most
        "regions": REGION_SLUGS,
        "available": True,
        "description": "Basic",
        "disk_info": [{"type": "local", "size": {"amount": disk, "unit": "gib"}}],
    }
    for slug, vcpus, memory, disk, transfer, monthly in _SIZES
]

# id, slug, name, distribution, min disk GB, size GB
_IMAGES = [
    (164373311, "ubuntu-24-04-x64", "24.04 (LTS) x64", "Ubuntu", 7, 1.9),
    (129211873, "ubuntu-22-04-x64", "22.04 (LTS) x64", "Ubuntu", 7, 2.36),
    (163426722, "debian-12-x64", "12 x64", "Debian", 10, 1.06),
    (161862476, "rockylinux-9-x64", "9 x64", "Rocky Linux", 10, 0.98),
    # The live API says "AlmaLinux"; the pinned spec's `distribution` enum has no such value,
    # so the stand-in says "Unknown" to keep its responses valid against the spec.
    (162123917, "almalinux-9-x64", "AlmaLinux 9 x64", "Unknown", 10, 1.1),
]
IMAGES: list[dict[str, Any]] = [
    {
        "id": image_id,
        "name": name,
        "distribution": distribution,
        "slug": slug,
        "public": True,
        "regions": REGION_SLUGS,
        "created_at": "2024-06-01T10:00:00Z",
        # DigitalOcean's own distribution images carry type "snapshot" (see the spec's note).
        "type": "snapshot",
        "min_disk_size": min_disk,
        "size_gigabytes": size_gb,
        "description": "",
        "tags": [],
        "status": "available",
        "error_message": "",
    }
    for image_id, slug, name, distribution, min_disk, size_gb in _IMAGES
]


def region(slug: str) -> dict[str, Any]:
    found = next(r for r in REGIONS if r["slug"] == slug)
    return {
        "name": found["name"],
        "slug": slug,
        "features": REGION_FEATURES,
        "available": True,
        "sizes": [s["slug"] for s in SIZES],
    }


def size(slug: str) -> dict[str, Any] | None:
    return next((s for s in SIZES if s["slug"] == slug), None)


def image(ref: str | int) -> dict[str, Any] | None:
    return next((i for i in IMAGES if ref in (i["slug"], i["id"])), None)
