"""Vultr regions, Cloud Compute (vc2) plans and operating systems.

Region, plan and OS ids are Vultr's own as listed by its public `GET /regions`, `/plans` and
`/os`; prices are USD per month (integers, as the pinned spec declares `monthly_cost`).
Vultr has no Jakarta location; Singapore (sgp) is the nearest.
"""

from __future__ import annotations

from typing import Any

_OPTIONS = ["ddos_protection", "block_storage_storage_opt", "load_balancers", "kubernetes"]

# id, city, country, continent
_REGIONS = [
    ("sgp", "Singapore", "SG", "Asia"),
    ("nrt", "Tokyo", "JP", "Asia"),
    ("itm", "Osaka", "JP", "Asia"),
    ("icn", "Seoul", "KR", "Asia"),
    ("bom", "Mumbai", "IN", "Asia"),
    ("blr", "Bangalore", "IN", "Asia"),
    ("del", "Delhi NCR", "IN", "Asia"),
    ("syd", "Sydney", "AU", "Australia"),
    ("mel", "Melbourne", "AU", "Australia"),
    ("ewr", "New Jersey", "US", "North America"),
    ("lax", "Los Angeles", "US", "North America"),
    ("fra", "Frankfurt", "DE", "Europe"),
    ("ams", "Amsterdam", "NL", "Europe"),
    ("lhr", "London", "GB", "Europe"),
]
REGIONS: list[dict[str, Any]] = [
    {"id": rid, "city": city, "country": country, "continent": continent, "options": _OPTIONS}
    for rid, city, country, continent in _REGIONS
]
REGION_IDS = [r["id"] for r in REGIONS]

# id, vCPUs, RAM MB, disk GB, bandwidth GB/month, USD/month
_PLANS = [
    ("vc2-1c-1gb", 1, 1024, 25, 1024, 5),
    ("vc2-1c-2gb", 1, 2048, 55, 2048, 10),
    ("vc2-2c-2gb", 2, 2048, 65, 3072, 15),
    ("vc2-2c-4gb", 2, 4096, 80, 3072, 20),
    ("vc2-4c-8gb", 4, 8192, 160, 4096, 40),
    ("vc2-6c-16gb", 6, 16384, 320, 5120, 80),
]
PLANS: list[dict[str, Any]] = [
    {
        "id": pid,
        "vcpu_count": vcpus,
        "ram": ram,
        "disk": disk,
        "disk_count": 1,
        "bandwidth": bandwidth,
        "monthly_cost": monthly,
        "type": "vc2",
        "locations": REGION_IDS,
    }
    for pid, vcpus, ram, disk, bandwidth, monthly in _PLANS
]

OPERATING_SYSTEMS: list[dict[str, Any]] = [
    {"id": 2284, "name": "Ubuntu 24.04 LTS x64", "arch": "x64", "family": "ubuntu"},
    {"id": 1743, "name": "Ubuntu 22.04 LTS x64", "arch": "x64", "family": "ubuntu"},
    {"id": 2136, "name": "Debian 12 x64 (bookworm)", "arch": "x64", "family": "debian"},
    {"id": 477, "name": "Debian 11 x64 (bullseye)", "arch": "x64", "family": "debian"},
    {"id": 1869, "name": "Rocky Linux 9 x64", "arch": "x64", "family": "rockylinux"},
    {"id": 1868, "name": "AlmaLinux 9 x64", "arch": "x64", "family": "almalinux"},
]


def plan(plan_id: str) -> dict[str, Any] | None:
    return next((p for p in PLANS if p["id"] == plan_id), None)


def operating_system(os_id: int) -> dict[str, Any] | None:
    return next((o for o in OPERATING_SYSTEMS if o["id"] == os_id), None)
