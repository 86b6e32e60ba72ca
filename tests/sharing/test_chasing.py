"""Chasing overdue information requests: once per request per chase interval, to the agency's
practitioners only, however often and on however many workers it runs."""

import threading
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from agencies.models import Role
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Notification, Outcome, ReferrerType
from enquiries.services import PersonDetails
from mash.celery import app
from sharing import services
from sharing.chasing import chase_overdue_requests, insert_new_chasers
from sharing.models import Chaser, InformationRequest, Sensitivity, SharingPolicy
from sharing.tasks import chase_information_requests
from tests.concurrency import run_while_another_holds
from tests.enquiries.test_sla_scan import sla_workers  # noqa: F401 - a fixture, used below
from tests.factories import UserFactory

from .conftest import make_hub

MINUTE = timedelta(minutes=1)


def chasers() -> list[tuple[str, int]]:
    """(agency, chase count) of every chaser, oldest first."""
    return list(
        Chaser.objects.order_by("chased_at", "request__agency__name").values_list(
            "request__agency__name", "request__chase_count"
        )
    )


def told() -> list[tuple[str, str]]:
    """(recipient, enquiry) of every chaser notification."""
    return sorted(
        Notification.objects.filter(kind=Notification.Kind.CHASER).values_list(
            "recipient__username", "enquiry__reference"
        )
    )


@pytest.fixture
def hub(db):
    """Made at the test's own instant, not shared: some of these tests run at every instant."""
    return make_hub()


@pytest.fixture
def due(hub):
    """When the hub's police and health requests are due (the same moment for both)."""
    assert hub.police_request.due_at == hub.health_request.due_at
    return hub.police_request.due_at


# --- when -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_is_chased_until_the_due_time_has_passed(hub, due):
    assert chase_overdue_requests(now=due - timedelta(days=1)) == 0
    assert chase_overdue_requests(now=due) == 0
    assert Chaser.objects.count() == 0

    assert chase_overdue_requests(now=due + MINUTE) == 2

    assert sorted(chasers()) == [("Oxford Health", 1), ("Thames Valley Police", 1)]
    request = InformationRequest.objects.get(pk=hub.police_request.pk)
    assert (request.last_chased_at, request.chase_count) == (due + MINUTE, 1)
    assert request.chasers.get().chased_at == due + MINUTE


@pytest.mark.django_db
def test_a_request_is_chased_once_per_interval_however_often_the_task_runs(hub, due):
    first = due + timedelta(minutes=3, seconds=42)
    assert chase_overdue_requests(now=first) == 2

    repeats = [chase_overdue_requests(now=first + timedelta(minutes=m)) for m in range(0, 57, 5)]

    assert repeats == [0] * 12
    assert Chaser.objects.count() == 2
    assert len(told()) == 2
    request = InformationRequest.objects.get(pk=hub.police_request.pk)
    assert (request.last_chased_at, request.chase_count) == (due + timedelta(minutes=3), 1)


@pytest.mark.django_db
def test_it_chases_again_once_the_interval_has_passed(hub, due):
    chase_overdue_requests(now=due + MINUTE)

    assert chase_overdue_requests(now=due + timedelta(minutes=60, seconds=59)) == 0
    assert chase_overdue_requests(now=due + timedelta(minutes=61)) == 2
    assert chase_overdue_requests(now=due + timedelta(minutes=62)) == 0

    assert chasers()[2:] == [("Oxford Health", 2), ("Thames Valley Police", 2)]
    assert len(told()) == 4


@pytest.mark.django_db
def test_the_interval_is_the_hubs_setting(hub, due):
    SharingPolicy.objects.update_or_create(pk=1, defaults={"chase_interval_minutes": 15})
    chase_overdue_requests(now=due + MINUTE)

    assert chase_overdue_requests(now=due + timedelta(minutes=15)) == 0
    assert chase_overdue_requests(now=due + timedelta(minutes=16)) == 2


@pytest.mark.django_db
def test_an_interval_of_zero_still_chases_at_most_once_a_minute(hub, due):
    SharingPolicy.objects.update_or_create(pk=1, defaults={"chase_interval_minutes": 0})

    assert chase_overdue_requests(now=due + MINUTE) == 2
    assert chase_overdue_requests(now=due + timedelta(minutes=1, seconds=30)) == 0
    assert chase_overdue_requests(now=due + 2 * MINUTE) == 2


