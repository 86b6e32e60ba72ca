"""Real Celery worker processes for tests, against the test database and the real Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from mash.celery import app

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's `test_...` copy), for the
    worker processes, which read DATABASE_URL like the app."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until_ready(names: list[str], timeout: float = 30) -> None:
    """Until every named worker answers, so tasks race rather than queue for the first up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5)
        answered = {name.split("@")[0] for reply in replies for name in reply}
        if answered >= set(names):
            return
    raise TimeoutError(f"workers {names} did not start within {timeout} s")


def start_worker(
    queue: str,
    name: str,
    *,
    pause: str = "",
    marker: Path | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """A worker on `queue` against the test database, its clock at the test's instant; with
    `pause`, one whose task stops after that step (module:function) the first time, inside its
    transaction (paused_worker.py)."""
    command = [sys.executable, "-m", "tests.at_instant"]
    command += (
        ["tests.resilience.paused_worker", pause, str(marker)]
        if pause
        else ["celery", "-A", "mash", "worker"]
    )
    command += [
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--queues",
        queue,
        "--hostname",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mash.settings",
            "DATABASE_URL": test_database_url(),
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(*workers: subprocess.Popen) -> None:
    """Stop the workers and print what they said, for a failing test's report."""
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        output, _ = worker.communicate(timeout=30)
        print(output)
