"""Health a load balancer can use: /healthz/live (the process), /healthz/ready (the database)
and /healthz/background (Redis, beat, the workers) for monitoring, which tells administrators
of a failure that lasts five minutes. A background fault never makes a web node unready."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from enquiries.models import (
    HUB_CLOCK_ID,
    BackgroundHealth,
    Heartbeat,
    HubClock,
    Notification,
    OutgoingEmail,
)
from enquiries.timing import recompute_behind
from mash import celery as mash_celery
from mash import health
from mash.tasks import watch_background
from tests.sharing.conftest import log_child
from tests.workers import start_worker, stop, wait_until_ready

from .conftest import redis_at

LIVE, READY, BACKGROUND = (
    reverse("healthz-live"),
    reverse("healthz-ready"),
    reverse("healthz-background"),
)
Kind = Notification.Kind


def beat_ago(seconds: int) -> None:
    Heartbeat.objects.update_or_create(
        task=health.BEAT_TASK,
        defaults={"finished_at": timezone.now() - timedelta(seconds=seconds)},
    )


@pytest.fixture
def heartbeats(monkeypatch):
    """The workers' heartbeat set under a key of this test's own (other tests start real
    workers on the same Redis); returns a function that makes a worker alive `ago` s ago."""
    key = f"test:worker-heartbeats:{uuid.uuid4().hex}"
    monkeypatch.setattr(health, "WORKER_HEARTBEATS", key)
    client = redis.Redis.from_url(settings.REDIS_URL)

    def alive(name: str, ago: float = 0) -> None:
        client.zadd(key, {name: time.time() - ago})

    yield alive
    client.delete(key)
    client.close()


@pytest.fixture
def all_well(heartbeats):
    beat_ago(30)
    heartbeats("celery@worker-1")


@pytest.fixture
def no_stuck_probe():
    """A readiness probe left waiting on a hung database is let finish before the next test."""
    yield
    if health._probe_pending is not None:
        health._probe_pending.exception(timeout=30)


# Live


def test_live_answers_without_the_database_or_redis(client, closed_port):
    # No django_db mark: any query would raise.
    with redis_at(f"redis://127.0.0.1:{closed_port}/0"):
        response = client.get(LIVE)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


# Ready


@pytest.mark.django_db
def test_ready_when_the_database_answers(client):
    response = client.get(READY)

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "timeout_seconds": 2.0}


@pytest.mark.django_db
def test_ready_whatever_the_background_does(client, closed_port):
    """Redis stopped, beat stopped an hour ago, no worker: pages and saves still work, so a
    load balancer must keep sending them here."""
    beat_ago(3600)

    with redis_at(f"redis://127.0.0.1:{closed_port}/0"):
        ready = client.get(READY)
        background = client.get(BACKGROUND)

    assert ready.status_code == 200
    assert background.status_code == 503


def test_not_ready_when_the_database_is_down(transactional_db, client, closed_port):
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = closed_port
    try:
        response = client.get(READY)
    finally:
        connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert client.get(READY).status_code == 200  # and back once the database is


def test_not_ready_within_its_timeout_when_the_database_hangs(
    transactional_db, client, hung_port, settings, no_stuck_probe
):
    """A database that accepts the connection and never answers: the answer comes at the
    timeout, not when TCP or connect_timeout (5 s) give up; a probe asked while the last is
    still waiting fails at once rather than queueing behind it."""
    settings.HEALTH_READY_TIMEOUT_SECONDS = 0.5
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = hung_port
    try:
        started = time.monotonic()
        first = client.get(READY)
        took = time.monotonic() - started
        started = time.monotonic()
        second = client.get(READY)
        took_again = time.monotonic() - started
        health._probe_pending.exception(timeout=30)  # connect_timeout ends the stuck probe
    finally:
        connection.settings_dict["PORT"] = port

    assert first.status_code == second.status_code == 503
    assert first.json() == {"database": "not answering", "timeout_seconds": 0.5}
    assert second.json()["database"] == "not answering"
    assert 0.5 <= took < 1.5
    assert took_again < 0.2
    assert client.get(READY).status_code == 200


# Background


@pytest.mark.django_db
def test_background_reports_each_check(client, all_well):
    response = client.get(BACKGROUND)

    assert response.status_code == 200
    body = response.json()
    assert body["healthy"] is True
    assert body["checks"]["redis"] == {"status": "ok"}
    assert body["checks"]["beat"]["status"] == "ok"
    assert 30 <= body["checks"]["beat"]["age_seconds"] <= 35
    assert body["checks"]["beat"]["max_age_seconds"] == 300
    assert body["checks"]["workers"] == {"status": "ok", "alive": ["celery@worker-1"]}
    assert body["failing_since"] is None
    assert body["administrators_told_at"] is None


@pytest.mark.django_db
def test_background_fails_for_redis_beat_or_workers(client, heartbeats, closed_port):
    heartbeats("celery@gone", ago=mash_celery.WORKER_HEARTBEAT_EXPIRES + 1)
    beat_ago(301)
    late_and_no_workers = client.get(BACKGROUND)
    with redis_at(f"redis://127.0.0.1:{closed_port}/0"):
        redis_down = client.get(BACKGROUND)

    assert late_and_no_workers.status_code == 503
    checks = late_and_no_workers.json()["checks"]
    assert (checks["redis"]["status"], checks["beat"]["status"]) == ("ok", "late")
    assert checks["workers"] == {"status": "none", "alive": []}
    assert late_and_no_workers.json()["failing_since"] is not None
    assert redis_down.status_code == 503
    checks = redis_down.json()["checks"]
    assert (checks["redis"]["status"], checks["workers"]["status"]) == ("down", "unknown")


@pytest.mark.django_db
def test_the_demo_without_redis_fails_only_on_its_beat(client, settings):
    settings.REDIS_URL = ""
    beat_ago(42)

    response = client.get(BACKGROUND)

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["redis"] == checks["workers"] == {"status": "not configured"}


@pytest.mark.django_db
def test_a_named_check_is_one_entry_and_one_that_raises_fails_without_a_500(
    client, all_well, monkeypatch
):
    """The extension point: a check is one entry."""

    def stale_timing(now: datetime) -> health.Finding:
        return health.Finding("behind", False, {"enquiries": 12})

    def broken(now: datetime) -> health.Finding:
        raise RuntimeError("a bug")

    checks = {**health.BACKGROUND_CHECKS, "stale_timing": stale_timing, "broken": broken}
    monkeypatch.setattr(health, "BACKGROUND_CHECKS", checks)

    response = client.get(BACKGROUND)

    assert response.status_code == 503
    body = response.json()["checks"]
    assert list(body) == ["redis", "beat", "workers", "timing", "stale_timing", "broken"]
    assert body["stale_timing"] == {"status": "behind", "enquiries": 12}
    assert body["broken"] == {"status": "error", "error": "RuntimeError"}


@pytest.mark.django_db
def test_open_deadlines_behind_the_hub_clock_fail_the_background_until_caught_up(
    client, all_well, make_user
):
    researcher = make_user(Role.RESEARCHER)
    log_child(researcher, "Ann", "Behind", minutes_ago=10)
    log_child(researcher, "Bea", "Behind", minutes_ago=5)
    assert client.get(BACKGROUND).json()["checks"]["timing"]["status"] == "ok"
    # A clock change whose catch-up has not run yet.
    HubClock.objects.filter(pk=HUB_CLOCK_ID).update(version=F("version") + 1)

    behind = client.get(BACKGROUND)
    recompute_behind()
    caught_up = client.get(BACKGROUND)

    assert behind.status_code == 503
    assert behind.json()["checks"]["timing"] == {
        "status": "behind",
        "behind": {"enquiries": 2, "information requests": 0},
    }
    assert caught_up.status_code == 200
    assert caught_up.json()["checks"]["timing"] == {
        "status": "ok",
        "behind": {"enquiries": 0, "information requests": 0},
    }


@pytest.mark.django_db
def test_the_health_checks_answer_any_host_over_plain_http(settings, all_well):
    settings.ALLOWED_HOSTS = ["mash.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="172.18.0.5:8000")

    answers = [client.get(path) for path in (LIVE, READY, BACKGROUND, reverse("healthz"))]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert client.get(reverse("login")).status_code == 400


# The watch: administrators told once a failure has lasted five minutes, and when it is over.

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def run_at(minutes: float, *, ok: bool) -> BackgroundHealth:
    """The watch at NOON plus `minutes`, the background fine or beat late."""

    def beat(now: datetime) -> health.Finding:
        return health.Finding("ok" if ok else "late", ok)

    return health.watch(
        health.background(now=NOON + timedelta(minutes=minutes), checks={"beat": beat})
    )


def told(kind: str) -> list[tuple[str, datetime]]:
    return list(
        Notification.objects.filter(kind=kind)
        .order_by("recipient__username")
        .values_list("recipient__username", "created_at")
    )


@pytest.fixture
def administrators(make_user):
    return [
        make_user(Role.ADMINISTRATOR, username="ada", email="ada@hub.example"),
        make_user(Role.ADMINISTRATOR, username="bea", email="bea@hub.example"),
        make_user(Role.ADMINISTRATOR, username="cid", is_active=False),
        make_user(Role.MANAGER, username="manager"),
    ]


def test_a_failure_is_told_once_after_five_minutes_and_its_end_once(administrators):
    for minute in (0, 1, 2, 3, 4):
        run_at(minute, ok=False)
    assert told(Kind.BACKGROUND_FAULT) == []  # a restart's minutes pass unremarked

    at_five = run_at(5, ok=False)
    for minute in (6, 7, 30):
        run_at(minute, ok=False)

    fault = NOON + timedelta(minutes=5)
    assert told(Kind.BACKGROUND_FAULT) == [("ada", fault), ("bea", fault)]
    assert (at_five.bad_since, at_five.alerted_at) == (NOON, fault)
    message = Notification.objects.filter(kind=Kind.BACKGROUND_FAULT).first().message
    assert message.startswith(
        "Background work has been failing since 10 March 2026, 12:00: beat late."
    )
    # by email too, unless they chose otherwise: they may not sign in for days
    assert OutgoingEmail.objects.filter(notification__kind=Kind.BACKGROUND_FAULT).count() == 2

    back = run_at(31, ok=True)
    run_at(32, ok=True)

    recovered = NOON + timedelta(minutes=31)
    assert told(Kind.BACKGROUND_RECOVERED) == [("ada", recovered), ("bea", recovered)]
    assert Notification.objects.filter(kind=Kind.BACKGROUND_RECOVERED).first().message == (
        "Background work is back to normal (10 March 2026, 12:31), after failing since "
        "10 March 2026, 12:00."
    )
    assert (back.bad_since, back.alerted_at) == (None, None)
    assert len(told(Kind.BACKGROUND_FAULT)) == 2


def test_a_failure_that_clears_within_five_minutes_is_never_told(administrators):
    for minute, ok in [(0, False), (4, False), (4.5, True), (5, False), (9, False)]:
        run_at(minute, ok=ok)

    assert told(Kind.BACKGROUND_FAULT) == told(Kind.BACKGROUND_RECOVERED) == []
    assert BackgroundHealth.objects.get().bad_since == NOON + timedelta(minutes=5)

    run_at(10, ok=False)

    assert len(told(Kind.BACKGROUND_FAULT)) == 2


@pytest.mark.django_db
def test_the_beat_job_runs_the_watch_every_minute(all_well):
    entry = settings.CELERY_BEAT_SCHEDULE["watch-background"]

    result = watch_background.delay().get()

    assert entry["task"] == watch_background.name == "mash.tasks.watch_background"
    assert str(entry["schedule"]) == str(settings.CELERY_BEAT_SCHEDULE["scan-sla"]["schedule"])
    assert result["healthy"] is True
    assert BackgroundHealth.objects.get().checked_at is not None


# A real worker's heartbeat


@pytest.mark.worker
def test_a_real_worker_keeps_its_heartbeat_and_takes_it_away_when_it_stops(transactional_db):
    queue = f"heartbeat-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue, queue)
    try:
        wait_until_ready([queue])
        alive = health.workers_check(timezone.now())
    finally:
        stop(process)
    after = health.workers_check(timezone.now())

    assert alive.ok
    assert any(name.startswith(f"{queue}@") for name in alive.details["alive"])
    assert not any(name.startswith(f"{queue}@") for name in after.details["alive"])
