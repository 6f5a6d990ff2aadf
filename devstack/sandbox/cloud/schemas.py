"""How a JSON Schema error in an OpenAPI document reads: one `Issue` per problem, with a
dotted field name a provider can put in its own error shape; and the format checks used."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import oas30_format_checker
from rfc3339_validator import validate_rfc3339


@dataclass(frozen=True)
class Issue:
    """One way a request or response breaks the spec. `field` is dotted (`metadata.user_data`,
    `authorized_keys[0]`) and names the input for path/query/header/body issues."""

    location: str
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "field": self.field, "message": self.message}


def format_checker(naive_datetimes: bool) -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(oas30_format_checker.checkers)

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if validate_rfc3339(value):
            return True
        # Linode sends UTC times without an offset ("2018-01-01T00:01:01").
        return naive_datetimes and datetime.fromisoformat(value).tzinfo is None

    @checker.checks("ipv4", raises=ValueError)
    def ipv4(value: object) -> bool:
        return not isinstance(value, str) or bool(ipaddress.IPv4Address(value))

    @checker.checks("ipv6", raises=ValueError)
    def ipv6(value: object) -> bool:
        return not isinstance(value, str) or bool(ipaddress.IPv6Address(value))

    return checker


def _dotted(prefix: str, path: Iterable[Any]) -> str | None:
    out = prefix
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out or None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_FORMATS = {"byte": "must be base64-encoded", "date-time": "must be an RFC 3339 date-time"}
_LIMITS = {
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
}


def describe(error: ValidationError, location: str, prefix: str = "") -> list[Issue]:
    """Readable issues for one jsonschema error, descending into oneOf/anyOf branches."""
    path = list(error.absolute_path)
    here = _dotted(prefix, path)
    validator, value, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator in ("oneOf", "anyOf"):
        discriminator = schema.get("discriminator")
        if discriminator and isinstance(instance, dict):
            prop = discriminator["propertyName"]
            mapping = discriminator.get("mapping", {})
            where = _dotted(prefix, [*path, prop])
            if prop not in instance:
                return [Issue(location, where, "is required")]
            if mapping and instance[prop] not in mapping:
                options = ", ".join(sorted(mapping))
                return [Issue(location, where, f"must be one of: {options}")]
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context or []:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
        if branches:
            # The branch the instance came closest to: it got deepest into it, then the
            # fewest errors (a body missing one field matches its branch's shape).
            best = min(
                branches.values(),
                key=lambda errors: (-max(len(e.absolute_path) for e in errors), len(errors)),
            )
            return [i for sub in best for i in describe(sub, location, prefix)]
        if validator == "oneOf":
            return [Issue(location, here, "matches more than one of the allowed forms")]
    if validator == "required":
        missing = next((p for p in value if isinstance(instance, dict) and p not in instance), "?")
        return [Issue(location, _dotted(prefix, [*path, missing]), "is required")]
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in known) or ["?"]
        return [Issue(location, _dotted(prefix, [*path, k]), "is not allowed") for k in extra]
    if validator == "type":
        return [Issue(location, here, f"must be of type {value}, not {_short(instance)}")]
    if validator == "enum":
        options = ", ".join(str(v) for v in value)
        return [Issue(location, here, f"must be one of: {options}")]
    if validator == "pattern":
        return [Issue(location, here, f"{_short(instance)} does not match {value}")]
    if validator == "format":
        return [Issue(location, here, _FORMATS.get(value, f"must be a valid {value}"))]
    if validator in _LIMITS:
        return [Issue(location, here, _LIMITS[validator].format(value))]
    message = error.message
    return [Issue(location, here, message if len(message) <= 200 else message[:197] + "...")]
