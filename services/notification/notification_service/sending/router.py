from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from notification_service.contracts import SendNotification
from notification_service.errors import IdempotencyKeyMismatch, IdempotencyKeyMissing
from notification_service.sending import service
from notification_service.sending.schemas import SendResult
from webrana_common.auth.api_keys import Internal
from webrana_common.openapi import problems

router = APIRouter(prefix="/internal/notifications", tags=["internal"])
# Also answered by sending.fast_path (the same call, without FastAPI's per-request work).
SEND_PATH = "/internal/notifications/send"


def send_key(header: str | None, body: SendNotification) -> str:
    if header is not None and body.idempotency_key is not None and header != body.idempotency_key:
        raise IdempotencyKeyMismatch("Send the same key in the header and the body, or one")
    key = body.idempotency_key or header
    if not key:
        raise IdempotencyKeyMissing("Send idempotency_key (or the Idempotency-Key header)")
    if len(key) > 200:
        raise IdempotencyKeyMissing("The idempotency key is longer than 200 characters")
    return key


@router.post(
    "/send",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Notify a user of an event (service-to-service)",
    description="Idempotent on `idempotency_key` (or the `Idempotency-Key` header the outbox "
    "sends): a key seen before answers 200 with `duplicate: true` and notifies nobody. New: "
    "202, the in-app copy stored and pushed, email and Telegram queued (or skipped, with why).",
    responses={
        200: {"model": SendResult, "description": "Seen before: nothing sent again"},
        **problems(
            s400="idempotency_key_missing idempotency_key_mismatch",
            s401="api_key_invalid",
            s404="user_not_found",
            s422="invalid_event_data validation_error",
            s503="auth_unavailable",
        ),
    },
)
async def send(
    body: SendNotification,
    request: Request,
    response: Response,
    _caller: Internal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> SendResult:
    state = request.app.state
    key = send_key(idempotency_key, body)
    # No SessionDep: the send runs on the autocommit engine (see service.send).
    result = await service.send(state.send_engine, state.db, state.senders, body, key)
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result
