"""The demo's background work without Redis: a real Celery worker and beat on the folder broker,
started as `make demo` starts them (demo.serve), against SQLite; and the demo stopping them."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from demo import serve as demo
from tests.instants import OFFSET_VARIABLE
from tests.sqlite_template import migrated_sqlite

ROOT = Path(__file__).resolve().parent.parent
# Beat must be up before the boundary it is to send the tasks at; it starts in 2 to 4 s.
LEAD = timedelta(seconds=8)
CHASE_EVERY = timedelta(minutes=5)


def demo_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The demo's variables, as `make demo` sets them, with its database in `tmp_path`."""
    unset = {"REDIS_URL", "DATABASE_URL", "DEBUG", "SECRET_KEY"}
    return {
        **{key: value for key, value in os.environ.items() if key not in unset},
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        **extra,
    }


def at_instant(module: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.at_instant", *module],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def count(database: Path, table: str, where: str = "1 = 1") -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]  # noqa: S608


def red_open_with_allowance(database: Path, minutes: int) -> int:
    states = "'received', 'screening', 'researching', 'awaiting_decision'"
    where = f"rating = 'red' AND state IN ({states}) AND allowance_minutes = {minutes}"
    return count(database, "enquiries_enquiry", where)


def next_chase(after: datetime) -> datetime:
    """The first five-minute boundary after `after`: beat sends the scan and the chaser then."""
    floor = after.replace(minute=after.minute - after.minute % 5, second=0, microsecond=0)
    return floor + CHASE_EVERY


# The tasks the worker takes in the test below, and whether beat sent each.
EXPECTED_TASKS = {
    "enquiries.tasks.scan_sla": True,
    "enquiries.tasks.repeat_escalations": True,
    "enquiries.tasks.recompute_stale_deadlines": True,
    "sharing.tasks.chase_information_requests": True,
    "mash.tasks.watch_background": True,
    "enquiries.tasks.recompute_open_deadlines": False,
    # the breaches' emails to the managers (the demo prints them: the console backend)
    "enquiries.tasks.send_email": False,
}


@pytest.mark.worker
def test_beat_and_a_worker_on_the_folder_broker_scan_chase_and_recompute_against_sqlite(tmp_path):
    started = time.monotonic()
    database = migrated_sqlite(tmp_path / "demo.sqlite3")
    env = demo_environment(tmp_path)
    # Every child's clock starts LEAD before a five-minute boundary, when beat sends both tasks.
    boundary = next_chase(timezone.now() + LEAD)
    real_now = time_machine.escape_hatch.time.time()
    env[OFFSET_VARIABLE] = repr((boundary - LEAD).timestamp() - real_now)
    # Beat starts while the database is made, which ends with a hub clock change queueing the
    # recompute of deadlines: what is queued waits in the folder for the worker started after.
    processes = [at_instant([*demo.BEAT, "--loglevel", "INFO"], env, tmp_path / "beat.log")]
    passed = False
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.at_instant", "tests.demo_on_sqlite", "for-beat"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr
        seeded_chasers = count(database, "sharing_chaser")
        assert red_open_with_allowance(database, 240)
        processes.append(at_instant(demo.WORKER, env, tmp_path / "worker.log"))

        def processed() -> dict[str, bool]:
            """Each task the worker has taken, and whether beat sent it."""
            return {
                headers["task"]: headers.get("celery_beat_task", False)
                for headers in (
                    json.loads(message.read_text())["headers"]
                    for message in (tmp_path / "celery" / "processed").glob("*.msg")
                )
            }

        # Until the worker has taken every task, not only until their effects show: the
        # worker may reach one of beat's after the others' effects are in the database.
        deadline = time.monotonic() + LEAD.total_seconds() + 40
        while not (
            count(database, "enquiries_heartbeat")
            and count(database, "sharing_chaser") > seeded_chasers
            and not red_open_with_allowance(database, 240)
            and processed().keys() >= EXPECTED_TASKS.keys()
        ):
            assert time.monotonic() < deadline, f"not all done; beat was due at {boundary}"
            time.sleep(0.2)

        assert count(database, "enquiries_slaevent")
        assert count(database, "enquiries_notification", "sla_event_id IS NOT NULL")
        assert red_open_with_allowance(database, 120)
        assert processed() == EXPECTED_TASKS
        passed = True
    finally:
        # Not the worker's warm shutdown, which waits up to 3 s for the broker's next poll:
        # stopping is the subject of the tests below.
        for process in processes:
            process.kill()
            process.wait(timeout=30)
        if not passed:
            for log in sorted(tmp_path.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()}")
    print(f"wall time {time.monotonic() - started:.1f} s")


def marked(marker: str) -> list[int]:
    """The processes whose environment carries `marker`: the demo's and everything it ran."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def run_demo(tmp_path: Path, server: str, marker: str) -> subprocess.Popen:
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "demo.serve", sys.executable, "-c", server],
            cwd=ROOT,
            env=demo_environment(tmp_path, MASH_DEMO_TEST=marker),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def test_when_the_server_stops_the_demo_stops_the_worker_and_beat_and_says_so(tmp_path):
    marker = uuid.uuid4().hex
    launched = run_demo(tmp_path, "raise SystemExit(3)", marker)

    code = launched.wait(timeout=30)

    assert code == 3
    assert "the server stopped (exit code 3)" in (tmp_path / "demo.log").read_text()
    assert marked(marker) == []


@pytest.mark.worker
def test_ctrl_c_stops_the_server_what_it_started_the_worker_and_beat(tmp_path):
    marker = uuid.uuid4().hex
    # A server that, like runserver's autoreloader, serves from a child process of its own.
    server = (
        "import subprocess, sys; "
        "subprocess.run([sys.executable, '-c', 'import time; time.sleep(60)'])"
    )
    launched = run_demo(tmp_path, server, marker)
    try:
        deadline = time.monotonic() + 30
        log = tmp_path / "demo.log"
        # The demo, the worker, beat, the server and the server's child.
        while not (len(marked(marker)) == 5 and "ready." in log.read_text()):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        launched.send_signal(signal.SIGINT)

        assert launched.wait(timeout=30) == 0
        assert marked(marker) == []
    finally:
        if launched.poll() is None:
            launched.kill()
