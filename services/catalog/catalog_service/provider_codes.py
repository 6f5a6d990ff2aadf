"""What each provider calls a region or an image: the shared rules of `region_codes` and
`image_codes` (one code per provider per row, one of ours per provider code)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.errors import ProviderCodeTaken, UnknownReference
from catalog_service.providers import repository as providers


async def resolve(
    session: AsyncSession,
    codes: Mapping[str, str],
    *,
    kind: str,
    table: Any,
    owner_column: Any,
    owner_id: uuid.UUID,
) -> dict[uuid.UUID, str]:
    """`{provider slug: code}` → `{provider id: code}`, refusing unknown providers and codes
    another of our regions (images) already holds on that provider."""
    found = await providers.by_slugs(session, codes)
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise UnknownReference(
            f"codes: unknown provider {', '.join(repr(s) for s in unknown)}",
            code="unknown_provider",
        )
    for slug, code in codes.items():
        clash = await session.scalar(
            select(owner_column).where(
                table.provider_id == found[slug].id,
                table.code == code,
                owner_column != owner_id,
            )
        )
        if clash is not None:
            raise ProviderCodeTaken(
                f"{slug} code '{code}' is already mapped to another {kind}",
                code=f"{kind}_code_taken",
            )
    return {found[slug].id: code for slug, code in codes.items()}


def replace(
    current: list[Any], wanted: Mapping[uuid.UUID, str], make: Any
) -> tuple[set[uuid.UUID], list[Any]]:
    """Edit the `codes` collection in place to match `wanted`; returns the provider ids whose
    code was removed, and the collection."""
    removed = set()
    for row in list(current):
        if row.provider_id not in wanted:
            removed.add(row.provider_id)
            current.remove(row)
        else:
            row.code = wanted[row.provider_id]
    present = {row.provider_id for row in current}
    current.extend(make(pid, code) for pid, code in wanted.items() if pid not in present)
    return removed, current


def as_slugs(codes: Sequence[Any], slugs: Mapping[uuid.UUID, str]) -> dict[str, str]:
    return dict(sorted((slugs[c.provider_id], c.code) for c in codes))
