"""Linode (Akamai) regions, Shared CPU types and public images.

Ids are Linode's own (`ap-south`, `id-cgk`, `g6-standard-2`, `linode/debian12`). Prices are
USD; Jakarta (id-cgk) is one of the regions Linode prices higher, which it reports in each
type's `region_prices`. Sizes are in MB (disk, memory) and GB (transfer), as Linode reports.
"""

from __future__ import annotations

from typing import Any

_CAPABILITIES = [
    "Linodes",
    "Block Storage",
    "Cloud Firewall",
    "Vlans",
    "VPCs",
    "Metadata",
    "Placement Groups",
]

# id, label, country
_REGIONS = [
    ("ap-south", "Singapore, SG", "sg"),
    ("sg-sin-2", "Singapore 2, SG", "sg"),
    ("id-cgk", "Jakarta, ID", "id"),
    ("ap-northeast", "Tokyo 2, JP", "jp"),
    ("jp-osa", "Osaka, JP", "jp"),
    ("ap-west", "Mumbai, IN", "in"),
    ("in-maa", "Chennai, IN", "in"),
    ("ap-southeast", "Sydney, AU", "au"),
    ("au-mel", "Melbourne, AU", "au"),
    ("us-east", "Newark, NJ", "us"),
    ("eu-central", "Frankfurt, DE", "de"),
]
REGIONS: list[dict[str, Any]] = [
    {
        "id": rid,
        "label": label,
        "country": country,
        "capabilities": _CAPABILITIES,
        "status": "ok",
        "resolvers": {
            "ipv4": f"192.0.2.{10 + i},192.0.2.{110 + i}",
            "ipv6": f"2001:db8:53::{10 + i:x},2001:db8:53::{110 + i:x}",
        },
        "placement_group_limits": {"maximum_linodes_per_pg": 5, "maximum_pgs_per_customer": None},
        "site_type": "core",
    }
    for i, (rid, label, country) in enumerate(_REGIONS)
]
REGION_IDS = [r["id"] for r in REGIONS]
HIGHER_PRICED = {"id-cgk": 1.2}

# id, label, class, vcpus, memory MB, disk MB, transfer GB, network_out Mbit/s, USD/month,
# backups USD/month
_TYPES = [
    ("g6-nanode-1", "Nanode 1GB", "nanode", 1, 1024, 25600, 1000, 1000, 5, 2),
    ("g6-standard-1", "Linode 2GB", "standard", 1, 2048, 51200, 2000, 2000, 12, 2.5),
    ("g6-standard-2", "Linode 4GB", "standard", 2, 4096, 81920, 4000, 4000, 24, 5),
    ("g6-standard-4", "Linode 8GB", "standard", 4, 8192, 163840, 5000, 5000, 48, 10),
    ("g6-standard-6", "Linode 16GB", "standard", 6, 16384, 327680, 8000, 6000, 96, 20),
]


def _price(monthly: float, factor: float = 1.0) -> dict[str, float]:
    monthly = round(monthly * factor, 2)
    return {"monthly": monthly, "hourly": round(monthly / 672, 4)}  # capped at 672 h a month


TYPES: list[dict[str, Any]] = [
    {
        "id": tid,
        "label": label,
        "class": klass,
        "vcpus": vcpus,
        "memory": memory,
        "disk": disk,
        "transfer": transfer,
        "network_out": network_out,
        "gpus": 0,
        "price": _price(monthly),
        "region_prices": [{"id": r, **_price(monthly, f)} for r, f in HIGHER_PRICED.items()],
        "addons": {
            "backups": {
                "price": _price(backups),
                "region_prices": [
                    {"id": r, **_price(backups, f)} for r, f in HIGHER_PRICED.items()
                ],
            }
        },
        "successor": None,
    }
    for tid, label, klass, vcpus, memory, disk, transfer, network_out, monthly, backups in _TYPES
]

# id, label, vendor, end of life
_IMAGES = [
    ("linode/ubuntu24.04", "Ubuntu 24.04 LTS", "Ubuntu", "2029-05-31T04:00:00"),
    ("linode/ubuntu22.04", "Ubuntu 22.04 LTS", "Ubuntu", "2027-04-01T04:00:00"),
    ("linode/debian12", "Debian 12", "Debian", "2028-06-30T04:00:00"),
    ("linode/debian11", "Debian 11", "Debian", "2026-08-31T04:00:00"),
    ("linode/rocky9", "Rocky Linux 9", "Rocky", "2032-05-31T04:00:00"),
    ("linode/almalinux9", "AlmaLinux 9", "AlmaLinux", "2032-05-31T04:00:00"),
]
IMAGES: list[dict[str, Any]] = [
    {
        "id": iid,
        "label": label,
        # The live API sends "" and `regions: null` for public images; the pinned spec allows
        # neither (minLength 1, not nullable), so the stand-in sends null and [].
        "description": None,
        "created": "2024-06-01T10:00:00",
        "updated": "2024-06-01T10:00:00",
        "created_by": "linode",
        "type": "manual",
        "is_public": True,
        "deprecated": False,
        "vendor": vendor,
        "size": 2500,
        "total_size": 2500,
        "status": "available",
        "capabilities": ["cloud-init", "distributed-sites"],
        "eol": eol,
        "expiry": None,
        "regions": [],
        "tags": [],
    }
    for iid, label, vendor, eol in _IMAGES
]


def linode_type(type_id: str) -> dict[str, Any] | None:
    return next((t for t in TYPES if t["id"] == type_id), None)


def image(image_id: str) -> dict[str, Any] | None:
    return next((i for i in IMAGES if i["id"] == image_id), None)
