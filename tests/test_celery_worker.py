"""A real Celery worker, started as its own process against the test Redis, runs a task."""

import uuid

import pytest

from mash.celery import app, ping
from tests.workers import start_worker, stop


@pytest.fixture
def worker_queue():
    """A worker listening on a queue of its own, so no other worker can take the task."""
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue, queue)
    try:
        yield queue
    finally:
        stop(process)


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_redis(worker_queue):
    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")

    result = ping.apply_async(args=["hello"], queue=worker_queue)

    outcome = result.get(timeout=60)
    assert outcome["echo"] == "hello"
    assert outcome["worker"].startswith(f"{worker_queue}@")
