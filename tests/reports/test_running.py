"""The manager dashboard's running-the-hub figures (issue 20, item 2): exact counts, each a
link to the list behind it, in a fixed number of queries at any size."""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from enquiries.models import Enquiry, EscalationRepeat, Rag
from reports import running
from sharing.models import (
    InformationRecord,
    InformationRequest,
    ReleaseRequest,
    ReleaseStatus,
    Sensitivity,
)
from tests.factories import AgencyFactory

from .conftest import LONDON, at

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=LONDON)  # a Wednesday


@pytest.fixture
def manager(client, make_user):
    user = make_user(Role.MANAGER, first_name="Mo", last_name="Khan")
    client.force_login(user)
    return user


def test_open_totals_count_escalated_and_unassigned(make_enquiry, make_user):
    rosa = make_user(Role.RESEARCHER)
    escalated = make_enquiry("2026-03-18 09:00", rating=Rag.RED)
    Enquiry.objects.filter(pk=escalated.pk).update(escalated_at=at("2026-03-18 09:05"))
    held = make_enquiry("2026-03-18 09:00")
    Enquiry.objects.filter(pk=held.pk).update(assignee=rosa)
    make_enquiry("2026-03-10 09:00", decided="2026-03-11 09:00")  # decided: not counted

    assert running.open_totals(now=NOW) == {
        "escalated": 1,
        "acknowledged": 0,
        "unacknowledged": 1,
        "unassigned": 1,
    }
    assert [e.enquiry.reference for e in running.open_escalations(now=NOW)] == [escalated.reference]


def _escalate(enquiry, at_: str, *, acknowledged: tuple | None = None, repeats=()) -> None:
    """Escalated at `at_`; acknowledged (by, at) if given; repeated to each manager in `repeats`
    (with one repeat of an earlier escalation, which is not counted)."""
    fields = {"escalated_at": at(at_)}
    if acknowledged:
        fields |= {
            "escalation_acknowledged_by": acknowledged[0],
            "escalation_acknowledged_at": at(acknowledged[1]),
        }
    Enquiry.objects.filter(pk=enquiry.pk).update(**fields)
    earlier = at(at_) - timedelta(hours=1)
    for number, manager in enumerate(repeats, 1):
        sent = at(at_) + timedelta(minutes=15 * number)
        EscalationRepeat.objects.create(
            enquiry=enquiry, escalated_at=at(at_), round=1, recipient=manager, sent_at=sent
        )
        EscalationRepeat.objects.create(
            enquiry=enquiry, escalated_at=earlier, round=number, recipient=manager, sent_at=sent
        )


def test_open_escalations_say_who_acknowledged_or_how_long_each_waits(
    make_enquiry, make_user, manager
):
    ann = make_user(Role.MANAGER, first_name="Ann", last_name="Abbott")
    taken = make_enquiry("2026-03-18 09:00", rating=Rag.RED)
    waiting = make_enquiry("2026-03-18 09:30", rating=Rag.RED)
    _escalate(taken, "2026-03-18 10:00", acknowledged=(manager, "2026-03-18 10:20"), repeats=[ann])
    _escalate(waiting, "2026-03-18 11:10", repeats=[ann, manager])

    rows = running.open_escalations(now=NOW)

    assert [(r.enquiry.reference, r.minutes_waiting, r.repeats) for r in rows] == [
        (waiting.reference, 50, 2),
        (taken.reference, 120, 1),
    ]
    assert rows[1].enquiry.escalation_acknowledged_by.get_full_name() == "Mo Khan"
    assert running.open_totals(now=NOW) == {
        "escalated": 2,
        "acknowledged": 1,
        "unacknowledged": 1,
        "unassigned": 2,
    }


def test_work_per_person_counts_open_at_risk_and_breached_at_the_minute(make_enquiry, make_user):
    rosa = make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")
    sam = make_user(Role.RESEARCHER, first_name="Sam", last_name="Lee")
    # Red: 240 working minutes. Received 09:00 on the 18th: at risk from 11:00, breached 13:00.
    at_risk = make_enquiry("2026-03-18 09:00", rating=Rag.RED)
    # Red received the day before at 09:00: breached long before noon on the 18th.
    breached = make_enquiry("2026-03-17 09:00", rating=Rag.RED)
    fresh = make_enquiry("2026-03-18 11:30", rating=Rag.GREEN)
    Enquiry.objects.filter(pk__in=[at_risk.pk, breached.pk]).update(assignee=rosa)
    Enquiry.objects.filter(pk=fresh.pk).update(assignee=sam)

    work = running.work_per_person(now=NOW)

    assert [(w.name, w.open, w.at_risk, w.breached) for w in work] == [
        ("Rosa Reid", 2, 1, 1),
        ("Sam Lee", 1, 0, 0),
    ]
    # A minute before the at-risk minute, it is not yet at risk.
    early = running.work_per_person(now=at("2026-03-18 10:59"))
    assert (early[0].at_risk, early[0].breached) == (0, 1)


