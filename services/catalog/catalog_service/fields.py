"""Field types shared by the request and response models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

# Lower-case words joined by single hyphens: `sg-sin`, `digitalocean`, `do-basic-1gb`.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Images also allow dots for versions: `ubuntu-24.04`.
IMAGE_SLUG_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"
# What providers call things: `sgp1`, `ap-south`, `2284`, `linode/ubuntu24.04`, `s-1vcpu-1gb`.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"

Slug = Annotated[str, StringConstraints(min_length=2, max_length=40, pattern=SLUG_PATTERN)]
PlanSlug = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=SLUG_PATTERN)]
ImageSlug = Annotated[
    str, StringConstraints(min_length=2, max_length=40, pattern=IMAGE_SLUG_PATTERN)
]
ProviderCode = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=CODE_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Country = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
    Field(description="ISO 3166-1 alpha-2 country code", examples=["SG"]),
]
SortOrder = Annotated[
    int, Field(ge=0, le=1_000_000, description="Ascending: lower numbers are listed first")
]
# Rupiah are whole numbers; strict so that "129000" or 129000.5 is refused, not coerced.
Rupiah = Annotated[int, Field(strict=True, ge=1_000, le=1_000_000_000_000)]


def _few_codes(codes: dict[str, str]) -> dict[str, str]:
    if len(codes) > 20:
        raise ValueError("at most 20 provider codes")
    return codes


ProviderCodes = Annotated[
    dict[Slug, ProviderCode],
    AfterValidator(_few_codes),
    Field(
        description="What each provider calls it, by provider slug",
        examples=[{"digitalocean": "sgp1", "vultr": "sgp", "linode": "ap-south"}],
    ),
]


class Patch(BaseModel):
    """A partial update: absent fields stay as they are; `null` is refused (nothing here is
    nullable), so a client cannot blank a required column by accident."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
