"""The public reads as `PublicView`s: validate a request against the snapshot, render a body.
Rendering happens once per query and catalog version; the cache serves the bytes after."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request

from catalog_service.errors import PlanNotFound
from catalog_service.paging import decode_cursor, encode_cursor, page_after
from catalog_service.pricing import BillingCycle
from catalog_service.public.queries import (
    ImageListQuery,
    PlanListQuery,
    PlanSort,
    ProviderListQuery,
    RegionListQuery,
    parse_query,
    query_error,
)
from catalog_service.public.snapshot import PlanEntry, Snapshot


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _after(cursor: str | None, *, length: int, tag: str) -> tuple[Any, ...] | None:
    return tuple(decode_cursor(cursor, length=length + 1, tag=tag)[1:]) if cursor else None


def _page(
    items: Sequence[Any], key: Callable[[Any], tuple[Any, ...]], query: Any, tag: str, length: int
) -> bytes:
    page, last = page_after(items, key, _after(query.cursor, length=length, tag=tag), query.limit)
    return dumps(
        {
            "items": [item.json for item in page],
            "next_cursor": encode_cursor([tag, *last]) if last is not None else None,
        }
    )


def _check_provider(snapshot: Snapshot, slug: str | None) -> None:
    if slug is not None and slug not in snapshot.provider_slugs:
        known = ", ".join(sorted(snapshot.provider_slugs))
        raise query_error(
            "provider", f"unknown provider '{slug}' (known: {known})", "unknown_provider"
        )


def _price(plan: PlanEntry, cycle: BillingCycle) -> int:
    return plan.prices.get(cycle, plan.prices[BillingCycle.MONTHLY] * cycle.months)


def _sort_key(sort: PlanSort, cycle: BillingCycle) -> Callable[[PlanEntry], tuple[Any, ...]]:
    """Unique per plan (the slug ends every key), so keyset cursors are exact."""

    def price(p: PlanEntry) -> int:
        return _price(p, cycle)

    keys: dict[PlanSort, Callable[[PlanEntry], tuple[Any, ...]]] = {
        PlanSort.SORT_ORDER: lambda p: (p.sort_order, price(p), p.slug),
        PlanSort.PRICE: lambda p: (price(p), p.sort_order, p.slug),
        PlanSort.PRICE_DESC: lambda p: (-price(p), p.sort_order, p.slug),
        PlanSort.VCPUS: lambda p: (p.vcpus, p.memory_mb, price(p), p.slug),
        PlanSort.VCPUS_DESC: lambda p: (-p.vcpus, -p.memory_mb, price(p), p.slug),
        PlanSort.MEMORY: lambda p: (p.memory_mb, p.vcpus, price(p), p.slug),
        PlanSort.MEMORY_DESC: lambda p: (-p.memory_mb, -p.vcpus, price(p), p.slug),
        PlanSort.DISK: lambda p: (p.disk_gb, price(p), p.slug),
        PlanSort.DISK_DESC: lambda p: (-p.disk_gb, price(p), p.slug),
    }
    return keys[sort]


_KEY_LENGTH = {s: 4 if s.value.lstrip("-") in ("vcpus", "memory") else 3 for s in PlanSort}


class PlanList:
    name = "plans"

    def parse(self, snapshot: Snapshot, request: Request) -> PlanListQuery:
        query = parse_query(PlanListQuery, request.query_params)
        _check_provider(snapshot, query.provider)
        if query.region is not None and query.region not in snapshot.region_slugs:
            known = ", ".join(sorted(snapshot.region_slugs))
            raise query_error(
                "region", f"unknown region '{query.region}' (known: {known})", "unknown_region"
            )
        _after(query.cursor, length=_KEY_LENGTH[query.sort], tag=self._tag(query))
        return query

    @staticmethod
    def _tag(query: PlanListQuery) -> str:
        return f"{query.sort.value}:{query.cycle.value}"

    def render(self, snapshot: Snapshot, query: PlanListQuery) -> bytes:
        key = _sort_key(query.sort, query.cycle)
        cycle = query.cycle
        plans = [
            p
            for p in snapshot.plans
            if (query.provider is None or p.provider == query.provider)
            and (query.region is None or query.region in p.regions)
            and (query.min_vcpus is None or p.vcpus >= query.min_vcpus)
            and (query.min_memory_mb is None or p.memory_mb >= query.min_memory_mb)
            and (query.max_price is None or _price(p, cycle) <= query.max_price)
        ]
        plans.sort(key=key)
        return _page(plans, key, query, self._tag(query), _KEY_LENGTH[query.sort])


class PlanDetail:
    name = "plan"

    def parse(self, snapshot: Snapshot, request: Request) -> uuid.UUID:
        ref: str = request.path_params["plan"]
        try:
            plan = snapshot.plans_by_id.get(uuid.UUID(ref))
        except ValueError:
            plan = snapshot.plans_by_slug.get(ref)
        if plan is None:
            raise PlanNotFound(f"No plan on sale with id or slug '{ref[:64]}'")
        return plan.id

    def render(self, snapshot: Snapshot, query: uuid.UUID) -> bytes:
        return dumps(snapshot.plans_by_id[query].detail_json)


class RegionList:
    name = "regions"

    def parse(self, snapshot: Snapshot, request: Request) -> RegionListQuery:
        query = parse_query(RegionListQuery, request.query_params)
        _check_provider(snapshot, query.provider)
        _after(query.cursor, length=2, tag=self.name)
        return query

    def render(self, snapshot: Snapshot, query: RegionListQuery) -> bytes:
        regions = [
            r for r in snapshot.regions if query.provider is None or query.provider in r.providers
        ]
        return _page(regions, lambda r: r.sort_key, query, self.name, 2)


class ImageList:
    name = "images"

    def parse(self, snapshot: Snapshot, request: Request) -> ImageListQuery:
        query = parse_query(ImageListQuery, request.query_params)
        _check_provider(snapshot, query.provider)
        _after(query.cursor, length=2, tag=self.name)
        if query.distribution is not None:
            query = query.model_copy(update={"distribution": query.distribution.lower()})
        return query

    def render(self, snapshot: Snapshot, query: ImageListQuery) -> bytes:
        images = [
            i
            for i in snapshot.images
            if (query.provider is None or query.provider in i.providers)
            and (query.distribution is None or i.distribution == query.distribution)
        ]
        return _page(images, lambda i: i.sort_key, query, self.name, 2)


class ProviderList:
    name = "providers"

    def parse(self, snapshot: Snapshot, request: Request) -> ProviderListQuery:
        query = parse_query(ProviderListQuery, request.query_params)
        _after(query.cursor, length=2, tag=self.name)
        return query

    def render(self, snapshot: Snapshot, query: ProviderListQuery) -> bytes:
        return _page(snapshot.providers, lambda p: p.sort_key, query, self.name, 2)
