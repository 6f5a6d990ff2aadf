"""JSON log lines, each carrying the request id of the work it belongs to."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from webrana_common.logs import JsonFormatter, configure_logging
from webrana_common.request_id import set_request_id
from webrana_common.testing.client import running_app

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything logged anywhere, as parsed JsonFormatter lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("testsvc"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


async def test_service_log_lines_carry_the_request_id(
    make_app: Callable[..., FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(service_name="billing")

    @app.get("/pay")
    async def pay() -> dict[str, bool]:
        logging.getLogger("billing.payments").info("charging", extra={"invoice": 42})
        return {"ok": True}

    async with running_app(app) as client:
        given = await client.get("/pay", headers={"X-Request-ID": "pay-req-1"})
        generated = await client.get("/pay")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    charging = [line for line in lines if line["message"] == "charging"]
    assert [line["request_id"] for line in charging] == [
        "pay-req-1",
        generated.headers["x-request-id"],
    ]
    assert given.headers["x-request-id"] == "pay-req-1"
    assert charging[0]["service"] == "billing"
    assert charging[0]["logger"] == "billing.payments"
    assert charging[0]["level"] == "info"
    assert charging[0]["invoice"] == 42


async def test_server_crash_log_carries_the_request_id_and_the_stack(
    make_app: Callable[..., FastAPI],
    serve: Serve,
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    app = make_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-ish text")

    base_url = await serve(app)
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/boom", headers={"X-Request-ID": "crash-1"})

    assert response.status_code == 500
    assert "secret-ish" not in response.text
    crash = [line for line in json_lines() if "exc_info" in line]
    assert len(crash) == 1
    assert crash[0]["request_id"] == "crash-1"
    assert "RuntimeError: secret-ish text" in crash[0]["exc_info"]


def test_formatter_outside_a_request_has_a_null_request_id(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    set_request_id(None)
    logging.getLogger("webrana.test").warning("startup")

    assert json_lines()[0]["request_id"] is None


def test_explicit_request_id_wins_over_the_context(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    # A worker job logs under the id of the request that enqueued it.
    set_request_id("current")
    logging.getLogger("webrana.test").warning("job", extra={"request_id": "enqueuer"})

    assert json_lines()[0]["request_id"] == "enqueuer"


def test_formatter_keeps_extras_and_stringifies_objects(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    order_id = uuid.uuid4()
    try:
        raise ValueError("bad amount")
    except ValueError:
        logging.getLogger("webrana.test").exception(
            "failed %s", "charge", extra={"order_id": order_id, "amount": 10.5, "ok": False}
        )

    line = json_lines()[0]
    assert line["message"] == "failed charge"
    assert line["level"] == "error"
    assert (line["order_id"], line["amount"], line["ok"]) == (str(order_id), 10.5, False)
    assert "ValueError: bad amount" in line["exc_info"]
    assert "msg" not in line
    assert "args" not in line


def test_configuring_twice_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("order", "debug")
    configure_logging("order", "debug")

    logging.getLogger("order.service").debug("once")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["service"], line["message"]) for line in lines] == [("order", "once")]


def test_arq_job_chatter_is_dropped_but_its_failures_are_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        configure_logging("order-worker")
        arq_log = logging.getLogger("arq.worker")
        arq_log.info("  0.01s → job:orders.provision(...)")
        arq_log.error("job:orders.provision failed")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("arq.worker").setLevel(logging.NOTSET)

    assert [(line["level"], line["message"]) for line in lines] == [
        ("error", "job:orders.provision failed")
    ]
