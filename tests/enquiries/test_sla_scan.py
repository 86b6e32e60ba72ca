"""The per-minute SLA scan: events once per enquiry and kind, to the minute, notifying the right
people once, however often and on however many workers it runs."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry, Notification, Outcome, SlaEvent
from enquiries.sla_scan import ScanResult, insert_new_events, record_sla_events
from enquiries.tasks import scan_sla
from mash.celery import app
from tests.concurrency import run_while_another_holds
from tests.factories import police_notification
from tests.workers import start_worker, stop, wait_until_ready

LONDON = ZoneInfo("Europe/London")
Kind = SlaEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# A Red enquiry received on Friday 27 March 2026 at 13:00 is at risk from 16:00 (75% of 240
# working minutes), due at 17:00 and breached from Monday 30 March 09:01.
RECEIVED = at("2026-03-27T13:00")
AT_RISK_FROM = at("2026-03-27T16:00")
DEADLINE = at("2026-03-27T17:00")
BREACHED_FROM = at("2026-03-30T09:01")


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, username="mina")


def log_red(actor, *names, assignee=None, received_at=RECEIVED) -> list[Enquiry]:
    enquiries = police_notification(actor, *names, received_at=received_at, now=received_at)
    rated = []
    for enquiry in enquiries:
        enquiry = services.enquiry_rate(
            enquiry=enquiry,
            actor=actor,
            rating="red",
            rationale="Injuries seen.",
            expected_version=enquiry.version,
            now=received_at,
        )
        if assignee is not None:
            enquiry = services.enquiry_assign(
                enquiry=enquiry,
                actor=actor,
                assignee=assignee,
                expected_version=enquiry.version,
                now=received_at,
            )
        rated.append(enquiry)
    return rated


def events() -> list[tuple[str, str, datetime]]:
    return list(
        SlaEvent.objects.order_by("enquiry__reference", "kind").values_list(
            "enquiry__reference", "kind", "occurred_at"
        )
    )


def told() -> list[tuple[str, str, str]]:
    """(recipient, enquiry, kind) of every notification."""
    return sorted(
        Notification.objects.values_list("recipient__username", "enquiry__reference", "kind")
    )


# --- to the minute ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_is_recorded_a_minute_before_the_enquiry_is_at_risk(researcher):
    log_red(researcher, "Ann")

    result = record_sla_events(now=at("2026-03-27T15:59"))

    assert result == ScanResult(at_risk=0, breached=0, notifications=0)
    assert events() == []


@pytest.mark.django_db
def test_at_risk_is_recorded_at_its_minute_with_the_rating_and_deadline_then(researcher):
    (enquiry,) = log_red(researcher, "Ann")
    now = at("2026-03-27T16:00:20")

    result = record_sla_events(now=now)

    assert result.at_risk == 1
    event = SlaEvent.objects.get()
    assert (event.enquiry, event.kind, event.occurred_at) == (enquiry, Kind.AT_RISK, AT_RISK_FROM)
    assert (event.recorded_at, event.rating, event.deadline) == (now, "red", DEADLINE)


@pytest.mark.django_db
def test_breached_is_recorded_at_its_minute_and_not_the_minute_before(researcher):
    (enquiry,) = log_red(researcher, "Ann")
    record_sla_events(now=AT_RISK_FROM)

    before = record_sla_events(now=at("2026-03-30T09:00"))
    on_the_minute = record_sla_events(now=BREACHED_FROM)

    assert before == ScanResult(at_risk=0, breached=0, notifications=0)
    assert on_the_minute.breached == 1
    assert events() == [
        (enquiry.reference, Kind.AT_RISK, AT_RISK_FROM),
        (enquiry.reference, Kind.BREACHED, BREACHED_FROM),
    ]


@pytest.mark.django_db
def test_an_enquiry_first_seen_breached_gets_the_breached_event_alone(researcher, manager):
    (enquiry,) = log_red(researcher, "Ann")

    result = record_sla_events(now=at("2026-03-30T11:00"))

    assert result == ScanResult(at_risk=0, breached=1, notifications=1)
    assert events() == [(enquiry.reference, Kind.BREACHED, BREACHED_FROM)]


@pytest.mark.django_db
def test_an_enquiry_rated_down_from_breached_to_at_risk_gets_its_at_risk_event(researcher):
    (enquiry,) = log_red(researcher, "Ann")
    record_sla_events(now=at("2026-03-30T11:00"))
    # Green: 1440 working minutes from Friday 13:00, at risk after 1080 (Tuesday 15:00).
    services.enquiry_rate(
        enquiry=enquiry,
        actor=researcher,
        rating="green",
        rationale="Police confirm the children are safe with their grandmother.",
        expected_version=enquiry.version,
        now=at("2026-03-30T11:00"),
    )

    assert record_sla_events(now=at("2026-03-31T14:59")).at_risk == 0
    assert record_sla_events(now=at("2026-03-31T15:00")).at_risk == 1
    assert [kind for _, kind, _ in events()] == [Kind.AT_RISK, Kind.BREACHED]


# --- once -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scanning_again_records_and_notifies_nothing_more(researcher, manager):
    log_red(researcher, "Ann", "Bea", assignee=researcher)
    first = record_sla_events(now=BREACHED_FROM)

    again = record_sla_events(now=BREACHED_FROM)
    later = record_sla_events(now=BREACHED_FROM + timedelta(hours=3))

    assert first == ScanResult(at_risk=0, breached=2, notifications=4)
    assert again == later == ScanResult(at_risk=0, breached=0, notifications=0)
    assert SlaEvent.objects.count() == 2
    assert len(told()) == len(set(told())) == 4


@pytest.mark.django_db
def test_the_database_refuses_a_second_event_of_a_kind(researcher):
    (enquiry,) = log_red(researcher, "Ann")
    record_sla_events(now=AT_RISK_FROM)
    # What a concurrent scan that read the enquiry before this one's commit would insert.
    twin = SlaEvent(
        enquiry=enquiry,
        kind=Kind.AT_RISK,
        occurred_at=AT_RISK_FROM,
        recorded_at=AT_RISK_FROM,
        rating="red",
        deadline=DEADLINE,
    )
    breach = SlaEvent(
        enquiry=enquiry,
        kind=Kind.BREACHED,
        occurred_at=BREACHED_FROM,
        recorded_at=BREACHED_FROM,
        rating="red",
        deadline=DEADLINE,
    )

    inserted = insert_new_events([twin, breach])

    assert [(enquiry_id, kind) for _, enquiry_id, kind in inserted] == [(enquiry.pk, Kind.BREACHED)]
    assert SlaEvent.objects.filter(kind=Kind.AT_RISK).count() == 1


@pytest.mark.django_db
def test_decided_and_closed_enquiries_are_never_scanned(researcher, manager):
    decided, closed, still_open = log_red(researcher, "Ann", "Bea", "Cal")
    nfa = Outcome.objects.get(code="nfa")
    for enquiry in (decided, closed):
        enquiry = services.enquiry_decide(
            enquiry=enquiry,
            actor=manager,
            outcome=nfa,
            rationale="No concerns once seen.",
            expected_version=enquiry.version,
            now=at("2026-03-27T15:00"),
        )
    services.enquiry_record_feedback(
        enquiry=Enquiry.objects.get(pk=closed.pk),
        actor=researcher,
        method="Telephone",
        text="No further action.",
        expected_version=Enquiry.objects.get(pk=closed.pk).version,
        now=at("2026-03-27T15:30"),
    )

    record_sla_events(now=BREACHED_FROM)

    assert events() == [(still_open.reference, Kind.BREACHED, BREACHED_FROM)]


# --- who is told ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_at_risk_tells_the_assignee_and_not_the_managers(researcher, manager):
    (enquiry,) = log_red(researcher, "Ann", assignee=researcher)

    record_sla_events(now=AT_RISK_FROM)

    assert told() == [("rosa", enquiry.reference, Kind.AT_RISK)]
    notification = Notification.objects.get()
    assert notification.message == (
        f"{enquiry.reference} (Red) is at risk: the decision is due by Fri 27 Mar 17:00."
    )
    assert notification.created_at == AT_RISK_FROM
    assert notification.read_at is None
    assert notification.sla_event == SlaEvent.objects.get()


@pytest.mark.django_db
def test_at_risk_with_nobody_assigned_tells_the_active_managers(researcher, manager, make_user):
    make_user(Role.MANAGER, username="gone", is_active=False)
    make_user(Role.ANALYST, username="ana")
    (enquiry,) = log_red(researcher, "Ann")

    record_sla_events(now=AT_RISK_FROM)

    assert told() == [("mina", enquiry.reference, Kind.AT_RISK)]


@pytest.mark.django_db
def test_a_breach_tells_the_assignee_and_every_active_manager(researcher, manager, make_user):
    make_user(Role.MANAGER, username="max")
    make_user(Role.MANAGER, username="gone", is_active=False)
    (enquiry,) = log_red(researcher, "Ann", assignee=researcher)

    record_sla_events(now=BREACHED_FROM)

    ref = enquiry.reference
    assert told() == [
        ("max", ref, "breached"),
        ("mina", ref, "breached"),
        ("rosa", ref, "breached"),
    ]
    assert Notification.objects.filter(recipient__username="rosa").get().message == (
        f"{ref} (Red) has breached: the decision was due by Fri 27 Mar 17:00."
    )


@pytest.mark.django_db
def test_a_manager_assigned_the_enquiry_is_told_once(manager):
    (enquiry,) = log_red(manager, "Ann", assignee=manager)

    record_sla_events(now=BREACHED_FROM)

    assert told() == [("mina", enquiry.reference, Kind.BREACHED)]


@pytest.mark.django_db
def test_an_assignee_who_has_left_is_replaced_by_the_managers(researcher, manager, make_user):
    leaver = make_user(Role.RESEARCHER, username="leaver")
    (enquiry,) = log_red(researcher, "Ann", assignee=leaver)
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])

    record_sla_events(now=AT_RISK_FROM)

    assert told() == [("mina", enquiry.reference, Kind.AT_RISK)]


# --- cost -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("children", [2, 40])
def test_a_scan_runs_a_fixed_number_of_queries(
    researcher, manager, django_assert_max_num_queries, children
):
    log_red(researcher, *[f"Child{i}" for i in range(children)])

    # nothing behind the clock (enquiries.timing): the clock's version and whether any
    # enquiry is behind it, the clock's and the sharing policy's versions and whether any
    # request is behind them; then savepoint, due enquiries (locked), event insert, managers,
    # notification insert, the recipients' choices of email and the email insert
    # (enquiries.mail), release
    with django_assert_max_num_queries(13):
        result = record_sla_events(now=BREACHED_FROM)

    assert result.breached == children
    # with nothing new: the five of nothing behind, savepoint, due enquiries, release
    with django_assert_max_num_queries(8):
        assert record_sla_events(now=BREACHED_FROM).breached == 0


# --- Celery -----------------------------------------------------------------------------------


@pytest.mark.any_instant
@pytest.mark.django_db
def test_the_task_runs_the_scan_on_the_clock_and_returns_its_counts(researcher, manager):
    (enquiry,) = log_red(researcher, "Ann", received_at=timezone.now() - timedelta(days=7))

    assert scan_sla.delay().get() == {"at_risk": 0, "breached": 1, "notifications": 1}
    assert scan_sla.delay().get() == {"at_risk": 0, "breached": 0, "notifications": 0}
    assert events()[0][:2] == (enquiry.reference, Kind.BREACHED)


def test_beat_runs_the_scan_at_the_start_of_every_minute_and_drops_stale_ones():
    entry = settings.CELERY_BEAT_SCHEDULE["scan-sla"]
    schedule = entry["schedule"]

    assert entry["task"] == scan_sla.name == "enquiries.tasks.scan_sla"
    assert scan_sla.name in app.tasks
    assert scan_sla.acks_late
    assert schedule.minute == set(range(60))
    assert schedule.hour == set(range(24))
    assert entry["options"]["expires"] < 60


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks and concurrent transactions need PostgreSQL",
)
def test_a_scan_running_while_another_holds_its_enquiries_records_nothing(
    migration_data, make_user
):
    """Two scans at the same minute, the first still inside its transaction: the second skips
    the enquiries the first has locked, and nothing is recorded or told twice."""
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="mina")
    log_red(researcher, "Ann", "Bea", assignee=researcher)
    first, second = run_while_another_holds(lambda: record_sla_events(now=BREACHED_FROM))

    assert first == ScanResult(at_risk=0, breached=2, notifications=4)
    assert second == ScanResult(at_risk=0, breached=0, notifications=0)
    assert record_sla_events(now=BREACHED_FROM).breached == 0
    assert SlaEvent.objects.count() == 2
    assert len(told()) == len(set(told())) == 4


# --- a real worker ----------------------------------------------------------------------------


@pytest.fixture
def sla_workers(migration_data):
    """Two worker processes of three threads each, on a queue of their own, against the test
    database: up to six scans at once."""
    if connection.vendor != "postgresql":
        pytest.skip("the workers share the test database over the network: PostgreSQL only")
    queue = f"sla-{uuid.uuid4().hex[:8]}"
    names = [f"{queue}-{n}" for n in (1, 2)]
    processes = [start_worker(queue, name, pool="threads", concurrency=3) for name in names]
    try:
        wait_until_ready(names)
        yield queue
    finally:
        stop(*processes)


# At the suite's instant only: the workers' clocks follow the test's (tests.at_instant), and
# the thresholds are set about it, so another instant would start two more workers to
# check the same thing.
@pytest.mark.worker
def test_scans_on_two_real_workers_record_and_notify_exactly_once(sla_workers, make_user):
    assert not app.conf.task_always_eager
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="mina")
    make_user(Role.MANAGER, username="max")
    now = timezone.now()
    received = now - timedelta(minutes=30)
    assigned = log_red(researcher, "Ann", "Bea", assignee=researcher, received_at=received)
    unassigned = log_red(researcher, "Cal", "Dee", received_at=received)
    # The scan reads the stored thresholds, so set them about the real clock: whatever the
    # weekday, Ann and Cal are at risk and Bea and Dee breached.
    for enquiry, breached in zip(assigned + unassigned, (False, True, False, True), strict=True):
        Enquiry.objects.filter(pk=enquiry.pk).update(
            at_risk_from=now - timedelta(minutes=20),
            breached_from=now - timedelta(minutes=1) if breached else now + timedelta(days=1),
        )

    results = [scan_sla.apply_async(queue=sla_workers) for _ in range(12)]
    counts = [result.get(timeout=15) for result in results]

    assert sum(count["at_risk"] for count in counts) == 2
    assert sum(count["breached"] for count in counts) == 2
    assert sum(count["notifications"] for count in counts) == 8
    ann, bea, cal, dee = (e.reference for e in assigned + unassigned)
    assert sorted(SlaEvent.objects.values_list("enquiry__reference", "kind")) == [
        (ann, "at_risk"),
        (bea, "breached"),
        (cal, "at_risk"),
        (dee, "breached"),
    ]
    assert told() == sorted(
        [
            ("rosa", ann, "at_risk"),
            ("rosa", bea, "breached"),
            ("mina", bea, "breached"),
            ("max", bea, "breached"),
            ("mina", cal, "at_risk"),
            ("max", cal, "at_risk"),
            ("mina", dee, "breached"),
            ("max", dee, "breached"),
        ]
    )
