"""Stored timing that heals itself (enquiries.timing): every change to what deadlines depend on
bumps the hub clock's version and does nothing more; the catch-up recomputes the open
enquiries behind it in batches; the SLA scan never judges one by a deadline from an older
clock; the administration pages say how many are still to do."""

from datetime import date, time

import pytest
from django.urls import reverse

from agencies.models import Role
from enquiries.models import (
    ClosureDay,
    Enquiry,
    HubClock,
    OpeningHours,
    RagAllowance,
    SlaEvent,
)
from enquiries.sla_scan import ScanResult, record_sla_events
from enquiries.tasks import recompute_open_deadlines, recompute_stale_deadlines
from enquiries.timing import behind_count, recompute_batch, recompute_behind
from tests.enquiries.test_hub_clock import CHANGE_URL, post_clock
from tests.enquiries.test_sla_scan import at, log_red

pytestmark = pytest.mark.django_db

# A Red enquiry received on Friday 27 March 2026 at 13:00 under the default clock (240 working
# minutes, at risk from 75%): at risk from 16:00, due at 17:00, breached from Monday 09:01.
DEFAULT_RED = (240, at("2026-03-27T17:00"), at("2026-03-27T16:00"), at("2026-03-30T09:01"))
# With Red at 120 minutes: at risk from 14:30 (90 minutes), due 15:00, breached from 15:01.
RED_120 = (120, at("2026-03-27T15:00"), at("2026-03-27T14:30"), at("2026-03-27T15:01"))


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, username="mina")


def version() -> int:
    return HubClock.objects.get().version


def timing_of(enquiry: Enquiry) -> tuple:
    enquiry.refresh_from_db()
    return (
        enquiry.allowance_minutes,
        enquiry.deadline,
        enquiry.at_risk_from,
        enquiry.breached_from,
    )


def red_allowance(minutes: int, clock: str = RagAllowance.Clock.WORKING) -> None:
    """An administrator's change of the Red allowance, saved as the admin saves it."""
    red = RagAllowance.objects.get(rating="red")
    red.minutes, red.clock = minutes, clock
    red.save()


def change_hub(**fields) -> None:
    hub = HubClock.objects.get()
    for name, value in fields.items():
        setattr(hub, name, value)
    hub.save()


def change_hours() -> None:
    monday = OpeningHours.objects.get(weekday=0)
    monday.opens = time(8, 30)
    monday.save()


