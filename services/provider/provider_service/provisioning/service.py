"""Idempotent provisioning: one key (the order id), one server, whatever the retries and races.

The claim is committed before the provider is called, so concurrent duplicates find it and
wait, and a crash leaves a trace; the outcome is committed after. That makes this the one place
that commits in its own units of work (`Database.session()`) rather than through the request's
SessionDep. A create whose outcome is unknown (timeout, 5xx, lost claimer) is resolved by
looking the server up by its tag before anything is created again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from provider_service.clouds.base import (
    CloudProvider,
    Created,
    CreateSpec,
    Instance,
    InstanceStatus,
)
from provider_service.clouds.errors import InstanceNotFound, ProviderUnavailable
from provider_service.clouds.passwords import generate_root_password
from provider_service.clouds.registry import CloudRegistry
from provider_service.config import ProviderSettings
from provider_service.errors import (
    ConcurrentProvisionFailed,
    IdempotencyKeyReused,
    ProvisionInProgress,
    ProvisionNotFound,
)
from provider_service.provisioning import repository
from provider_service.provisioning.models import ProvisionRequest, ProvisionState
from provider_service.provisioning.schemas import (
    ProvisionRequestBody,
    ProvisionResponse,
    ProvisionView,
    lookup_tag,
)
from webrana_common.db.session import Database
from webrana_common.errors import AppError

log = logging.getLogger("provider.provisioning")
MAX_CREATE_ATTEMPTS = 3


async def provision(
    db: Database, registry: CloudRegistry, settings: ProviderSettings, body: ProvisionRequestBody
) -> ProvisionResponse:
    adapter = registry.get(body.provider)
    fingerprint = body.fingerprint()
    tag = lookup_tag(body.idempotency_key)
    async with db.driver() as connection:
        row = await repository.claim_new(
            connection,
            {
                "idempotency_key": body.idempotency_key,
                "provider": body.provider,
                "request_fingerprint": fingerprint,
                "lookup_tag": tag,
                "region": body.region,
                "size": body.size,
                "image": body.image,
                "hostname": body.hostname,
            },
            settings.provision_lease_seconds,
        )
    if row is not None:
        return await _build(db, adapter, settings, row, body, look_first=False)

    deadline = time.monotonic() + settings.provision_wait_seconds
    # The attempt this request waited on: if it fails, so does this duplicate, rather than
    # every waiting duplicate repeating a create the provider just refused.
    waited_on: int | None = None
    while True:
        async with db.session() as session:
            row = await repository.get_by_key(session, body.idempotency_key)
            assert row is not None  # rows are never deleted
            if row.request_fingerprint != fingerprint or row.provider != body.provider:
                raise IdempotencyKeyReused(
                    f"Key {body.idempotency_key!r} was used for a different request",
                    idempotency_key=body.idempotency_key,
                )
            if row.state == ProvisionState.CREATED:
                return await _replay(adapter, row)
            if row.state == ProvisionState.FAILED and row.attempts == waited_on:
                raise ConcurrentProvisionFailed(
                    f"The concurrent request with key {body.idempotency_key!r} failed: "
                    f"{row.last_error_detail}",
                    idempotency_key=body.idempotency_key,
                    last_error_code=row.last_error_code,
                )
            waited_on = row.attempts
            taken = await repository.take_over(session, row, settings.provision_lease_seconds)
        if taken is not None:
            return await _build(db, adapter, settings, taken, body, look_first=True)
        if time.monotonic() >= deadline:
            raise ProvisionInProgress(
                f"Another request with key {body.idempotency_key!r} is creating the server",
                headers={"Retry-After": "2"},
                idempotency_key=body.idempotency_key,
            )
        await asyncio.sleep(settings.provision_poll_seconds)


async def get_provision(db: Database, idempotency_key: str) -> ProvisionView:
    async with db.reader() as session:
        row = await repository.get_by_key(session, idempotency_key)
    if row is None:
        raise ProvisionNotFound(f"No provision request with key {idempotency_key!r}")
    return ProvisionView.model_validate(row, from_attributes=True)


async def _build(
    db: Database,
    adapter: CloudProvider,
    settings: ProviderSettings,
    row: ProvisionRequest,
    body: ProvisionRequestBody,
    *,
    look_first: bool,
) -> ProvisionResponse:
    spec = CreateSpec(
        region=body.region,
        size=body.size,
        image=body.image,
        hostname=body.hostname,
        ssh_keys=tuple(body.ssh_keys),
        user_data=body.user_data,
        tags=(*body.tags, row.lookup_tag),
        lookup_tag=row.lookup_tag,
        root_password=generate_root_password(),
    )
    try:
        created, recovered = await _create_once(adapter, settings, spec, look_first=look_first)
    except AppError as exc:
        async with db.session() as session:
            await repository.mark_failed(
                session, row.id, attempt=row.attempts, code=exc.code, detail=exc.detail
            )
        raise
    async with db.driver() as connection:
        await repository.mark_created(
            connection,
            row.id,
            instance_id=created.instance.id,
            action_id=created.action_id,
            recovered_by_tag=recovered,
        )
    log.info(
        "server created" if not recovered else "server found by its tag",
        extra={
            "provider": adapter.name,
            "instance_id": created.instance.id,
            "idempotency_key": body.idempotency_key,
            "attempt": row.attempts,
        },
    )
    return ProvisionResponse(
        idempotency_key=row.idempotency_key,
        provider=adapter.name,
        provider_instance_id=created.instance.id,
        status=created.instance.status,
        provider_status=created.instance.provider_status,
        lookup_tag=row.lookup_tag,
        root_password=created.root_password.get_secret_value() if created.root_password else None,
        replayed=False,
        recovered_by_tag=recovered,
        create_action_id=created.action_id,
    )


async def _create_once(
    adapter: CloudProvider, settings: ProviderSettings, spec: CreateSpec, *, look_first: bool
) -> tuple[Created, bool]:
    """Create the server unless it exists; (created, found_by_tag).

    A create that fails with an unknown outcome is followed by a tag lookup, and repeated only
    when nothing carries the tag and the claim's lease leaves room for a whole call."""
    started = time.monotonic()
    if look_first:
        found = await _find_by_tag(adapter, spec.lookup_tag)
        if found is not None:
            # A previous request's password is unknown here (it was never stored).
            return Created(instance=found), True
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            return await adapter.create(spec), False
        except ProviderUnavailable as exc:
            if not exc.outcome_unknown:
                raise
            await asyncio.sleep(_backoff(settings, attempt))
            found = await _find_by_tag(adapter, spec.lookup_tag)
            if found is not None:
                # Built by the call that failed: its password is the one we sent, if any.
                password = spec.root_password if adapter.uses_our_password(spec) else None
                return Created(instance=found, root_password=password), True
            elapsed = time.monotonic() - started
            room = settings.provision_lease_seconds - elapsed - settings.provider_deadline_seconds
            if attempt == MAX_CREATE_ATTEMPTS or room <= settings.provider_deadline_seconds:
                raise
            log.warning(
                "create failed and no server carries its tag: creating again",
                extra={"provider": adapter.name, "tag": spec.lookup_tag, "attempt": attempt},
            )
    raise AssertionError("unreachable")