# --- which requests ---------------------------------------------------------------------------


def add_record(hub, request, owner):
    return services.add_information_record(
        request=request,
        actor=owner,
        person=hub.enquiry.subject,
        summary="Known to the service.",
        detail="Attended A&E twice this year.",
        source_system="SystmOne",
        information_date=date(2025, 10, 1),
        sensitivity=Sensitivity.NON_SENSITIVE,
    )


@pytest.mark.django_db
def test_answered_requests_are_never_chased(hub, due):
    add_record(hub, hub.health_request, hub.health_visitor)
    services.send_answer(request=hub.health_request, actor=hub.health_visitor)
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)

    assert chase_overdue_requests(now=due + timedelta(days=3)) == 0
    assert Chaser.objects.count() == 0
    assert told() == []


@pytest.mark.django_db
def test_a_request_in_progress_is_still_chased_until_the_answer_is_sent(hub, due):
    add_record(hub, hub.health_request, hub.health_visitor)
    assert InformationRequest.objects.get(pk=hub.health_request.pk).status == "in_progress"

    assert chase_overdue_requests(now=due + MINUTE) == 2


@pytest.mark.django_db
def test_a_request_answered_after_a_chaser_is_not_chased_again(hub, due):
    chase_overdue_requests(now=due + MINUTE)
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)

    assert chase_overdue_requests(now=due + timedelta(hours=2)) == 1

    assert chasers() == [
        ("Oxford Health", 2),
        ("Thames Valley Police", 1),
        ("Oxford Health", 2),
    ]


@pytest.mark.django_db
def test_requests_on_a_decided_enquiry_are_not_chased(hub, due):
    # The answer could no longer inform the decision.
    enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No concerns once seen.",
        expected_version=Enquiry.objects.get(pk=hub.enquiry.pk).version,
    )

    assert chase_overdue_requests(now=due + timedelta(days=3)) == 0


# --- who is told ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_agencys_active_practitioners_are_told_and_nobody_else(hub, due):
    UserFactory(roles=[Role.PRACTITIONER], agency=hub.police, username="second_officer")
    UserFactory(roles=[Role.PRACTITIONER], agency=hub.police, username="retired", is_active=False)
    UserFactory(roles=[Role.AUDITOR], agency=hub.police, username="police_auditor")
    UserFactory(roles=[Role.PRACTITIONER], agency=hub.csc, username="social_worker")

    chase_overdue_requests(now=due + MINUTE)

    ref = hub.enquiry.reference
    assert told() == [("health_visitor", ref), ("police_officer", ref), ("second_officer", ref)]
    message = Notification.objects.get(recipient=hub.police_officer).message
    due_text = f"{timezone.localtime(due):%a} {timezone.localtime(due).day} "
    assert message.startswith(f"{ref}: the answer from Thames Valley Police was due by {due_text}")
    assert message.endswith("Answer the information request, or record that nothing is held.")


@pytest.mark.django_db
def test_an_agency_without_practitioners_is_chased_all_the_same(hub, due):
    hub.health_visitor.is_active = False
    hub.health_visitor.save(update_fields=["is_active"])

    assert chase_overdue_requests(now=due + MINUTE) == 2

    assert told() == [("police_officer", hub.enquiry.reference)]


# --- the second guard -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_second_chaser_in_the_same_minute(hub, due):
    chase_overdue_requests(now=due + MINUTE)
    twin = Chaser(request_id=hub.police_request.pk, chased_at=due + MINUTE)
    later = Chaser(request_id=hub.police_request.pk, chased_at=due + 2 * MINUTE)

    assert insert_new_chasers([twin, later]) == [hub.police_request.pk]
    assert hub.police_request.chasers.count() == 2


# --- cost -------------------------------------------------------------------------------------


def ask_about_more_enquiries(hub, count: int) -> None:
    for n in range(count):
        (enquiry,) = enquiry_services.enquiry_intake(
            actor=hub.researcher,
            received_at=hub.enquiry.received_at,
            referrer_name="Ms Head",
            referrer_type=ReferrerType.objects.get(code="school"),
            subjects=[PersonDetails(first_name=f"Child{n}", last_name="Chased")],
            subject_type=Enquiry.SubjectType.CHILD,
            concern="Bruising noticed at school.",
            categories=["physical_abuse"],
            consent=Enquiry.Consent.YES,
        )
        services.send_information_requests(
            enquiry=enquiry, actor=hub.researcher, agencies=[hub.police, hub.health]
        )


