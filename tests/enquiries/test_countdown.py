"""Time left as the queue and the enquiry page word it at exact instants, never "0 min left"
for overdue work, "Clock paused" out of hours, and what the countdown script is given."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from agencies.models import Role
from enquiries import services
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.models import Enquiry
from enquiries.selectors import hub_hours, opening_periods, time_left, urgency
from enquiries.worktime import ContinuousCalendar, WorkingCalendar
from tests.factories import police_notification

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def minute(text: str) -> int:
    """An instant in hub time as the countdown script's epoch minutes."""
    return int(at(text).timestamp()) // 60


def clock_with(hub: WorkingCalendar) -> ClockInForce:
    return ClockInForce(
        version=1,
        calendar=hub,
        continuous=ContinuousCalendar(),
        allowances={},
        at_risk_percent=75,
    )


# A red enquiry received on Friday 27 March 2026 at 13:00 has four working hours: due at 17:00,
# at risk from 16:00, and no working minute passes over the weekend.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "words", "tag"),
    [
        ("2026-03-27T13:55", "3 h 05 min left", ""),
        ("2026-03-27T16:00", "1 h 00 min left", "at_risk"),
        ("2026-03-27T16:59", "1 min left", "at_risk"),
        ("2026-03-27T17:00", "Overdue", "breached"),  # exactly due: no minute left
        ("2026-03-28T12:00", "Overdue", "breached"),  # due yesterday, never "0 min left"
        ("2026-03-30T09:01", "Overdue by 1 min", "breached"),
        ("2026-03-30T10:05", "Overdue by 1 h 05 min", "breached"),
        ("2026-03-31T09:00", "Overdue by 8 h 00 min", "breached"),
    ],
)
def test_time_left_is_worded_in_working_minutes_and_overdue_once_due(now, words, tag):
    sla = clock_in_force().sla(rating="red", received_at=at("2026-03-27T13:00"), now=at(now))

    assert (time_left(sla), urgency(sla)) == (words, tag)


@pytest.mark.parametrize(
    ("now", "paused"),
    [
        ("2026-12-02T10:30", ""),
        ("2026-11-27T16:59", ""),
        ("2026-11-27T17:00", "Clock paused: the hub opens Monday 09:00"),
        ("2026-11-27T17:30", "Clock paused: the hub opens Monday 09:00"),
        ("2026-11-28T23:30", "Clock paused: the hub opens Monday 09:00"),
        ("2026-11-30T08:59", "Clock paused: the hub opens today 09:00"),
        ("2026-12-01T18:00", "Clock paused: the hub opens tomorrow 09:00"),
        # Christmas Day, a Friday; Boxing Day's substitute is Monday 28th
        ("2026-12-25T11:00", "Clock paused: the hub opens Tuesday 09:00"),
    ],
)
def test_out_of_hours_the_clock_is_paused_until_the_hub_next_opens(now, paused):
    assert hub_hours(clock_with(WorkingCalendar()), now=at(now)).paused == paused


def test_a_closure_day_and_a_closed_week_move_the_opening():
    monday = WorkingCalendar(closures=frozenset({date(2026, 11, 30)}))
    week = WorkingCalendar(
        closures=frozenset({date(2026, 11, 30), *(date(2026, 12, day) for day in range(1, 5))})
    )

    assert (
        hub_hours(clock_with(monday), now=at("2026-11-27T17:30")).paused
        == "Clock paused: the hub opens Tuesday 09:00"
    )
    assert (
        hub_hours(clock_with(week), now=at("2026-11-27T17:30")).paused
        == "Clock paused: the hub opens Monday 7 December 09:00"
    )


def test_the_script_is_given_the_opening_periods_from_the_instant_counted():
    now = datetime(2026, 11, 27, 16, 58, 12, 500000, tzinfo=LONDON)

    hours = hub_hours(clock_with(WorkingCalendar()), now=now)

    periods = hours.open_periods.split(" ")
    assert periods[:3] == [
        f"{minute('2026-11-27T16:58')}-{minute('2026-11-27T17:00')}",
        f"{minute('2026-11-30T09:00')}-{minute('2026-11-30T17:00')}",
        f"{minute('2026-12-01T09:00')}-{minute('2026-12-01T17:00')}",
    ]
    # fourteen days ahead: ten working days from Friday 16:58, the last cut at 16:58
    assert len(periods) == 11
    assert periods[-1] == f"{minute('2026-12-11T09:00')}-{minute('2026-12-11T16:58')}"
    assert hours.known_until == minute("2026-12-11T16:58")
    assert hours.counted_at == int(now.timestamp() * 1000)
    assert hours.zone == "Europe/London"
    assert hours.paused == ""