async def _find_by_tag(adapter: CloudProvider, tag: str) -> Instance | None:
    living = [i for i in await adapter.find_by_tag(tag) if i.status != InstanceStatus.TERMINATED]
    if len(living) > 1:
        log.error(
            "several servers carry one order's tag",
            extra={"provider": adapter.name, "tag": tag, "ids": [i.id for i in living]},
        )
    living.sort(key=lambda i: (i.created_at is None, i.created_at, i.id))
    return living[0] if living else None


async def _replay(adapter: CloudProvider, row: ProvisionRequest) -> ProvisionResponse:
    assert row.provider_instance_id is not None
    try:
        instance = await adapter.get(row.provider_instance_id)
        status, provider_status = instance.status, instance.provider_status
    except InstanceNotFound:
        status, provider_status = InstanceStatus.TERMINATED, None
    return ProvisionResponse(
        idempotency_key=row.idempotency_key,
        provider=adapter.name,
        provider_instance_id=row.provider_instance_id,
        status=status,
        provider_status=provider_status,
        lookup_tag=row.lookup_tag,
        replayed=True,
        recovered_by_tag=row.recovered_by_tag,
        create_action_id=row.create_action_id,
    )


def _backoff(settings: ProviderSettings, attempt: int) -> float:
    return min(
        settings.provider_backoff_max_seconds, settings.provider_backoff_seconds * 2**attempt
    )
