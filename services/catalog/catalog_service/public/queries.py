"""The query strings of the public reads: validated only when a query is first seen for a
catalog version (see cache.py), and documented in OpenAPI from the same models."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog_service.fields import Slug
from catalog_service.pricing import BillingCycle

Limit = Annotated[int, Field(ge=1, le=100, description="Page size")]
Cursor = Annotated[
    str | None,
    Field(max_length=200, description="`next_cursor` of the previous page"),
]


class PlanSort(StrEnum):
    SORT_ORDER = "sort_order"
    PRICE = "price"
    PRICE_DESC = "-price"
    VCPUS = "vcpus"
    VCPUS_DESC = "-vcpus"
    MEMORY = "memory"
    MEMORY_DESC = "-memory"
    DISK = "disk"
    DISK_DESC = "-disk"


class _Query(BaseModel):
    # frozen: the validated query is itself the cache key
    model_config = ConfigDict(extra="ignore", frozen=True)


class PlanListQuery(_Query):
    provider: Slug | None = Field(default=None, description="Provider slug", examples=["vultr"])
    region: Slug | None = Field(
        default=None, description="Only plans offered in this region", examples=["sg-sin"]
    )
    min_vcpus: int | None = Field(
        default=None, ge=1, le=512, description="At least this many vCPUs"
    )
    min_memory_mb: int | None = Field(
        default=None, ge=0, le=4_194_304, description="At least this much RAM, MiB"
    )
    max_price: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000_000_000,
        description="At most this many rupiah for the chosen `cycle` (the whole cycle)",
        examples=[250000],
    )
    cycle: BillingCycle = Field(
        default=BillingCycle.MONTHLY, description="The cycle `max_price` and price sorts use"
    )
    sort: PlanSort = Field(
        default=PlanSort.SORT_ORDER,
        description="`sort_order` (our recommendation), `price`, `vcpus`, `memory`, `disk`; "
        "a leading `-` for descending",
    )
    limit: Limit = 100
    cursor: Cursor = None


class RegionListQuery(_Query):
    provider: Slug | None = Field(
        default=None, description="Only regions this provider serves", examples=["linode"]
    )
    limit: Limit = 100
    cursor: Cursor = None


class ImageListQuery(_Query):
    provider: Slug | None = Field(
        default=None, description="Only images this provider offers", examples=["digitalocean"]
    )
    distribution: str | None = Field(
        default=None, max_length=30, description="e.g. `ubuntu` (case-insensitive)"
    )
    limit: Limit = 100
    cursor: Cursor = None


class ProviderListQuery(_Query):
    limit: Limit = 100
    cursor: Cursor = None


Q = TypeVar("Q", bound=_Query)


def parse_query(model: type[Q], params: Mapping[str, str]) -> Q:
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("query", *err["loc"])} for err in exc.errors()]
        ) from None


def query_error(field: str, message: str, kind: str) -> RequestValidationError:
    """A semantic problem with one parameter, rendered like any validation error."""
    return RequestValidationError([{"loc": ("query", field), "msg": message, "type": kind}])


def openapi_parameters(model: type[_Query]) -> dict[str, Any]:
    """`openapi_extra` documenting `model`'s fields as query parameters (the route itself reads
    the raw query string, so FastAPI cannot see them)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.get("$defs", {})
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        examples = prop.pop("examples", None)
        prop.pop("title", None)
        if "$ref" in prop:
            prop = dict(definitions[prop["$ref"].rsplit("/", 1)[1]], default=prop.get("default"))
            prop.pop("title", None)
        if "anyOf" in prop:  # `X | None` = optional X
            options = [o for o in prop.pop("anyOf") if o.get("type") != "null"]
            prop.update(options[0])
            prop.pop("default", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
        if description:
            parameter["description"] = description
        if examples:
            parameter["example"] = examples[0]
        parameters.append(parameter)
    return {"parameters": parameters}
