"""catalog service: providers, plans and their rupiah prices, regions, images; the public
catalog (from memory, with ETags), its administration, the import from the provider service
and the authoritative quote the order service charges."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware

from catalog_service.audit.router import router as audit_router
from catalog_service.clients import ProviderClient
from catalog_service.config import CatalogSettings
from catalog_service.images.router import router as images_router
from catalog_service.imports.router import router as import_router
from catalog_service.plans.router import internal_router as plans_internal_router
from catalog_service.plans.router import router as plans_router
from catalog_service.providers.router import router as providers_router
from catalog_service.public.cache import PublicCatalog, PublicCatalogFastPath
from catalog_service.public.router import router as public_router
from catalog_service.quotes.router import router as quotes_router
from catalog_service.quotes.service import QuoteCache
from catalog_service.regions.router import router as regions_router
from catalog_service.versioning.tracker import VersionTracker
from webrana_common.service import create_service_app

log = logging.getLogger("catalog")

TAGS = [
    {
        "name": "catalog",
        "description": "What is on sale: plans with rupiah prices per billing cycle, regions, "
        "images, providers. No token needed; ETag/If-None-Match supported.",
    },
    {"name": "admin: plans", "description": "Plans (admins only)"},
    {"name": "admin: regions", "description": "Regions and their provider codes (admins only)"},
    {"name": "admin: images", "description": "Images and their provider codes (admins only)"},
    {"name": "admin: providers", "description": "Providers (admins only)"},
    {"name": "admin: import", "description": "Plan proposals from the provider service"},
    {"name": "admin: audit", "description": "Who changed what in the catalog (admins only)"},
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        if state.db is None:
            raise RuntimeError("the catalog needs DATABASE_URL")
        state.versions = VersionTracker(
            state.db,
            state.redis,
            check_seconds=settings.catalog_version_check_seconds,
            db_check_seconds=settings.catalog_version_db_check_seconds,
        )
        state.public_catalog = PublicCatalog(
            state.db,
            state.versions,
            max_age_seconds=settings.catalog_cache_max_age_seconds,
            max_entries=settings.catalog_cache_entries,
        )
        state.provider_client = ProviderClient(state.http, settings.provider_url)
        try:
            # Loaded before traffic arrives, so the first requests do not queue behind it.
            await state.public_catalog.snapshot()
        except Exception:
            # Not fatal: /ready reports the database, and the first request loads it.
            log.warning("public catalog not preloaded", exc_info=True)
        yield

    app = create_service_app(
        settings,
        title="WeBrana catalog",
        description="Plans, prices (whole rupiah per billing cycle), regions and images on "
        "DigitalOcean, Vultr and Linode. Errors are RFC 9457 `application/problem+json` with "
        "a stable `code`.",
        lifespan=lifespan,
        openapi_tags=TAGS,
        inner_middleware=[Middleware(PublicCatalogFastPath)],
    )
    app.state.quote_cache = QuoteCache()
    app.include_router(public_router)
    app.include_router(plans_router)
    app.include_router(regions_router)
    app.include_router(images_router)
    app.include_router(providers_router)
    app.include_router(import_router)
    app.include_router(audit_router)
    app.include_router(plans_internal_router)
    app.include_router(quotes_router)
    return app
