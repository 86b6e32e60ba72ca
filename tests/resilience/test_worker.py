"""A worker killed in the middle of the SLA scan or a chaser task, inside its transaction: the
task runs again (acks_late; reject_on_worker_lost when a pool process dies; Redis's visibility
timeout when the whole worker does) and nothing is recorded or told twice."""

import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from agencies.models import Role
from enquiries.models import Enquiry, Notification, SlaEvent
from enquiries.tasks import scan_sla
from sharing.models import Chaser, InformationRequest
from sharing.tasks import chase_information_requests
from tests.enquiries.test_sla_scan import log_red
from tests.sharing.conftest import make_hub
from tests.workers import start_worker, stop, wait_until_ready


def wait_for(check, *, timeout: float = 30, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what} within {timeout} s")


def outcome(result, *, timeout: float = 30):
    """The task's return value, read from the result store. Not `result.get()`: its pub/sub
    connection gives up after REDIS_TIMEOUT idle, and a result published while it reconnects
    is never heard, whereas the stored one stays."""
    wait_for(lambda: result.backend.get_task_meta(result.id)["status"] == "SUCCESS",
             timeout=timeout, what="the task succeeded")  # fmt: skip
    return result.backend.get_task_meta(result.id)["result"]


def paused_at(marker: Path) -> int:
    """The pid of the process that stopped inside the task, once it has."""
    return int(wait_for(lambda: marker.exists() and marker.read_text(), what="the task stopped"))


def transactions_left_open() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def queue() -> str:
    return f"faults-{uuid.uuid4().hex[:8]}"


@pytest.mark.worker
def test_a_scan_whose_worker_is_killed_inside_its_transaction_runs_on_another_worker(
    migration_data, make_user, queue, tmp_path
):
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="mina")
    now = timezone.now()
    ann, bea = log_red(
        researcher, "Ann", "Bea", assignee=researcher, received_at=now - timedelta(minutes=30)
    )
    # The scan reads the stored thresholds: Ann is at risk now, Bea breached.
    Enquiry.objects.filter(pk=ann.pk).update(
        at_risk_from=now - timedelta(minutes=5), breached_from=now + timedelta(days=1)
    )
    Enquiry.objects.filter(pk=bea.pk).update(
        at_risk_from=now - timedelta(minutes=20), breached_from=now - timedelta(minutes=1)
    )
    marker = tmp_path / "inside"
    first = start_worker(
        queue, f"{queue}-first", pause="enquiries.sla_scan:insert_new_events", marker=marker
    )
    second = None
    try:
        result = scan_sla.apply_async(queue=queue)
        assert paused_at(marker) == first.pid  # events inserted, not committed
        taken = time.monotonic()
        assert SlaEvent.objects.count() == 0

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        wait_for(lambda: transactions_left_open() == 0, what="PostgreSQL rolled back")
        # Redis hands the unacknowledged task on once its visibility timeout (2 hours in
        # production) has passed; this worker is told 1 s and looks when it starts, so the
        # task must be older than that by then (later looks come only every minute or so).
        time.sleep(max(0.0, taken + 1.5 - time.monotonic()))
        second = start_worker(queue, f"{queue}-second", env={"BROKER_VISIBILITY_TIMEOUT": "1"})

        assert outcome(result) == {"at_risk": 1, "breached": 1, "notifications": 3}
    finally:
        stop(*[worker for worker in (first, second) if worker])

    assert sorted(SlaEvent.objects.values_list("enquiry__reference", "kind")) == [
        (ann.reference, "at_risk"),
        (bea.reference, "breached"),
    ]
    told = list(Notification.objects.values_list("recipient__username", "enquiry_id", "kind"))
    assert len(told) == len(set(told)) == 3  # rosa of both, mina of the breach


@pytest.mark.worker
def test_a_chaser_whose_pool_process_is_killed_runs_again_and_chases_once(
    migration_data, queue, tmp_path
):
    hub = make_hub()
    InformationRequest.objects.update(due_at=timezone.now() - timedelta(minutes=10))
    marker = tmp_path / "inside"
    worker = start_worker(
        queue,
        f"{queue}-prefork",
        pause="sharing.chasing:insert_new_chasers",
        marker=marker,
        pool="prefork",
    )
    try:
        wait_until_ready([f"{queue}-prefork"])
        result = chase_information_requests.apply_async(queue=queue)
        child = paused_at(marker)
        assert child != worker.pid  # a pool process, which the worker replaces
        assert Chaser.objects.count() == 0

        os.kill(child, signal.SIGKILL)

        assert outcome(result) == 2
    finally:
        stop(worker)

    assert sorted(Chaser.objects.values_list("request__agency__name", "request__chase_count")) == [
        ("Oxford Health", 1),
        ("Thames Valley Police", 1),
    ]
    told = list(
        Notification.objects.filter(kind=Notification.Kind.CHASER).values_list(
            "recipient__username", "enquiry__reference"
        )
    )
    assert sorted(told) == [
        ("health_visitor", hub.enquiry.reference),
        ("police_officer", hub.enquiry.reference),
    ]
