"""Redis stopped (a closed port) or hung (a server that accepts and never answers): pages and
saves keep working, a task that cannot be queued is logged, and /healthz says Redis is down."""

import logging
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries.models import Enquiry, SlaEvent
from enquiries.tasks import recompute_stale_deadlines, scan_sla
from tests.enquiries.test_hub_clock import CHANGE_URL, admin_form_data
from tests.enquiries.test_pages import intake_data
from tests.enquiries.test_sla_scan import log_red

from .conftest import redis_at

pytestmark = pytest.mark.django_db

NOT_QUEUED = (
    "Could not queue enquiries.tasks.recompute_open_deadlines; the next scheduled run will catch up"
)


@pytest.fixture
def administrator_client(client, make_user):
    """A superuser: the Django admin's clock form is theirs (administrators use /hub-settings/)."""
    client.force_login(make_user(Role.ADMINISTRATOR, is_superuser=True))
    return client


def change_red_allowance(client, minutes: int):
    data = admin_form_data(client.get(CHANGE_URL))
    data["ragallowance_set-0-minutes"] = str(minutes)
    return client.post(CHANGE_URL, data)


def red_enquiry(researcher) -> Enquiry:
    (enquiry,) = log_red(researcher, "Ann", received_at=timezone.now() - timedelta(minutes=10))
    return enquiry


def test_with_redis_stopped_intake_pages_and_the_api_keep_working(
    client, researcher, closed_port, caplog
):
    client.force_login(researcher)
    api = APIClient()
    api.force_authenticate(researcher)

    with redis_at(f"redis://127.0.0.1:{closed_port}/0"), caplog.at_level(logging.WARNING):
        logged = client.post(reverse("enquiry-intake"), intake_data())
        queue = client.get(reverse("triage-queue"))
        listed = api.get(reverse("api:enquiry-list"))  # the throttle counts in the cache
        cached = cache.get("anything", "a miss")
        health = client.get(reverse("healthz"))

    assert logged.status_code == 302
    assert Enquiry.objects.count() == 2
    assert queue.status_code == 200
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert cached == "a miss"
    assert "Cache unavailable" in caplog.text
    assert health.status_code == 503
    assert health.json()["redis"] == "down"


def test_with_redis_stopped_a_save_that_queues_a_task_succeeds_and_logs_it(
    administrator_client, researcher, closed_port, caplog, django_capture_on_commit_callbacks
):
    enquiry = red_enquiry(researcher)

    with (
        redis_at(f"redis://127.0.0.1:{closed_port}/0"),
        caplog.at_level(logging.ERROR, logger="mash.celery"),
        django_capture_on_commit_callbacks(execute=True) as queued,
    ):
        response = change_red_allowance(administrator_client, 120)

    assert response.status_code == 302
    assert len(queued) == 1
    assert NOT_QUEUED in caplog.text
    assert "Connection refused" in caplog.text
    # Not here: the per-minute catch-up does it (tests/resilience/test_timing.py).
    enquiry.refresh_from_db()
    assert enquiry.allowance_minutes == 240
    assert recompute_stale_deadlines.delay().get()["enquiries"] == 1
    enquiry.refresh_from_db()
    assert enquiry.allowance_minutes == 120


def test_the_first_scan_after_an_outage_records_what_fell_due_during_it(researcher):
    enquiry = red_enquiry(researcher)
    breached_from = timezone.now() - timedelta(minutes=7)  # while no scan could be queued
    Enquiry.objects.filter(pk=enquiry.pk).update(
        at_risk_from=breached_from - timedelta(minutes=20), breached_from=breached_from
    )

    assert scan_sla.delay().get()["breached"] == 1

    event = SlaEvent.objects.get()
    assert (event.kind, event.occurred_at) == (SlaEvent.Kind.BREACHED, breached_from)


def test_with_redis_hung_an_intake_completes_within_two_seconds(client, researcher, hung_port):
    client.force_login(researcher)
    api = APIClient()
    api.force_authenticate(researcher)

    with redis_at(f"redis://127.0.0.1:{hung_port}/0"):
        started = time.monotonic()
        logged = client.post(reverse("enquiry-intake"), intake_data())
        saved_in = time.monotonic() - started
        started = time.monotonic()
        listed = api.get(reverse("api:enquiry-list"))
        listed_in = time.monotonic() - started

    assert logged.status_code == 302
    assert Enquiry.objects.count() == 2
    assert saved_in < 2
    assert listed.status_code == 200
    assert listed_in < 2


def test_with_redis_hung_a_save_that_queues_a_task_completes_within_two_seconds(
    administrator_client, researcher, hung_port, caplog, django_capture_on_commit_callbacks
):
    enquiry = red_enquiry(researcher)
    data = admin_form_data(administrator_client.get(CHANGE_URL))
    data["ragallowance_set-0-minutes"] = "120"

    with (
        redis_at(f"redis://127.0.0.1:{hung_port}/0"),
        caplog.at_level(logging.ERROR, logger="mash.celery"),
    ):
        started = time.monotonic()
        # The test's transaction never commits: run what the commit would, inside the timing.
        with django_capture_on_commit_callbacks(execute=True):
            response = administrator_client.post(CHANGE_URL, data)
        took = time.monotonic() - started

    assert response.status_code == 302
    assert took < 2
    assert NOT_QUEUED in caplog.text
    assert recompute_stale_deadlines.delay().get()["enquiries"] == 1
    enquiry.refresh_from_db()
    assert enquiry.allowance_minutes == 120
