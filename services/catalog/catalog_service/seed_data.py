"""The development catalog: three providers, Asia-Pacific regions (Jakarta where a provider
has one), current images, and plans from 1 vCPU / 1 GB to 8 vCPU / 16 GB, mapped to each
provider's real codes (see /work/shared/refs/providers and the vendors' public lists).

Prices are computed, not typed: the provider's list price in USD at SEED_USD_IDR_RATE plus
SEED_MARKUP_PERCENT, rounded up to Rp 1,000, longer cycles 5 / 10 / 15 % off. Fixed here (not
read from settings) so that the seed gives the same rupiah on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SEED_USD_IDR_RATE = Decimal("16500")
SEED_MARKUP_PERCENT = Decimal("30")
SEED_PRICE_STEP_IDR = 1000
SEED_DISCOUNTS = {"quarterly": Decimal(5), "semiannual": Decimal(10), "annual": Decimal(15)}
# Akamai prices Jakarta (id-cgk) about 20 % above its base list price; the Jakarta plans are
# priced from that, so the margin holds.
LINODE_JAKARTA_SURCHARGE = Decimal("1.2")

PROVIDERS = [
    # slug (as the provider service names it), name, sort order
    ("digitalocean", "DigitalOcean", 10),
    ("vultr", "Vultr", 20),
    ("linode", "Akamai Linode", 30),
]


@dataclass(frozen=True)
class SeedRegion:
    slug: str
    name_id: str
    name_en: str
    country: str
    sort_order: int
    codes: dict[str, str]


REGIONS = [
    SeedRegion("id-jkt", "Jakarta", "Jakarta", "ID", 10, {"linode": "id-cgk"}),
    SeedRegion(
        "sg-sin", "Singapura", "Singapore", "SG", 20,
        {"digitalocean": "sgp1", "vultr": "sgp", "linode": "ap-south"},
    ),
    SeedRegion("jp-tyo", "Tokyo", "Tokyo", "JP", 30, {"vultr": "nrt", "linode": "ap-northeast"}),
    SeedRegion("jp-osa", "Osaka", "Osaka", "JP", 40, {"vultr": "itm", "linode": "jp-osa"}),
    SeedRegion("kr-sel", "Seoul", "Seoul", "KR", 50, {"vultr": "icn"}),
    SeedRegion("in-bom", "Mumbai", "Mumbai", "IN", 60, {"vultr": "bom", "linode": "ap-west"}),
    SeedRegion(
        "in-blr", "Bengaluru", "Bangalore", "IN", 70, {"digitalocean": "blr1", "vultr": "blr"}
    ),
    SeedRegion(
        "au-syd", "Sydney", "Sydney", "AU", 80,
        {"digitalocean": "syd1", "vultr": "syd", "linode": "ap-southeast"},
    ),
    SeedRegion("au-mel", "Melbourne", "Melbourne", "AU", 90, {"vultr": "mel", "linode": "au-mel"}),
]  # fmt: skip


@dataclass(frozen=True)
class SeedImage:
    slug: str
    name: str
    distribution: str
    version: str
    sort_order: int
    codes: dict[str, str]


IMAGES = [
    SeedImage(
        "ubuntu-24.04", "Ubuntu 24.04 LTS", "Ubuntu", "24.04", 10,
        {"digitalocean": "ubuntu-24-04-x64", "vultr": "2284", "linode": "linode/ubuntu24.04"},
    ),
    SeedImage(
        "ubuntu-22.04", "Ubuntu 22.04 LTS", "Ubuntu", "22.04", 20,
        {"digitalocean": "ubuntu-22-04-x64", "vultr": "1743", "linode": "linode/ubuntu22.04"},
    ),
    SeedImage(
        "debian-12", "Debian 12 (bookworm)", "Debian", "12", 30,
        {"digitalocean": "debian-12-x64", "vultr": "2136", "linode": "linode/debian12"},
    ),
    SeedImage(
        "rocky-9", "Rocky Linux 9", "Rocky Linux", "9", 40,
        {"digitalocean": "rockylinux-9-x64", "vultr": "1869", "linode": "linode/rocky9"},
    ),
    SeedImage(
        "almalinux-9", "AlmaLinux 9", "AlmaLinux", "9", 50,
        {"digitalocean": "almalinux-9-x64", "vultr": "1868", "linode": "linode/almalinux9"},
    ),
]  # fmt: skip


@dataclass(frozen=True)
class SeedPlan:
    slug: str
    name: str
    provider: str
    size: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int
    usd_monthly: Decimal
    regions: tuple[str, ...]
    sort_order: int


_DO = ("sg-sin", "in-blr", "au-syd")
_VULTR = ("sg-sin", "jp-tyo", "jp-osa", "kr-sel", "in-bom", "in-blr", "au-syd", "au-mel")
_LINODE = ("sg-sin", "jp-tyo", "jp-osa", "in-bom", "au-syd", "au-mel")
_JKT = ("id-jkt",)

# size, vCPU, GiB RAM, disk GB, transfer GB, USD a month (the provider's list price)
_DO_SIZES = [
    ("s-1vcpu-1gb", 1, 1, 25, 1000, "6"),
    ("s-1vcpu-2gb", 1, 2, 50, 2000, "12"),
    ("s-2vcpu-2gb", 2, 2, 60, 3000, "18"),
    ("s-2vcpu-4gb", 2, 4, 80, 4000, "24"),
    ("s-4vcpu-8gb", 4, 8, 160, 5000, "48"),
    ("s-8vcpu-16gb", 8, 16, 320, 6000, "96"),
]
_VULTR_SIZES = [  # Cloud Compute, regular performance
    ("vc2-1c-1gb", 1, 1, 25, 1024, "5"),
    ("vc2-1c-2gb", 1, 2, 55, 2048, "10"),
    ("vc2-2c-2gb", 2, 2, 65, 3072, "15"),
    ("vc2-2c-4gb", 2, 4, 80, 3072, "20"),
    ("vc2-4c-8gb", 4, 8, 160, 4096, "40"),
    ("vc2-6c-16gb", 6, 16, 320, 5120, "80"),
]
_LINODE_SIZES = [  # Shared CPU
    ("g6-nanode-1", 1, 1, 25, 1000, "5"),
    ("g6-standard-1", 1, 2, 50, 2000, "12"),
    ("g6-standard-2", 2, 4, 80, 4000, "24"),
    ("g6-standard-4", 4, 8, 160, 5000, "48"),
    ("g6-standard-6", 6, 16, 320, 8000, "96"),
]


def _line(
    prefix: str,
    label: str,
    provider: str,
    sizes: list[tuple[str, int, int, int, int, str]],
    regions: tuple[str, ...],
    first_sort_order: int,
) -> list[SeedPlan]:
    return [
        SeedPlan(
            slug=f"{prefix}-{vcpus}c-{gb}gb",
            name=f"{label} {vcpus} vCPU {gb} GB",
            provider=provider,
            size=size,
            vcpus=vcpus,
            memory_mb=gb * 1024,
            disk_gb=disk,
            transfer_gb=transfer,
            usd_monthly=Decimal(usd),
            regions=regions,
            sort_order=first_sort_order + 10 * index,
        )
        for index, (size, vcpus, gb, disk, transfer, usd) in enumerate(sizes)
    ]


PLANS = [
    # Jakarta first: the region our customers are closest to.
    *_line("linode-jkt", "Linode Jakarta", "linode", _LINODE_SIZES[:4], _JKT, 10),
    *_line("do", "DigitalOcean", "digitalocean", _DO_SIZES, _DO, 110),
    *_line("vultr", "Vultr", "vultr", _VULTR_SIZES, _VULTR, 210),
    *_line("linode", "Linode", "linode", _LINODE_SIZES, _LINODE, 310),
]


def usd_price(plan: SeedPlan) -> Decimal:
    if plan.regions == _JKT:
        return plan.usd_monthly * LINODE_JAKARTA_SURCHARGE
    return plan.usd_monthly
