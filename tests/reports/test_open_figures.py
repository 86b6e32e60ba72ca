"""The dashboard's figures of open enquiries, read from the index of open enquiries (issue 23),
are those the single queries they replaced counted: the backlog as at any time, and each
person's work in the same order."""

from datetime import datetime, timedelta

import pytest
from django.db.models import Count, Q

from agencies.models import Role
from enquiries.clock import clock_in_force
from enquiries.models import Enquiry, Rag
from reports import running, selectors
from reports.dashboard import manager_dashboard_figures
from reports.periods import Period

from .conftest import LONDON, at

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=LONDON)  # a Wednesday


def backlog_in_one_query(as_at: datetime) -> dict[str, dict]:
    """The backlog's counts as one query with an OR counted them before."""
    calendar = clock_in_force().calendar
    bands = {}
    for youngest, oldest, name in selectors.AGE_BANDS:
        bands[name] = Count(
            "pk",
            filter=Q(received_at__lt=selectors.received_before_age(calendar, as_at, youngest))
            & Q(received_at__gte=selectors.received_before_age(calendar, as_at, oldest)),
        )
    oldest, name = selectors.AGE_BAND_OPEN_ENDED
    bands[name] = Count(
        "pk", filter=Q(received_at__lt=selectors.received_before_age(calendar, as_at, oldest))
    )
    return {
        row.pop("rating"): row
        for row in Enquiry.objects.filter(received_at__lt=as_at)
        .filter(Q(decided_at__isnull=True) | Q(decided_at__gte=as_at))
        .values("rating")
        .annotate(
            open=Count("pk"),
            **bands,
            at_risk=Count("pk", filter=Q(at_risk_from__lte=as_at, breached_from__gt=as_at)),
            breached=Count("pk", filter=Q(breached_from__lte=as_at)),
        )
        .order_by()
    }


def work_in_one_query(now: datetime) -> list[running.PersonsWork]:
    """Each person's work as one query joined to their names counted it before."""
    rows = (
        Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES, assignee__isnull=False)
        .values("assignee_id", "assignee__first_name", "assignee__last_name", "assignee__username")
        .annotate(
            open=Count("pk"),
            at_risk=Count("pk", filter=Q(at_risk_from__lte=now, breached_from__gt=now)),
            breached=Count("pk", filter=Q(breached_from__lte=now)),
        )
        .order_by("-breached", "-at_risk", "-open", "assignee__first_name", "assignee_id")
    )
    return [
        running.PersonsWork(
            user_id=row["assignee_id"],
            name=f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
            or row["assignee__username"],
            open=row["open"],
            at_risk=row["at_risk"],
            breached=row["breached"],
        )
        for row in rows
    ]


@pytest.fixture
def hub(make_enquiry, make_user):
    """Open enquiries of every rating and age, some at risk or breached, held by people who
    tie on their counts (ordered by first name, then id; one has only a username); decided
    ones, one of them decided only after the morning of 16 March."""
    people = [
        make_user(Role.RESEARCHER, first_name="Zoe", last_name="Young"),
        make_user(Role.RESEARCHER, first_name="amy", last_name="Ash"),
        make_user(Role.RESEARCHER, first_name="Amy", last_name="Bell"),
        make_user(Role.RESEARCHER, first_name="", last_name="", username="nameless"),
    ]
    received = [
        "2026-03-18 11:00",
        "2026-03-18 08:00",
        "2026-03-17 16:00",
        "2026-03-16 09:00",
        "2026-03-13 12:00",
        "2026-03-09 09:00",
        "2026-03-02 09:00",
        "2026-02-02 09:00",
    ]
    for index, when in enumerate(received):
        for rating in Rag.values:
            enquiry = make_enquiry(when, rating=rating)
            holder = people[(index + len(rating)) % len(people)] if index % 3 else None
            Enquiry.objects.filter(pk=enquiry.pk).update(assignee=holder)
    make_enquiry("2026-03-02 09:00", rating=Rag.RED, decided="2026-03-03 10:00")
    make_enquiry("2026-03-13 09:00", rating=Rag.AMBER, decided="2026-03-16 15:00")
    make_enquiry("2026-03-18 10:00", rating=Rag.GREEN, decided="2026-03-18 11:00")
    return people


@pytest.mark.parametrize(
    "as_at",
    [NOW, at("2026-03-16 12:00"), at("2026-03-13 23:59")],
    ids=["now", "before a decision", "a friday night"],
)
def test_the_backlog_is_what_one_query_counted(hub, as_at):
    period = Period(as_at.date(), as_at.date() + timedelta(days=1))
    names = [column.name for column in selectors.BACKLOG_COLUMNS[1:]]
    expected = backlog_in_one_query(as_at)

    report = selectors.backlog(period, now=as_at)

    for rating, row in zip(selectors.RAG_ORDER, report.rows, strict=False):
        assert {name: row[name] for name in names} == {
            name: expected.get(rating, {}).get(name, 0) for name in names
        }
    assert report.rows[-1]["open"] == sum(row["open"] for row in expected.values())


@pytest.mark.parametrize("at_", [NOW, NOW + timedelta(days=5)], ids=["now", "in five days"])
def test_each_persons_work_is_what_one_query_counted_in_its_order(hub, at_):
    work = running.work_per_person(now=at_)

    assert work == work_in_one_query(at_)
    assert "nameless" in {each.name for each in work}
    assert len(work) == 4


def test_nobodys_work_is_still_asked_for_in_two_queries(db, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert running.work_per_person(now=NOW) == []


@pytest.mark.parametrize(
    "as_at",
    [NOW, at("2026-03-16 12:00"), at("2026-03-13 23:59")],
    ids=["now", "before a decision", "a friday night"],
)
def test_the_dashboard_counts_the_backlog_with_the_work_and_as_the_report_does(
    hub, as_at, django_assert_max_num_queries
):
    """The dashboard reads the backlog's undecided enquiries in its pass over the open ones
    (`running.open_work`) and those decided since apart: the same table as the report's."""
    period = Period(as_at.date(), as_at.date() + timedelta(days=1))
    report = selectors.backlog(period, now=as_at)

    with django_assert_max_num_queries(14):
        figures = manager_dashboard_figures(now=as_at)

    assert figures["backlog"].rows == report.rows
    assert figures["backlog"].as_at == report.as_at == as_at
    assert figures["total"] == report.rows[-1]
    assert figures["work"] == work_in_one_query(as_at)
    assert figures["open_totals"] == running.open_totals(now=as_at)
