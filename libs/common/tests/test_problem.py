"""Every error a client can see is problem+json with a stable `code`, and never a stack trace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from webrana_common.errors import NotFound, TooManyRequests, UpstreamError
from webrana_common.problem import PROBLEM_JSON
from webrana_common.testing.client import running_app


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"
    title = "Invoice not found"


class NewOrder(BaseModel):
    name: str
    quantity: int = Field(ge=1)
    password: str | None = None


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()

    @app.get("/invoices/{invoice_id}")
    async def get_invoice(invoice_id: int) -> dict[str, int]:
        raise InvoiceNotFound(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)

    @app.get("/busy")
    async def busy() -> None:
        raise TooManyRequests("Slow down", retry_after=30)

    @app.get("/upstream")
    async def upstream() -> None:
        raise UpstreamError("billing did not answer", code="billing_unavailable")

    @app.get("/conflict")
    async def conflict() -> None:
        raise HTTPException(409, "already paid")

    @app.post("/orders")
    async def create_order(order: NewOrder) -> NewOrder:
        return order

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-ish text")

    # The server keeps the exception (to log it and for Sentry); the client sees a response.
    async with running_app(app, raise_app_exceptions=False) as http:
        yield http


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://docs.webrana.cloud/problems/{code.replace('_', '-')}"
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_app_error_subclass_renders_its_own_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices/7")

    body = assert_problem(response, 404, "invoice_not_found")
    assert body["title"] == "Invoice not found"
    assert body["detail"] == "Invoice 7 does not exist"
    assert body["instance"] == "/invoices/7"
    assert body["invoice_id"] == 7


async def test_app_error_headers_reach_the_client(client: httpx.AsyncClient) -> None:
    response = await client.get("/busy")

    body = assert_problem(response, 429, "too_many_requests")
    assert response.headers["retry-after"] == "30"
    assert body["retry_after"] == 30


async def test_server_side_app_error_keeps_its_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/upstream")

    body = assert_problem(response, 502, "billing_unavailable")
    assert body["detail"] == "billing did not answer"


async def test_http_exception_becomes_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/conflict")

    body = assert_problem(response, 409, "conflict")
    assert body["detail"] == "already paid"


async def test_validation_error_lists_each_field_with_a_precise_detail(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/orders", json={"quantity": 0})

    body = assert_problem(response, 422, "validation_error")
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"name", "quantity"}
    assert fields["name"]["type"] == "missing"
    assert fields["name"]["location"] == ["body", "name"]
    assert fields["quantity"]["type"] == "greater_than_equal"
    assert body["detail"] == (
        "name: Field required; quantity: Input should be greater than or equal to 1"
    )


async def test_validation_error_does_not_echo_the_input(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", json={"name": "vps", "quantity": "many", "password": "hunter2-secret"}
    )

    assert_problem(response, 422, "validation_error")
    assert "hunter2-secret" not in response.text
    assert "many" not in response.text


async def test_malformed_json_body_says_where_it_broke(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", content=b'{"name": ', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "body"
    assert body["detail"] == "body: JSON decode error at position 9 (Expecting value)"


async def test_path_parameter_validation_names_the_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices/abc")

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "invoice_id"
    assert body["detail"].startswith("invoice_id: ")


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No route matches GET /no/such/route"


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/orders")

    body = assert_problem(response, 405, "method_not_allowed")
    assert body["detail"] == "Method DELETE is not allowed on /orders"
    assert response.headers["allow"] == "POST"


async def test_unhandled_exception_is_a_generic_500_without_stack(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "support-ticket-1"})

    body = assert_problem(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "support-ticket-1"
    assert body["detail"] == (
        "An unexpected error occurred. Quote the request id when contacting support."
    )
    for leak in ("secret-ish", "Traceback", "RuntimeError", "test_problem.py"):
        assert leak not in response.text
