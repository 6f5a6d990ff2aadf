from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Reason = Annotated[str, StringConstraints(min_length=3, max_length=500, strip_whitespace=True)]


class AdminAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="Why; kept in the order's timeline")


class Refund(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason
    amount: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="Whole rupiah; default: everything not refunded yet"
    )
