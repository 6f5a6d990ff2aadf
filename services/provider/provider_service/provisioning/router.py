from __future__ import annotations

from fastapi import APIRouter, Response, status

from provider_service.dependencies import CloudsDep, DatabaseDep, SettingsDep
from provider_service.openapi import problems, provider_problems
from provider_service.provisioning import service
from provider_service.provisioning.schemas import (
    ProvisionRequestBody,
    ProvisionResponse,
    ProvisionView,
)
from webrana_common.auth.api_keys import require_internal

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_internal])


@router.post(
    "/provision",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Create a server, exactly once per idempotency key",
    description="The same `idempotency_key` (the order id) always yields the same server, "
    "also for concurrent duplicates: a duplicate waits for the first request and answers with "
    "its server (`replayed: true`, no password). A key whose earlier create failed midway is "
    "resolved by looking the server up by its tag (`wbr-order-<key>`) before creating again. "
    "Poll GET /internal/instances/{provider}/{id} until ACTIVE.",
    responses=provider_problems(
        s409="idempotency_key_reused provision_in_progress concurrent_provision_failed",
        s422="provider_rejected validation_error image_invalid ssh_key_not_supported",
    ),
)
async def provision(
    body: ProvisionRequestBody,
    db: DatabaseDep,
    clouds: CloudsDep,
    settings: SettingsDep,
    response: Response,
) -> ProvisionResponse:
    result = await service.provision(db, clouds, settings, body)
    response.headers["Cache-Control"] = "no-store"  # may carry the root password
    return result


@router.get(
    "/provision/{idempotency_key}",
    summary="The provision request of a key: state, attempts, last error",
    responses=problems(s401="api_key_invalid", s404="provision_not_found"),
)
async def get_provision(idempotency_key: str, db: DatabaseDep) -> ProvisionView:
    return await service.get_provision(db, idempotency_key)
