"""Deadlines that stay right through faults (issue 24): the worker's main process killed in the
middle of the recompute that follows a clock change, and a clock change with Redis down. In
both, nobody saves the clock again: the per-minute catch-up (enquiries.timing) puts every open
enquiry's deadline, and every open request's due time, right."""

import logging
import signal
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import make_open_enquiries, wrong_timings
from enquiries.models import HubClock, RagAllowance
from enquiries.tasks import recompute_open_deadlines, recompute_stale_deadlines
from enquiries.timing import BATCH_SIZE, behind_count
from sharing.models import InformationRequest
from tests.enquiries.test_hub_clock import CHANGE_URL, admin_form_data
from tests.resilience.test_worker import outcome, paused_at, transactions_left_open, wait_for
from tests.workers import start_worker, stop

from .conftest import redis_at
from .test_redis import NOT_QUEUED


def change_red_allowance(minutes: int) -> int:
    """The Red allowance changed as the admin saves it; the clock's new version."""
    red = RagAllowance.objects.get(rating="red")
    red.minutes = minutes
    red.save()
    return HubClock.objects.get().version


def requests_left() -> int:
    """Open requests whose enquiry is still behind the clock."""
    return InformationRequest.objects.filter(
        enquiry__timing_version__lt=HubClock.objects.get().version
    ).count()


@pytest.mark.worker
def test_a_recompute_whose_worker_is_killed_is_finished_by_the_beat_job_without_a_resave(
    migration_data, tmp_path
):
    queue = f"timing-{time.monotonic_ns()}"
    make_open_enquiries(3_000, now=timezone.now())  # and 300 open requests
    version = change_red_allowance(120)
    assert behind_count().counts == {"enquiries": 3_000, "information requests": 300}

    marker = tmp_path / "inside"
    first = start_worker(
        queue, f"{queue}-first", pause="enquiries.timing:recompute_batch", marker=marker
    )
    second = None
    try:
        recompute_open_deadlines.apply_async(queue=queue)
        assert paused_at(marker) == first.pid  # the worker's main process (solo pool)
        # One batch committed, with its enquiries' requests; the rest still under the old clock.
        left = behind_count().counts
        assert left == {"enquiries": 3_000 - BATCH_SIZE, "information requests": requests_left()}
        assert 0 < left["information requests"] < 300

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        wait_for(lambda: transactions_left_open() == 0, what="PostgreSQL cleaned up")
        assert behind_count().counts == left  # nothing heals without a worker

        # The killed task waits in Redis for its visibility timeout (two hours); a new worker
        # takes beat's next run of the catch-up.
        started = time.monotonic()
        second = start_worker(queue, f"{queue}-second")
        done = outcome(recompute_stale_deadlines.apply_async(queue=queue), timeout=120)
        took = time.monotonic() - started
    finally:
        stop(*[worker for worker in (first, second) if worker])

    assert done == {"enquiries": 2_500, "information requests": 0}
    assert took < 120
    assert HubClock.objects.get().version == version  # nobody saved the clock again
    assert behind_count().total == 0
    assert wrong_timings() == 0  # every open deadline and due time as computed afresh


# Enough for the catch-up to take many batches. That the change answers at once whatever the
# number is shown by its query count, the same as for a handful; bench/timing.py times it at
# 50,000 (written in 3 s, the change answered in 0.7 s, the catch-up 5.5 s on a laptop).
MANY = 5_000
FEW = 10


@pytest.mark.django_db
def test_a_clock_change_with_redis_down_answers_at_once_and_the_catch_up_puts_all_right(
    client,
    make_user,
    closed_port,
    caplog,
    django_capture_on_commit_callbacks,
):
    from agencies.models import Role

    client.force_login(make_user(Role.ADMINISTRATOR, is_superuser=True))

    def change_the_clock(red_minutes: str) -> tuple[object, int]:
        """The admin's save, with what its commit runs, and the queries both took."""
        data = admin_form_data(client.get(CHANGE_URL))
        data["ragallowance_set-0-minutes"] = red_minutes
        data["at_risk_percent"] = "80"
        with (
            redis_at(f"redis://127.0.0.1:{closed_port}/0"),
            caplog.at_level(logging.ERROR, logger="mash.celery"),
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(CHANGE_URL, data)
        return response, len(queries)

    make_open_enquiries(FEW, now=timezone.now())
    change_the_clock("150")  # the first save after start-up fills caches
    _, with_few = change_the_clock("140")
    make_open_enquiries(MANY - FEW, now=timezone.now())
    response, with_many = change_the_clock("120")

    assert response.status_code == 302
    assert with_many == with_few  # nothing done per enquiry before the answer
    assert NOT_QUEUED in caplog.text
    assert behind_count().counts == {"enquiries": MANY, "information requests": MANY // 10}
    page = client.get(CHANGE_URL).content.decode()
    assert f"{MANY + MANY // 10} deadlines are being updated" in page

    # Beat's next minute, Redis or not (here in this process).
    assert recompute_stale_deadlines.delay().get() == {
        "enquiries": MANY,
        "information requests": 0,  # each moved with its enquiry
    }
    assert behind_count().total == 0
    assert wrong_timings() == 0
