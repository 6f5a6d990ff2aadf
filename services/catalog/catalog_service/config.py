"""Settings of the catalog service; every name is documented in services/catalog/README.md."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from webrana_common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_name: str = "catalog"
    port: int = 3002

    # Import: a provider's USD monthly price becomes rupiah at this rate, plus the markup,
    # rounded up to the step (never below the markup), then discounted per longer cycle.
    usd_idr_rate: Decimal = Field(default=Decimal("16500"), gt=0, le=1_000_000)
    plan_markup_percent: Decimal = Field(default=Decimal("30"), ge=0, le=1000)
    plan_price_step_idr: int = Field(default=1000, ge=1, le=1_000_000)
    plan_discount_quarterly_percent: Decimal = Field(default=Decimal("5"), ge=0, lt=100)
    plan_discount_semiannual_percent: Decimal = Field(default=Decimal("10"), ge=0, lt=100)
    plan_discount_annual_percent: Decimal = Field(default=Decimal("15"), ge=0, lt=100)

    # Public reads: how long a client may reuse a response before revalidating (ETag).
    catalog_cache_max_age_seconds: int = Field(default=60, ge=0, le=86_400)
    # How stale this process's idea of the catalog version may be: Redis is read at most this
    # often; the database at most every CATALOG_VERSION_DB_CHECK_SECONDS (heals a Redis that
    # missed a bump, e.g. because it was down when an admin saved).
    catalog_version_check_seconds: float = Field(default=1.0, gt=0, le=60)
    catalog_version_db_check_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Distinct public queries kept pre-serialised per catalog version.
    catalog_cache_entries: int = Field(default=2048, ge=16, le=1_000_000)

    def cycle_discounts(self) -> dict[str, Decimal]:
        return {
            "monthly": Decimal(0),
            "quarterly": self.plan_discount_quarterly_percent,
            "semiannual": self.plan_discount_semiannual_percent,
            "annual": self.plan_discount_annual_percent,
        }
