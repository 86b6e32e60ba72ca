"""A real Celery worker, started as its own process against the test Redis, runs a task."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mash.celery import app, ping

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_queue():
    """A worker listening on a queue of its own, so no other worker can take the task."""
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mash",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mash.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output)


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_redis(worker_queue):
    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")

    result = ping.apply_async(args=["hello"], queue=worker_queue)

    outcome = result.get(timeout=60)
    assert outcome["echo"] == "hello"
    assert outcome["worker"].startswith(f"{worker_queue}@")
