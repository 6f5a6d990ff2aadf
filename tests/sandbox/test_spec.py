"""Loading the providers' OpenAPI subsets and validating requests and responses against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.sandbox.cloud.settings import CloudSandboxSettings
from devstack.sandbox.cloud.spec import BUNDLED_SPECS, REPO_ROOT, ApiSpec, SpecNotFound, spec_path
from devstack.sandbox.digitalocean import DigitalOcean
from devstack.sandbox.linode import Linode
from devstack.sandbox.vultr import Vultr

FILES = ["digitalocean.openapi.json", "vultr.openapi.json", "linode.openapi.json"]
SHARED = REPO_ROOT.parent / "shared" / "refs" / "providers"


@pytest.mark.parametrize("filename", FILES)
def test_bundled_subsets_are_the_shared_refs(filename: str):
    if not (SHARED / filename).is_file():
        pytest.skip("shared/refs is not beside this checkout")
    assert (BUNDLED_SPECS / filename).read_bytes() == (SHARED / filename).read_bytes()


def test_refs_dir_override_is_used_and_a_missing_file_is_named(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("WEBRANA_REFS_DIR", str(tmp_path))
    with pytest.raises(SpecNotFound, match=r"vultr\.openapi\.json.*WEBRANA_REFS_DIR"):
        spec_path("vultr.openapi.json")
    (tmp_path / "vultr.openapi.json").write_bytes((BUNDLED_SPECS / FILES[1]).read_bytes())
    assert spec_path("vultr.openapi.json") == tmp_path / "vultr.openapi.json"


@pytest.mark.parametrize("provider", [DigitalOcean, Vultr, Linode])
def test_each_stand_in_serves_exactly_the_operations_of_its_subset(provider):
    instance = provider(CloudSandboxSettings())
    assert set(instance.handlers) == set(instance.spec.by_id)


@pytest.fixture(scope="module")
def do_spec() -> ApiSpec:
    return ApiSpec.load(FILES[0], name="digitalocean")


@pytest.fixture(scope="module")
def linode_spec() -> ApiSpec:
    return ApiSpec.load(FILES[2], name="linode", naive_datetimes=True)


def check(spec: ApiSpec, method: str, path: str, query=(), headers=None, body=None):
    operation, params = spec.match(method, path)
    raw = json.dumps(body).encode() if body is not None else b""
    return spec.check_request(
        operation,
        params,
        list(query),
        headers or {},
        raw,
        "application/json" if body is not None else None,
    )


def test_parameters_are_typed_and_checked(do_spec: ApiSpec):
    ok = check(do_spec, "GET", "/v2/droplets", [("page", "2"), ("tag_name", "web")])
    assert ok.valid and ok.query == {"page": 2, "tag_name": "web"}
    bad = check(do_spec, "GET", "/v2/droplets", [("page", "two"), ("type", "vms")])
    assert {(i.field, i.message) for i in bad.issues} == {
        ("page", "must be an integer, not 'two'"),
        ("type", "must be one of: droplets, gpus"),
    }
    path = check(do_spec, "GET", "/v2/droplets/0")
    assert [(i.location, i.field) for i in path.issues] == [("path", "droplet_id")]


def test_bodies_are_checked_in_write_mode(do_spec: ApiSpec, linode_spec: ApiSpec):
    missing = check(do_spec, "POST", "/v2/droplets", body={"name": "a", "image": "x"})
    assert [(i.field, i.message) for i in missing.issues] == [("size", "is required")]
    pattern = check(do_spec, "POST", "/v2/droplets", body={"name": "a b", "size": "s", "image": 1})
    assert [i.field for i in pattern.issues] == ["name"]
    # root_pass is writeOnly and required on rebuild: enforced for requests.
    rebuild = check(linode_spec, "POST", "/v4/linode/instances/1/rebuild", body={"image": "x"})
    assert [(i.field, i.message) for i in rebuild.issues] == [("root_pass", "is required")]
    optional = check(linode_spec, "POST", "/v4/linode/instances/1/password")
    assert [i.field for i in optional.issues] == ["root_pass"]  # the optional body needs it
    operation, params = do_spec.match("POST", "/v2/droplets")
    not_json = do_spec.check_request(operation, params, [], {}, b"{", "application/json")
    assert not_json.issues[0].message == "the request body is not valid JSON"


def test_responses_are_checked_in_read_mode(do_spec: ApiSpec, linode_spec: ApiSpec):
    example = do_spec.document["components"]["examples"]["droplet_create_response"]["value"]
    create = do_spec.by_id["droplets_create"]
    assert do_spec.check_response(create, 202, example, has_body=True) == []
    broken = json.loads(json.dumps(example))
    broken["droplet"]["status"] = "running"
    broken["droplet"]["created_at"] = "2020-07-21T18:37:44"  # no offset: not RFC 3339
    fields = {i.field for i in do_spec.check_response(create, 202, broken, has_body=True)}
    assert fields == {"droplet.status", "droplet.created_at"}
    deleted = do_spec.by_id["droplets_destroy"]
    assert do_spec.check_response(deleted, 204, {"x": 1}, has_body=True)
    event = {
        "id": 1,
        "action": "linode_boot",
        "created": "2018-01-01T00:01:01",
        "status": "finished",
        "percent_complete": 100,
    }
    get_event = linode_spec.by_id["get-event"]
    assert linode_spec.check_response(get_event, 200, event, has_body=True) == []
    unknown = linode_spec.check_response(get_event, 200, event | {"extra": 1}, has_body=True)
    assert [(i.field, i.message) for i in unknown] == [("extra", "is not allowed")]


def test_routes_follow_the_servers_base_path():
    vultr = ApiSpec.load(FILES[1], name="vultr")
    operation, params = vultr.match("POST", "/v2/instances/abc/reboot")
    assert (operation.operation_id, params) == ("reboot-instance", {"instance-id": "abc"})
    assert vultr.by_id["list-regions"].public and not vultr.by_id["list-instances"].public
