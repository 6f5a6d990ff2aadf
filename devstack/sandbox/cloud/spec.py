"""The providers' own OpenAPI subsets, used as the contract of each stand-in.

Every request a stand-in receives is matched to an operation of its provider's spec and
checked against it (path and query parameters, headers such as Linode's `X-Filter`, the JSON
body); every response it sends can be checked the same way. Requests are validated in OpenAPI
*write* mode and responses in *read* mode (`readOnly`/`writeOnly` decide which `required`
entries apply), as shared/refs/providers/README.md advises.

The subsets are the files in `specs/` beside this module (copies of shared/refs/providers), or
those in `$WEBRANA_REFS_DIR` when it is set.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from devstack.sandbox.cloud.schemas import Issue, describe, format_checker

BUNDLED_SPECS = Path(__file__).resolve().parent / "specs"
REPO_ROOT = Path(__file__).resolve().parents[3]
REFS_ENV = "WEBRANA_REFS_DIR"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecNotFound(RuntimeError):
    pass


def spec_path(filename: str) -> Path:
    """`$WEBRANA_REFS_DIR/<file>` when set, else the bundled copy, else `../shared/refs`."""
    override = os.environ.get(REFS_ENV)
    if override:
        candidates = [Path(override) / filename]
    else:
        shared = REPO_ROOT.parent / "shared" / "refs" / "providers"
        candidates = [BUNDLED_SPECS / filename, shared / filename]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise SpecNotFound(
        f"OpenAPI subset {filename} not found (looked in: {tried}). Copy it from "
        f"shared/refs/providers into {BUNDLED_SPECS}, or point {REFS_ENV} at a folder holding it."
    )


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    pointer: str


@dataclass
class Operation:
    operation_id: str
    method: str
    template: str
    parameters: list[Parameter]
    body_pointer: str | None
    body_required: bool
    public: bool
    responses: dict[str, str | None]  # status ("200", "default") -> JSON schema pointer or None

    @cached_property
    def _pattern(self) -> tuple[re.Pattern[str], list[str]]:
        regex, names = "", []
        for part in re.split(r"(\{[^}]+\})", self.template):
            if part.startswith("{"):
                regex += f"(?P<p{len(names)}>[^/]+)"
                names.append(part[1:-1])
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}$"), names

    def match(self, path: str) -> dict[str, str] | None:
        pattern, names = self._pattern
        found = pattern.match(path)
        if found is None:
            return None
        return {name: found.group(f"p{i}") for i, name in enumerate(names)}

    @property
    def literal_length(self) -> int:
        return len(re.sub(r"\{[^}]+\}", "", self.template))


@dataclass
class CheckedRequest:
    """A request read through its operation: typed parameters, parsed body, and what is wrong."""

    operation: Operation
    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.issues


class NoRoute(LookupError):
    def __init__(self, allowed: Sequence[str] = ()) -> None:
        super().__init__("no operation of the spec matches")
        self.allowed = list(allowed)


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class ApiSpec:
    """One provider's OpenAPI document: its operations, and validation against it."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        name: str,
        naive_datetimes: bool = False,
        normalise: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        if normalise is not None:
            normalise(document)  # a labelled fix of an upstream defect, made in memory
        self.document = document
        self.name = name
        self._uri = f"urn:webrana:sandbox:{name}"
        self._registry: Registry[Any] = Registry().with_resource(
            self._uri, Resource(contents=document, specification=DRAFT4)
        )
        self._checker = format_checker(naive_datetimes)
        self._validators: dict[tuple[str, str], Any] = {}
        servers = document.get("servers") or [{"url": ""}]
        self.base_path = urlsplit(servers[0]["url"]).path.rstrip("/")
        self.operations = sorted(self._read_operations(), key=lambda o: -o.literal_length)
        self.by_id = {o.operation_id: o for o in self.operations}

    @classmethod
    def load(cls, filename: str, *, name: str, **options: Any) -> ApiSpec:
        with spec_path(filename).open(encoding="utf-8") as handle:
            return cls(json.load(handle), name=name, **options)

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.at(node["$ref"].removeprefix("#"))
        return node

    def at(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.lstrip("/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _read_operations(self) -> Iterable[Operation]:
        top_security = self.document.get("security")
        for template, item in self.document["paths"].items():
            base = f"/paths/{_pointer_escape(template)}"
            for method in METHODS:
                if method not in item:
                    continue
                op = item[method]
                security = op.get("security", top_security)
                yield Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    template=template,
                    parameters=self._parameters(item, op, base, method),
                    body_pointer=self._body_pointer(op, f"{base}/{method}"),
                    body_required=bool(self.resolve(op.get("requestBody", {})).get("required")),
                    public=not security or all(not s for s in security),
                    responses={
                        status: self._json_schema_pointer(
                            response, f"{base}/{method}/responses/{_pointer_escape(status)}"
                        )
                        for status, response in op.get("responses", {}).items()
                    },
                )

    def _parameters(
        self, item: dict[str, Any], op: dict[str, Any], base: str, method: str
    ) -> list[Parameter]:
        found: dict[tuple[str, str], Parameter] = {}
        for where, params in (
            (base, item.get("parameters", [])),
            (f"{base}/{method}", op.get("parameters", [])),
        ):
            for index, raw in enumerate(params):
                pointer = (
                    raw["$ref"].removeprefix("#")
                    if "$ref" in raw
                    else (f"{where}/parameters/{index}")
                )
                param = self.resolve(raw)
                found[(param["name"], param["in"])] = Parameter(
                    name=param["name"],
                    location=param["in"],
                    required=bool(param.get("required")),
                    schema=self.resolve(param.get("schema", {})),
                    pointer=f"{pointer}/schema",
                )
        return list(found.values())

    def _body_pointer(self, op: dict[str, Any], base: str) -> str | None:
        if "requestBody" not in op:
            return None
        raw = op["requestBody"]
        pointer = raw["$ref"].removeprefix("#") if "$ref" in raw else f"{base}/requestBody"
        return self._json_schema_pointer(self.resolve(raw), pointer)

    def _json_schema_pointer(self, node: dict[str, Any], pointer: str) -> str | None:
        if "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.resolve(node)
        if "application/json" in node.get("content", {}) and (
            "schema" in node["content"]["application/json"]
        ):
            return f"{pointer}/content/application~1json/schema"
        return None

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation for `METHOD path` (path as received, with the server's base path)."""
        if not path.startswith(self.base_path + "/"):
            raise NoRoute()
        relative = path[len(self.base_path) :]
        allowed = []
        for operation in self.operations:
            params = operation.match(relative)
            if params is None:
                continue
            if operation.method == method.upper():
                return operation, params
            allowed.append(operation.method)
        raise NoRoute(allowed)

    def validator(self, pointer: str, mode: str) -> Any:
        key = (pointer, mode)
        if key not in self._validators:
            cls = OAS30WriteValidator if mode == "write" else OAS30ReadValidator
            self._validators[key] = cls(
                {"$ref": f"{self._uri}#{pointer}"},
                registry=self._registry,
                format_checker=self._checker,
            )
        return self._validators[key]

    def validate(
        self, pointer: str, instance: Any, *, mode: str, location: str, prefix: str = ""
    ) -> list[Issue]:
        errors = self.validator(pointer, mode).iter_errors(instance)
        return [i for error in errors for i in describe(error, location, prefix)]

    def check_request(
        self,
        operation: Operation,
        raw_path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str | None,
    ) -> CheckedRequest:
        checked = CheckedRequest(operation)
        declared_query = {p.name for p in operation.parameters if p.location == "query"}
        for name in dict(query):
            if name not in declared_query:
                checked.warnings.append(f"query parameter {name!r} is not in the spec")
        for param in operation.parameters:
            if param.location == "path":
                present, raw = param.name in raw_path_params, raw_path_params.get(param.name)
                target = checked.path_params
            elif param.location == "query":
                values = [v for k, v in query if k == param.name]
                present = bool(values)
                raw = values if param.schema.get("type") == "array" else (values or [None])[-1]
                target = checked.query
            elif param.location == "header":
                present, raw = param.name.lower() in headers, headers.get(param.name.lower())
                target = checked.headers
            else:
                continue
            if not present:
                if param.required:
                    checked.issues.append(Issue(param.location, param.name, "is required"))
                continue
            try:
                value = coerce(raw, param.schema)
            except ValueError as exc:
                checked.issues.append(Issue(param.location, param.name, str(exc)))
                continue
            issues = self.validate(
                param.pointer, value, mode="write", location=param.location, prefix=param.name
            )
            checked.issues += issues
            if not issues:
                target[param.name] = value
        self._check_body(checked, body, content_type)
        return checked

    def _check_body(self, checked: CheckedRequest, body: bytes, content_type: str | None) -> None:
        operation = checked.operation
        if not body.strip():
            if operation.body_required:
                checked.issues.append(Issue("body", None, "a JSON request body is required"))
            elif operation.body_pointer is not None:
                # An optional body may be left out only when `{}` would do (Linode's
                # password reset declares its body optional but requires root_pass in it).
                checked.issues += self.validate(
                    operation.body_pointer, {}, mode="write", location="body"
                )
            return
        if operation.body_pointer is None:
            checked.warnings.append("the operation takes no request body; it was ignored")
            return
        media = (content_type or "").split(";")[0].strip().lower()
        if media != "application/json":
            checked.issues.append(
                Issue("header", "Content-Type", f"must be application/json, not {media!r}")
            )
            return
        try:
            checked.body = json.loads(body)
        except ValueError:
            checked.issues.append(Issue("body", None, "the request body is not valid JSON"))
            return
        checked.issues += self.validate(
            operation.body_pointer, checked.body, mode="write", location="body"
        )

    def check_response(
        self,
        operation: Operation,
        status: int,
        body: Any,
        *,
        has_body: bool,
        error_pointer: str | None = None,
    ) -> list[Issue]:
        declared = operation.responses.get(str(status), operation.responses.get("default"))
        pointer = declared
        if pointer is None and status >= 400:
            pointer = error_pointer  # Vultr declares error statuses without a body schema
        if pointer is None:
            if has_body and status in (204, 304):
                return [Issue("response", None, f"a {status} response must have no body")]
            return []
        if not has_body:
            return [Issue("response", None, f"a {status} response needs a JSON body")]
        return self.validate(pointer, body, mode="read", location="response")


def coerce(raw: Any, schema: Mapping[str, Any]) -> Any:
    """A path, query or header parameter's text as the type its schema declares."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return [coerce(v, items) for v in (raw if isinstance(raw, list) else [raw])]
    if not isinstance(raw, str):
        return raw
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise ValueError(f"must be an integer, not {raw!r}")
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"must be a number, not {raw!r}") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false, not {raw!r}")
        return raw.lower() == "true"
    if kind == "object" or "oneOf" in schema or "anyOf" in schema:
        try:
            return json.loads(raw)
        except ValueError:
            raise ValueError("must be a JSON object") from None
    return raw