def test_opening_periods_keep_eight_hours_on_the_day_the_clocks_go_forward():
    hub = WorkingCalendar.standard(weekdays=range(7), nation=None)

    periods = opening_periods(hub, at("2026-03-28T20:00"), at("2026-03-30T00:00"))

    assert periods == [(at("2026-03-29T09:00"), at("2026-03-29T17:00"))]
    assert periods[0][0].astimezone(UTC).hour == 8  # 09:00 BST
    assert periods[0][1] - periods[0][0] == timedelta(hours=8)


def log_red(researcher, received_at: datetime) -> Enquiry:
    (enquiry,) = police_notification(researcher, "Ann", received_at=received_at)
    return services.enquiry_rate(
        enquiry=enquiry, actor=researcher, rating="red", rationale="Risk.", expected_version=1
    )


def attributes(html: str, marker: str) -> dict[str, str]:
    """The attributes of the first tag carrying `marker`."""
    tag = re.search(rf"<[a-z]+[^>]*\s{marker}(?=[\s>])[^>]*>", html)
    assert tag, f"no tag with {marker}"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag.group(0)))


@pytest.mark.django_db
@pytest.mark.instant("2026-11-27T16:58")
def test_the_queue_gives_the_countdown_what_it_needs(client, make_user):
    researcher = make_user(Role.RESEARCHER)
    enquiry = log_red(researcher, at("2026-11-27T13:30"))
    client.force_login(researcher)

    with time_machine.travel(at("2026-11-27T16:58:30"), tick=False):
        html = client.get(reverse("triage-queue")).content.decode()

    clock = attributes(html, "data-countdown-clock")
    assert clock["data-counted-at"] == str(int(at("2026-11-27T16:58:30").timestamp() * 1000))
    assert clock["data-open"].startswith(
        f"{minute('2026-11-27T16:58')}-{minute('2026-11-27T17:00')} "
        f"{minute('2026-11-30T09:00')}-{minute('2026-11-30T17:00')} "
    )
    assert clock["data-known-until"] == str(minute("2026-12-11T16:58"))
    assert clock["data-zone"] == "Europe/London"
    row = attributes(html, "data-countdown")
    # 208 of 240 working minutes gone; at risk from 60 left (75% of the allowance)
    assert (row["data-remaining"], row["data-at-risk"]) == ("32", "60")
    assert "data-continuous" not in html
    assert enquiry.reference in html
    assert "<span data-countdown-text>32 min left</span>" in html
    assert "data-countdown-tag>At risk</strong>" in html
    assert re.search(r'data-testid="clock-paused" hidden></p>', html)


@pytest.mark.django_db
@pytest.mark.instant("2026-11-28T12:00")
def test_the_enquiry_page_says_the_clock_is_paused_and_overdue_work_is_breached(client, make_user):
    researcher = make_user(Role.RESEARCHER)
    enquiry = log_red(researcher, at("2026-11-27T13:00"))  # due Friday 17:00
    client.force_login(researcher)

    with time_machine.travel(at("2026-11-28T12:00"), tick=False):
        html = client.get(enquiry.get_absolute_url()).content.decode()

    clock = attributes(html, "data-countdown-clock")
    assert clock["data-open"].startswith(
        f"{minute('2026-11-30T09:00')}-{minute('2026-11-30T17:00')} "
    )
    assert attributes(html, "data-countdown")["data-remaining"] == "0"
    assert '<span data-testid="time-left" data-countdown-text>Overdue</span>' in html
    assert "Clock paused: the hub opens Monday 09:00</p>" in html
    assert "0 min left" not in html
    assert '<strong class="govuk-tag govuk-tag--red">Breached</strong>' in html
    assert "At risk" not in html


@pytest.mark.django_db
@pytest.mark.instant("2026-12-25T11:00")
def test_the_queue_says_the_clock_is_paused_on_a_bank_holiday(client, make_user):
    researcher = make_user(Role.RESEARCHER)
    log_red(researcher, at("2026-12-24T15:00"))  # 120 working minutes gone
    client.force_login(researcher)

    html = client.get(reverse("triage-queue")).content.decode()

    assert (
        '<p class="govuk-body-s mash-queue-paused" data-countdown-paused '
        'data-testid="clock-paused">Clock paused: the hub opens Tuesday 09:00</p>'
    ) in html
    assert "<span data-countdown-text>2 h 00 min left</span>" in html
