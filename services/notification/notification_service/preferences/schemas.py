from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, model_validator

from notification_service.contracts import Category


class ChannelSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_app: bool = True
    email: bool = True
    telegram: bool = True


class MutedChannels(BaseModel):
    """A mute silences the channel for every category it may silence."""

    model_config = ConfigDict(extra="forbid")

    email: bool = False
    telegram: bool = False


class QuietHours(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"start": "22:00", "end": "07:00"}]}
    )

    start: time = Field(description="Asia/Jakarta wall-clock time")
    end: time = Field(description="Asia/Jakarta wall-clock time; before `start` wraps midnight")
    timezone: str = Field(default="Asia/Jakarta", description="Always Asia/Jakarta (WIB)")

    @model_validator(mode="after")
    def _window(self) -> QuietHours:
        if self.timezone != "Asia/Jakarta":
            raise ValueError("quiet hours are kept in Asia/Jakarta")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("give wall-clock times without an offset")
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


def _default_categories() -> dict[Category, ChannelSwitches]:
    return {category: ChannelSwitches() for category in Category}


class PreferencesUpdate(BaseModel):
    """The whole document: categories or fields left out take their defaults."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "categories": {
                        "marketing": {"in_app": True, "email": False, "telegram": False}
                    },
                    "muted": {"email": False, "telegram": False},
                    "quiet_hours": {"start": "22:00", "end": "07:00"},
                }
            ]
        },
    )

    categories: dict[Category, ChannelSwitches] = Field(default_factory=dict)
    muted: MutedChannels = Field(default_factory=MutedChannels)
    quiet_hours: QuietHours | None = None


class PreferencesView(BaseModel):
    categories: dict[Category, ChannelSwitches] = Field(default_factory=_default_categories)
    muted: MutedChannels = Field(default_factory=MutedChannels)
    quiet_hours: QuietHours | None = None
    locked: list[str] = Field(
        description="category.channel switches that stay on: security and transactional "
        "email and in-app; mutes do not reach them either"
    )