CHANGES = {
    "opening-hours-changed": change_hours,
    "opening-hours-added": lambda: OpeningHours.objects.create(
        weekday=5, opens=time(9), closes=time(13)
    ),
    "opening-hours-removed": lambda: OpeningHours.objects.get(weekday=4).delete(),
    "closure-added": lambda: ClosureDay.objects.create(date=date(2026, 12, 29)),
    "allowance-changed": lambda: red_allowance(120),
    "allowance-clock-changed": lambda: red_allowance(240, clock=RagAllowance.Clock.CONTINUOUS),
    "bank-holidays-changed": lambda: change_hub(bank_holidays="scotland"),
    "at-risk-share-changed": lambda: change_hub(at_risk_percent=80),
    "time-zone-changed": lambda: change_hub(time_zone="Europe/Dublin"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_to_what_timing_depends_on_bumps_the_version_and_nothing_more(
    researcher, change
):
    (enquiry,) = log_red(researcher, "Ann")
    before = version()
    assert enquiry.timing_version == before
    assert behind_count().counts == {"enquiries": 0, "information requests": 0}

    change()

    assert version() == before + 1
    assert timing_of(enquiry) == DEFAULT_RED  # the save recomputed nothing
    assert behind_count().counts == {"enquiries": 1, "information requests": 0}


def test_removing_a_closure_bumps_the_version_too():
    closure = ClosureDay.objects.create(date=date(2026, 12, 29))
    before = version()

    closure.delete()

    assert version() == before + 1


def test_the_catch_up_recomputes_open_enquiries_behind_in_batches(researcher):
    enquiries = log_red(researcher, "Ann", "Bea", "Cat", "Dan", "Eve", "Fay", "Gus")
    decided = enquiries.pop()
    Enquiry.objects.filter(pk=decided.pk).update(
        state=Enquiry.State.DECIDED, decided_at=at("2026-03-27T14:00")
    )
    red_allowance(120)

    assert [recompute_batch(batch_size=4) for _ in range(3)] == [4, 2, 0]

    assert [timing_of(enquiry) for enquiry in enquiries] == [RED_120] * 6
    assert {enquiry.timing_version for enquiry in enquiries} == {version()}
    assert timing_of(decided) == DEFAULT_RED  # a decided enquiry's deadline is history
    assert behind_count().total == 0


def test_a_second_change_during_the_catch_up_is_caught_up_too(researcher):
    enquiries = log_red(researcher, "Ann", "Bea", "Cat")
    red_allowance(480)
    assert recompute_batch(batch_size=2) == 2  # two under Red at 480

    red_allowance(120)  # the third, and the first two again

    assert recompute_behind(batch_size=2) == {"enquiries": 3, "information requests": 0}
    assert [timing_of(enquiry) for enquiry in enquiries] == [RED_120] * 3


def test_the_task_a_change_queues_and_the_beat_job_both_catch_up(researcher):
    (ann,) = log_red(researcher, "Ann")
    red_allowance(120)

    assert recompute_stale_deadlines.delay().get() == {"enquiries": 1, "information requests": 0}
    assert recompute_open_deadlines.delay().get() == {"enquiries": 0, "information requests": 0}
    assert timing_of(ann) == RED_120


def test_beat_runs_the_catch_up_every_minute_and_drops_stale_runs():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["recompute-stale-deadlines"]

    assert entry["task"] == recompute_stale_deadlines.name
    assert entry["schedule"].minute == set(range(60))
    assert entry["options"]["expires"] < 60


# --- the SLA scan -----------------------------------------------------------------------------


def test_the_scan_recomputes_an_enquiry_behind_the_clock_before_judging_it(researcher, manager):
    (ann,) = log_red(researcher, "Ann")
    red_allowance(120)

    # At 15:30 Ann is on time by her stored deadline (17:00), breached by the clock in force.
    result = record_sla_events(now=at("2026-03-27T15:30"))

    assert result == ScanResult(at_risk=0, breached=1, notifications=1)
    event = SlaEvent.objects.get()
    assert (event.kind, event.occurred_at, event.deadline) == (
        SlaEvent.Kind.BREACHED,
        at("2026-03-27T15:01"),
        at("2026-03-27T15:00"),
    )
    assert timing_of(ann) == RED_120


def test_the_scan_sends_no_warning_from_an_older_clock(researcher, manager):
    (ann,) = log_red(researcher, "Ann")
    red_allowance(480)  # at risk from Monday 11:00, due Monday 13:00

    # Breached by her stored thresholds (from 09:01), on time by the clock in force.
    result = record_sla_events(now=at("2026-03-30T09:30"))

    assert result == ScanResult(at_risk=0, breached=0, notifications=0)
    assert not SlaEvent.objects.exists()
    assert timing_of(ann) == (
        480,
        at("2026-03-30T13:00"),
        at("2026-03-30T11:00"),
        at("2026-03-30T13:01"),
    )


def test_an_enquiry_still_behind_after_the_catch_up_waits_for_the_next_scan(
    researcher, manager, monkeypatch
):
    (ann,) = log_red(researcher, "Ann")
    red_allowance(480)
    # As if another worker held Ann's row while this scan caught up.
    monkeypatch.setattr("enquiries.sla_scan.recompute_behind", lambda: {})

    assert record_sla_events(now=at("2026-03-30T13:30")).breached == 0  # by no clock's deadline

    monkeypatch.undo()
    assert record_sla_events(now=at("2026-03-30T13:30")).breached == 1


# --- the pages where the clock changes -----------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR, is_superuser=True))
    return client


def test_a_change_on_the_clocks_page_returns_at_once_and_the_page_counts_what_is_left(
    admin_client, researcher, django_capture_on_commit_callbacks
):
    enquiries = log_red(researcher, "Ann", "Bea", "Cat")

    with django_capture_on_commit_callbacks() as queued:  # queued, not run
        response = post_clock(admin_client, **{"ragallowance_set-0-minutes": "120"})

    assert response.status_code == 302
    assert [callback.func.__self__.name for callback in queued] == [recompute_open_deadlines.name]
    assert [timing_of(enquiry) for enquiry in enquiries] == [DEFAULT_RED] * 3
    page = admin_client.get(CHANGE_URL).content.decode()
    assert "3 deadlines are being updated" in page
    assert "Open enquiries: 3" in page
    home = admin_client.get(reverse("administration")).content.decode()
    assert "3 deadlines are being updated" in home

    recompute_behind()

    assert [timing_of(enquiry) for enquiry in enquiries] == [RED_120] * 3
    page = admin_client.get(CHANGE_URL).content.decode()
    assert "deadlines are being updated" not in page
    assert "Every open enquiry's deadline and every open information request's due time" in page