def test_the_totals_and_each_persons_work_come_from_one_count_grouped_by_assignee(
    make_enquiry, make_user, manager, django_assert_num_queries
):
    rosa = make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")
    held_escalated = make_enquiry("2026-03-18 09:00", rating=Rag.RED)
    held_late = make_enquiry("2026-03-17 09:00", rating=Rag.RED)
    loose_escalated = make_enquiry("2026-03-18 09:30", rating=Rag.RED)
    make_enquiry("2026-03-18 11:00")
    make_enquiry("2026-03-10 09:00", decided="2026-03-11 09:00")  # decided: not counted
    Enquiry.objects.filter(pk__in=[held_escalated.pk, held_late.pk]).update(assignee=rosa)
    _escalate(held_escalated, "2026-03-18 10:00", acknowledged=(manager, "2026-03-18 10:20"))
    _escalate(loose_escalated, "2026-03-18 10:30")

    with django_assert_num_queries(2):
        work = running.open_work(now=NOW)

    # The escalations held by someone and those held by nobody, both in the hub's totals.
    assert work.totals == {"escalated": 2, "acknowledged": 1, "unacknowledged": 1, "unassigned": 2}
    assert [(w.name, w.open, w.at_risk, w.breached) for w in work.people] == [
        ("Rosa Reid", 2, 1, 1)
    ]
    assert work.totals == running.open_totals(now=NOW)
    assert work.people == running.work_per_person(now=NOW)


def _request(enquiry, agency, researcher, *, due: str, status=InformationRequest.Status.REQUESTED):
    return InformationRequest.objects.create(
        enquiry=enquiry,
        agency=agency,
        question="What do you hold?",
        requested_at=at("2026-03-18 09:10"),
        requested_by=researcher,
        due_at=at(due),
        status=status,
    )


def _waiting_release(request, practitioner, researcher, *, asked: str) -> InformationRecord:
    record = InformationRecord.objects.create(
        request=request,
        enquiry=request.enquiry,
        agency=request.agency,
        person=request.enquiry.subject,
        summary="SECRET-SUMMARY",
        detail="SECRET-DETAIL",
        source_system="Niche",
        information_date=at("2026-03-01 00:00").date(),
        sensitivity=Sensitivity.SENSITIVE,
        release_status=ReleaseStatus.REQUESTED,
        recorded_by=practitioner,
    )
    ReleaseRequest.objects.create(
        record=record, requested_by=researcher, requested_at=at(asked), reason="Needed."
    )
    return record


@pytest.fixture
def agencies_late(make_enquiry, make_user, agency):
    police, health = agency, AgencyFactory(name="Health")
    researcher = make_user(Role.RESEARCHER)
    officer = make_user(Role.PRACTITIONER, agency=police)
    first = make_enquiry("2026-03-18 09:00")
    second = make_enquiry("2026-03-18 09:30")
    _request(first, police, researcher, due="2026-03-18 11:00")  # overdue at noon
    late = _request(second, police, researcher, due="2026-03-18 10:00")  # overdue, older
    _request(first, health, researcher, due="2026-03-18 15:00")  # not yet due
    _request(second, health, researcher, due="2026-03-18 10:00", status="answered")  # answered
    _waiting_release(late, officer, researcher, asked="2026-03-18 11:15")
    return police, health, first, second


def test_agencies_waiting_counts_overdue_requests_and_releases_awaiting_a_decision(
    agencies_late, manager
):
    police, health, first, second = agencies_late

    waiting = running.agencies_waiting(user=manager, now=NOW)

    assert [(a.name, a.overdue_requests, a.releases_waiting) for a in waiting] == [
        (police.name, 2, 1)
    ]
    assert waiting[0].oldest_due == at("2026-03-18 10:00")
    assert waiting[0].oldest_release_asked == at("2026-03-18 11:15")
    # Before any is due, only the release waits: it waits whatever the hour.
    early = running.agencies_waiting(user=None, now=at("2026-03-18 09:59"))
    assert [(a.name, a.overdue_requests, a.releases_waiting) for a in early] == [
        (police.name, 0, 1)
    ]