@pytest.mark.django_db
@pytest.mark.parametrize("more", [0, 15])
def test_a_run_takes_a_fixed_number_of_queries(hub, due, django_assert_max_num_queries, more):
    ask_about_more_enquiries(hub, more)
    SharingPolicy.current()

    # nothing behind the clock or the policy (enquiries.timing): the clock's version and
    # whether any enquiry is behind it, the clock's and the policy's versions and whether any
    # request is behind them; then savepoint, policy, claiming update, request details, chaser
    # insert, practitioners, notification insert, the practitioners' choices of email
    # (chasers are not emailed unless chosen, so no email insert), release
    with django_assert_max_num_queries(14):
        assert chase_overdue_requests(now=due + MINUTE) == 2 + 2 * more

    assert Notification.objects.filter(kind=Notification.Kind.CHASER).count() == 2 + 2 * more
    # with nothing due: the five of nothing behind, savepoint, policy, claiming update, release
    with django_assert_max_num_queries(9):
        assert chase_overdue_requests(now=due + 2 * MINUTE) == 0


# --- Celery -----------------------------------------------------------------------------------


@pytest.mark.any_instant
@pytest.mark.django_db
def test_the_task_chases_on_the_clock_and_a_repeat_chases_nothing(hub):
    InformationRequest.objects.update(due_at=timezone.now() - timedelta(hours=1))

    assert chase_information_requests.delay().get() == 2
    assert chase_information_requests.delay().get() == 0
    assert len(told()) == 2


def test_beat_chases_every_five_minutes_and_drops_stale_runs():
    entry = settings.CELERY_BEAT_SCHEDULE["chase-information-requests"]
    schedule = entry["schedule"]

    assert entry["task"] == chase_information_requests.name
    assert chase_information_requests.name == "sharing.tasks.chase_information_requests"
    assert chase_information_requests.name in app.tasks
    assert chase_information_requests.acks_late
    assert schedule.minute == set(range(0, 60, 5))
    assert schedule.hour == set(range(24))
    assert entry["options"]["expires"] < 300


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks and concurrent transactions need PostgreSQL",
)
def test_a_run_while_another_holds_the_requests_chases_nothing(migration_data):
    """Two runs at the same minute, the first still inside its transaction: the second skips
    the requests the first has claimed, and after the first commits finds them chased."""
    hub = make_hub()
    now = hub.police_request.due_at + MINUTE
    first, second = run_while_another_holds(lambda: chase_overdue_requests(now=now))

    assert {"first": first, "second": second} == {"first": 2, "second": 0}
    assert chase_overdue_requests(now=now + 5 * MINUTE) == 0
    assert Chaser.objects.count() == 2
    assert len(told()) == len(set(told())) == 2


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks and concurrent transactions need PostgreSQL",
)
def test_runs_started_together_chase_each_request_once(migration_data):
    """Eight runs released at the same instant, each in its own transaction and connection."""
    hub = make_hub()
    now = hub.police_request.due_at + MINUTE
    start = threading.Barrier(8)
    results: list[int] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(chase_overdue_requests(now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(results) == 8
    assert sum(results) == 2
    assert Chaser.objects.count() == 2
    assert len(told()) == len(set(told())) == 2


@pytest.mark.worker
def test_runs_on_two_real_workers_chase_and_notify_exactly_once(sla_workers):  # noqa: F811
    assert not app.conf.task_always_eager
    hub = make_hub()
    # The task reads the real clock: make both requests overdue now, whatever the weekday.
    InformationRequest.objects.update(due_at=timezone.now() - timedelta(minutes=10))
    queue = sla_workers

    results = [chase_information_requests.apply_async(queue=queue) for _ in range(12)]
    counts = [result.get(timeout=15) for result in results]

    assert sum(counts) == 2
    assert sorted(chasers()) == [("Oxford Health", 1), ("Thames Valley Police", 1)]
    ref = hub.enquiry.reference
    assert told() == [("health_visitor", ref), ("police_officer", ref)]
