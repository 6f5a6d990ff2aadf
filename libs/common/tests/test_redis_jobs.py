"""`UniqueJobs`: arq jobs enqueued in one round trip are arq's own jobs (a real arq worker runs
them), and a job id already queued or kept is refused either way, as arq refuses it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from arq import Worker, func
from arq.connections import ArqRedis, create_pool

from webrana_common.db.base import utcnow
from webrana_common.redis import UniqueJobs, arq_redis_settings

QUEUE = "arq:unique-test"


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[ArqRedis]:
    arq = await create_pool(arq_redis_settings(redis_url), default_queue_name=QUEUE)
    yield arq
    await arq.aclose()


async def _run(pool: ArqRedis, calls: list[tuple[Any, ...]], *, keep_result: float) -> None:
    async def greet(ctx: dict[str, Any], *args: Any) -> str:
        calls.append(args)
        return "done"

    worker = Worker(
        functions=[func(greet, name="greet", keep_result=keep_result)],
        redis_pool=pool,
        queue_name=QUEUE,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def test_arq_runs_the_job_and_a_queued_or_kept_id_is_refused(pool: ArqRedis) -> None:
    jobs = UniqueJobs(pool)
    calls: list[tuple[Any, ...]] = []

    assert await jobs.enqueue("greet", "siti", 42, job_id="greet:1") is True
    assert await jobs.enqueue("greet", "again", job_id="greet:1") is False  # queued
    # arq's own enqueue sees it too, and the other way round.
    assert await pool.enqueue_job("greet", "arq", _job_id="greet:1") is None
    assert await pool.enqueue_job("greet", "arq", _job_id="greet:2") is not None
    assert await jobs.enqueue("greet", "again", job_id="greet:2") is False

    await _run(pool, calls, keep_result=60)

    assert sorted(calls) == [("arq",), ("siti", 42)]
    # Its result is kept: the id stays taken until the result expires.
    assert await jobs.enqueue("greet", "later", job_id="greet:1") is False


async def test_without_a_kept_result_the_id_is_free_again(pool: ArqRedis) -> None:
    jobs = UniqueJobs(pool)
    calls: list[tuple[Any, ...]] = []
    assert await jobs.enqueue("greet", 1, job_id="greet:free") is True
    await _run(pool, calls, keep_result=0)

    assert await jobs.enqueue("greet", 2, job_id="greet:free") is True
    await _run(pool, calls, keep_result=0)

    assert calls == [(1,), (2,)]


async def test_a_deferred_job_waits_for_its_time(pool: ArqRedis) -> None:
    jobs = UniqueJobs(pool)
    at = utcnow() + timedelta(hours=1)

    assert await jobs.enqueue("greet", "later", job_id="greet:deferred", defer_until=at)

    # Not among the due jobs a worker polls for (a burst worker would wait for it).
    due = await pool.zrangebyscore(QUEUE, "-inf", utcnow().timestamp() * 1000)
    assert due == []
    score = await pool.zscore(QUEUE, "greet:deferred")
    assert score is not None and abs(score / 1000 - at.timestamp()) < 0.01
    # Kept at least until it is due (arq's own expiry: a day past its time).
    assert await pool.pttl("arq:job:greet:deferred") > 3_600_000