def test_the_agency_page_lists_what_is_waiting_without_any_content(
    client, agencies_late, manager, django_assert_max_num_queries
):
    police, _, first, second = agencies_late

    with django_assert_max_num_queries(8):
        page = client.get(reverse("dashboard-agency-waiting", args=[police.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    rows = re.findall(r"(T-\d{6})</a></td>", html)
    assert rows[:2] == [second.reference, first.reference]  # oldest due first
    assert "SECRET" not in html


def test_todays_flow_counts_arrivals_and_decisions_of_the_hub_day(make_enquiry):
    make_enquiry("2026-03-18 00:00")
    make_enquiry("2026-03-17 23:59", decided="2026-03-18 10:00")
    make_enquiry("2026-03-18 08:00", decided="2026-03-18 11:00")

    assert running.todays_flow(now=NOW) == {"day": NOW.date(), "arrived": 2, "decided": 2}


def test_twelve_weeks_of_on_time_decisions_by_rag(make_enquiry):
    # Week of Monday 16 March: a red on time (4 h) and a red late (next day).
    make_enquiry("2026-03-16 09:00", rating=Rag.RED, decided="2026-03-16 12:00")
    make_enquiry("2026-03-16 09:00", rating=Rag.RED, decided="2026-03-17 15:00")
    # Week of 2 March: an amber on time.
    make_enquiry("2026-03-02 09:00", rating=Rag.AMBER, decided="2026-03-02 10:00")
    # The week before the first of the twelve: outside the chart.
    make_enquiry("2025-12-22 09:00", rating=Rag.RED, decided="2025-12-22 10:00")

    weekly = running.weekly_on_time(now=NOW)

    rows = weekly["rows"]
    assert len(rows) == 12
    assert rows[0]["week"].isoformat() == "2025-12-29"
    assert rows[-1]["week"].isoformat() == "2026-03-16"
    assert rows[-1]["by_rag"][Rag.RED] == 50.0
    assert (rows[-1]["decided"], rows[-1]["on_time"]) == (2, 1)
    assert rows[-3]["by_rag"][Rag.AMBER] == 100.0
    assert rows[-2]["by_rag"] == {Rag.RED: None, Rag.AMBER: None, Rag.GREEN: None, Rag.NONE: None}
    assert weekly["chart"]["labels"][-1] == "16 Mar"
    assert [d["label"] for d in weekly["chart"]["datasets"]] == ["Red", "Amber", "Green", "No RAG"]


@pytest.mark.instant("2026-03-18T12:00")
def test_the_dashboard_links_each_figure_to_its_list_in_constant_queries(
    client, manager, make_enquiry, make_user, agencies_late, django_assert_max_num_queries
):
    def page() -> str:
        with django_assert_max_num_queries(20) as captured:
            html = client.get(reverse("manager-dashboard")).content.decode()
        counts.append(len(captured.captured_queries))
        return html

    counts: list[int] = []
    page()
    rosa = make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")
    for hour in range(9, 12):
        enquiry = make_enquiry(f"2026-03-18 {hour:02d}:00", rating=Rag.RED)
        Enquiry.objects.filter(pk=enquiry.pk).update(assignee=rosa)
        # Each acknowledged by someone else, or repeated, so every row reads its own.
        acknowledger = make_user(Role.MANAGER, first_name=f"Ack{hour}")
        _escalate(
            enquiry,
            f"2026-03-18 {hour:02d}:05",
            acknowledged=(acknowledger, f"2026-03-18 {hour:02d}:10") if hour != 11 else None,
            repeats=[manager, acknowledger],
        )
        day = f"2026-03-{hour:02d}"
        make_enquiry(f"{day} 09:00", rating=Rag.RED, decided=f"{day} 10:00")
    html = page()

    assert counts[0] == counts[1]
    assert 'data-testid="escalated-count">3<' in html
    assert '?acknowledged=no" data-testid="unacknowledged-count">1 not acknowledged<' in html
    assert '?acknowledged=yes" data-testid="acknowledged-count">2 acknowledged<' in html
    assert "by Ack10 " in html and "Ack9 " in html
    # Escalated at 11:05, noon now: 55 minutes, two repeats.
    assert "Not acknowledged</strong> 55 minutes waiting, 2 repeats sent" in html
    assert f"?assignee={rosa.pk}&amp;breached=on" in html
    assert "?escalated=on" in html and "?unassigned=on" in html
    police = agencies_late[0]
    assert reverse("dashboard-agency-waiting", args=[police.pk]) in html
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html).group(1))
    assert chart["kind"] == "line" and len(chart["labels"]) == 12


def test_the_queue_filters_escalated_and_unassigned(client, manager, make_enquiry):
    escalated = make_enquiry("2026-03-18 09:00")
    Enquiry.objects.filter(pk=escalated.pk).update(
        escalated_at=timezone.now() - timedelta(minutes=1), assignee=manager
    )
    unassigned = make_enquiry("2026-03-18 09:30")

    escalated_page = client.get(reverse("triage-queue"), {"escalated": "on"}).content.decode()
    unassigned_page = client.get(reverse("triage-queue"), {"unassigned": "on"}).content.decode()

    assert escalated.reference in escalated_page and unassigned.reference not in escalated_page
    assert unassigned.reference in unassigned_page and escalated.reference not in unassigned_page


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PRACTITIONER, Role.ANALYST])
def test_only_managers_open_an_agencys_waiting_list(client, make_user, agency, role):
    client.force_login(make_user(role))

    assert client.get(reverse("dashboard-agency-waiting", args=[agency.pk])).status_code == 403
