from __future__ import annotations

from fastapi import APIRouter

from notification_service.preferences import service
from notification_service.preferences.schemas import PreferencesUpdate, PreferencesView
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import SessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/notifications/preferences", tags=["preferences"])
_AUTH = {"s401": "token_missing token_invalid"}


@router.get("", summary="The caller's notification preferences", responses=problems(**_AUTH))
async def get_preferences(session: SessionDep, user: CurrentUser) -> PreferencesView:
    return service.view(await service.load(session, user.user_id))


@router.put(
    "",
    summary="Replace the caller's notification preferences",
    description="Per category x channel switches (left out: on), a mute per channel (email, "
    "telegram) and quiet hours in Asia/Jakarta: during them non-urgent email and Telegram wait "
    "for the end of the window; in-app notifications are always stored. Security and "
    "transactional email and in-app cannot be switched off (`422 preference_locked`).",
    responses=problems(**_AUTH, s422="preference_locked validation_error"),
)
async def put_preferences(
    body: PreferencesUpdate, session: SessionDep, user: CurrentUser
) -> PreferencesView:
    return await service.save(session, user.user_id, body)
