"""Linode's `X-Filter` header: field equality (dotted keys reach into objects, a list matches
when it holds the value), `+and`/`+or`, the operators `+contains`, `+neq`, `+gt`, `+gte`,
`+lt`, `+lte`, and sorting with `+order_by`/`+order`."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "+gt": operator.gt,
    "+gte": operator.ge,
    "+lt": operator.lt,
    "+lte": operator.le,
}


def lookup(item: dict[str, Any], key: str) -> Any:
    value: Any = item
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _test(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict):
        return all(_apply(value, op, operand) for op, operand in condition.items())
    if isinstance(value, list):
        return condition in value
    return bool(value == condition)


def _apply(value: Any, op: str, operand: Any) -> bool:
    if op == "+contains":
        return str(operand) in (value if isinstance(value, list) else str(value or ""))
    if op == "+neq":
        return bool(value != operand)
    if op == "+or":
        return any(_test(value, v) for v in operand)
    if op == "+and":
        return all(_test(value, v) for v in operand)
    if op in _COMPARE:
        return value is not None and _COMPARE[op](value, operand)
    return False


def matches(item: dict[str, Any], criteria: dict[str, Any]) -> bool:
    for key, condition in criteria.items():
        if key in ("+order_by", "+order"):
            continue
        if key == "+and":
            ok = all(matches(item, c) for c in condition)
        elif key == "+or":
            ok = any(matches(item, c) for c in condition)
        else:
            ok = _test(lookup(item, key), condition)
        if not ok:
            return False
    return True


def apply(items: list[dict[str, Any]], criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not criteria:
        return items
    found = [item for item in items if matches(item, criteria)]
    if "+order_by" in criteria:
        key = criteria["+order_by"]
        found.sort(
            key=lambda item: (lookup(item, key) is None, lookup(item, key) or 0),
            reverse=criteria.get("+order") == "desc",
        )
    return found
