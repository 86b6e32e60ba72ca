"""What makes a rerun or a twin run harmless: unique constraints in the database itself, and
task settings under which a task a worker lost is run again rather than dropped."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Role
from enquiries.models import IntakeKey, Notification, SlaEvent
from mash.celery import MashTask, app
from sharing.models import Chaser
from tests.enquiries.test_sla_scan import log_red
from tests.sharing.conftest import make_hub

ROOT = Path(__file__).resolve().parents[2]


def our_tasks() -> list[str]:
    app.loader.import_default_modules()  # every app's tasks.py, as a worker loads them
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def refused_twice(model, **fields) -> None:
    model.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**fields)


def sla_event(enquiry, kind: str) -> dict:
    now = timezone.now()
    return {
        "enquiry": enquiry,
        "kind": kind,
        "occurred_at": now,
        "recorded_at": now,
        "rating": enquiry.rating,
        "deadline": enquiry.deadline,
    }


@pytest.mark.django_db
def test_the_database_refuses_a_second_event_of_a_kind_for_an_enquiry(make_user):
    researcher = make_user(Role.RESEARCHER)
    (enquiry,) = log_red(researcher, "Ann")

    refused_twice(SlaEvent, **sla_event(enquiry, SlaEvent.Kind.BREACHED))


@pytest.mark.django_db
def test_the_database_refuses_telling_anyone_of_an_event_twice(make_user):
    researcher = make_user(Role.RESEARCHER)
    (enquiry,) = log_red(researcher, "Ann")
    event = SlaEvent.objects.create(**sla_event(enquiry, SlaEvent.Kind.AT_RISK))

    refused_twice(
        Notification,
        recipient=researcher,
        enquiry=enquiry,
        sla_event=event,
        kind=Notification.Kind.AT_RISK,
        message="At risk.",
    )


@pytest.mark.django_db
def test_the_database_refuses_a_second_chaser_for_a_request_in_the_same_minute():
    hub = make_hub()
    minute = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)

    refused_twice(Chaser, request=hub.police_request, chased_at=minute)


@pytest.mark.django_db
def test_the_database_refuses_a_persons_intake_key_twice(make_user):
    researcher = make_user(Role.RESEARCHER)

    refused_twice(IntakeKey, created_by=researcher, key="abc", fingerprint="0" * 64)


def test_our_tasks_are_acknowledged_after_they_run_and_requeued_if_their_worker_dies():
    names = our_tasks()

    assert {
        "enquiries.tasks.scan_sla",
        "enquiries.tasks.recompute_open_deadlines",
        "sharing.tasks.chase_information_requests",
    } <= set(names)
    for name in names:
        task = app.tasks[name]
        assert isinstance(task, MashTask), name
        assert task.acks_late, name
        assert task.reject_on_worker_lost, name


def test_a_lost_task_waits_longer_than_any_task_runs_before_another_worker_takes_it():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["visibility_timeout"] >= 3600
    assert options["socket_timeout"] == options["socket_connect_timeout"] == settings.REDIS_TIMEOUT
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["options"]["expires"] < options["visibility_timeout"]


def test_the_app_queues_tasks_only_after_commit_through_the_soft_base_class():
    """A bare `.delay()` or `.apply_async()` would queue before the commit, and break the save
    when Redis is down; only mash/celery.py (which wraps them) may call them."""
    sources = [
        path
        for app_dir in ("mash", "agencies", "enquiries", "sharing", "reports")
        for path in (ROOT / app_dir).rglob("*.py")
        if path != ROOT / "mash" / "celery.py"
    ]
    calls = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sources
        for line in path.read_text().splitlines()
        if re.search(r"\.(delay|apply_async)\(|on_commit\(.*\.delay\b", line)
    ]

    assert calls == []
