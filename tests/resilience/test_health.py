"""/healthz in each state: the database, Redis, and the age of the last scheduled SLA scan."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from enquiries.models import Heartbeat
from enquiries.tasks import scan_sla
from mash import health

from .conftest import redis_at

URL = reverse("healthz")


def beat_ago(seconds: int) -> None:
    Heartbeat.objects.update_or_create(
        task=health.BEAT_TASK,
        defaults={"finished_at": timezone.now() - timedelta(seconds=seconds)},
    )


@pytest.mark.django_db
def test_a_fresh_install_is_healthy_and_says_the_scan_has_never_run(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "redis": "ok",
        "beat": "never run",
        "beat_age_seconds": None,
        "beat_max_age_seconds": 300,
    }


@pytest.mark.django_db
def test_each_scan_is_the_heartbeat(client):
    scan_sla.delay()

    body = client.get(URL).json()

    assert body["beat"] == "ok"
    assert 0 <= body["beat_age_seconds"] <= 5
    assert Heartbeat.objects.get().task == scan_sla.name == health.BEAT_TASK


@pytest.mark.django_db
def test_a_scan_late_beyond_the_limit_fails_the_check(client, settings):
    beat_ago(301)
    late = client.get(URL)
    settings.HEALTH_MAX_BEAT_AGE_SECONDS = 600
    within_a_longer_limit = client.get(URL)

    assert late.status_code == 503
    assert late.json()["beat"] == "late"
    assert late.json()["beat_age_seconds"] >= 301
    assert within_a_longer_limit.status_code == 200
    assert within_a_longer_limit.json()["beat"] == "ok"


@pytest.mark.django_db
def test_redis_stopped_fails_the_check_and_the_scans_age_is_still_known(client, closed_port):
    beat_ago(30)

    with redis_at(f"redis://127.0.0.1:{closed_port}/0"):
        response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["redis"], body["beat"]) == ("ok", "down", "ok")
    assert body["beat_age_seconds"] >= 30


@pytest.mark.django_db
def test_redis_hung_fails_the_check_within_its_timeout(client, hung_port, settings):
    with redis_at(f"redis://127.0.0.1:{hung_port}/0"):
        started = time.monotonic()
        response = client.get(URL)
        took = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["redis"] == "down"
    assert took < settings.REDIS_TIMEOUT + 0.5


def test_the_database_down_fails_the_check_and_the_scans_age_is_unknown(
    transactional_db, client, closed_port
):
    connection.close()
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = closed_port
    try:
        response = client.get(URL)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["redis"], body["beat"]) == ("down", "ok", "unknown")
    assert body["beat_age_seconds"] is None
    assert client.get(URL).status_code == 200  # and back once the database is


@pytest.mark.django_db
def test_the_demo_without_redis_reports_its_own_beat(client, settings):
    settings.REDIS_URL = ""
    before_the_first_scan = client.get(URL)
    beat_ago(42)
    running = client.get(URL)
    beat_ago(301)
    stopped = client.get(URL)

    assert before_the_first_scan.status_code == 200
    assert before_the_first_scan.json()["redis"] == "not configured"
    assert before_the_first_scan.json()["beat"] == "never run"
    assert running.status_code == 200
    assert (running.json()["redis"], running.json()["beat"]) == ("not configured", "ok")
    assert running.json()["beat_age_seconds"] >= 42
    assert stopped.status_code == 503
    assert (stopped.json()["redis"], stopped.json()["beat"]) == ("not configured", "late")


@pytest.mark.django_db
def test_it_costs_one_query_and_needs_no_sign_in(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # the heartbeat, which also proves the database
        response = client.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert set(response.json()) == {
        "database",
        "redis",
        "beat",
        "beat_age_seconds",
        "beat_max_age_seconds",
    }
