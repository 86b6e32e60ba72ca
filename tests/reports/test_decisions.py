"""The decisions by day (issue 23): the counts PostgreSQL keeps as enquiries are written are
always those counted from the enquiries, however they were written, and the dashboard's
figures read from them are those the reports count from the enquiries."""

import threading
import time
from dataclasses import asdict, fields
from datetime import date, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from agencies.models import Role
from core import bulk
from enquiries.models import Enquiry, Outcome, Rag
from enquiries.services import enquiry_decide
from reports import decisions, running, selectors
from reports.dashboard import manager_dashboard_figures
from reports.models import DecisionDay, DecisionSummary
from reports.periods import Period, last_full_month, month_so_far
from reports.tasks import keep_decisions_by_day

from .conftest import LONDON, at

pytestmark = pytest.mark.django_db

# A Wednesday in the summer (BST): the twelve weeks before it, last month and this one.
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=LONDON)
EVER = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture(autouse=True)
def summary():
    """The summary as the migration leaves it (a flushing test elsewhere may have emptied it)."""
    decisions.rebuild()
    return DecisionSummary.objects.get(zone="Europe/London")


def kept() -> list[dict]:
    names = [field.name for field in fields(decisions.Decisions)]
    return sorted(DecisionDay.objects.values(*names), key=_order)


def counted() -> list[dict]:
    return sorted((asdict(each) for each in decisions.counted_from_enquiries(*EVER)), key=_order)


def _order(row: dict) -> tuple:
    return (row["day"], row["rating"], row["allowance_minutes"])


def test_decisions_counted_as_written_are_those_counted_from_the_enquiries(make_enquiry, make_user):
    manager = make_user(Role.MANAGER)
    # Decided as they were made, either side of local midnight in summer time (00:30 BST is
    # 23:30 UTC the day before) and of the clocks going forward (29 March) and back.
    make_enquiry("2026-03-27 09:00", rating=Rag.RED, decided="2026-03-28 00:30")
    make_enquiry("2026-03-28 22:00", rating=Rag.RED, decided="2026-03-28 23:59")
    make_enquiry("2026-03-28 22:00", rating=Rag.RED, decided="2026-03-29 03:00")
    make_enquiry("2026-04-14 09:00", rating=Rag.AMBER, decided="2026-04-15 00:00")
    make_enquiry("2025-10-24 09:00", rating=Rag.GREEN, decided="2025-10-26 01:30")
    # Decided by the service now, one of them recorded late: decided yesterday.
    for received, decided_at in (
        ("2026-04-15 09:00", None),
        ("2026-04-13 09:00", "2026-04-14 16:00"),
    ):
        enquiry = make_enquiry(received, rating=Rag.AMBER)
        enquiry_decide(
            enquiry=enquiry,
            actor=manager,
            outcome=Outcome.objects.get(code="nfa"),
            rationale="Nothing more to do.",
            expected_version=enquiry.version,
            decided_at=at(decided_at) if decided_at else None,
            now=NOW,
        )
    assert kept() == counted()

    # Corrected after the decision: re-rated, the allowance it ran under, on time or not.
    red = Enquiry.objects.filter(rating=Rag.RED).order_by("decided_at").first()
    Enquiry.objects.filter(pk=red.pk).update(rating=Rag.AMBER, decided_on_time=False)
    Enquiry.objects.filter(rating=Rag.GREEN).update(allowance_minutes=2880)
    assert kept() == counted()

    # Decided at another time, on another day; reopened; deleted.
    moved = Enquiry.objects.filter(rating=Rag.RED).first()
    Enquiry.objects.filter(pk=moved.pk).update(decided_at=at("2026-04-01 10:00"))
    reopened = Enquiry.objects.filter(rating=Rag.AMBER).order_by("-decided_at").first()
    Enquiry.objects.filter(pk=reopened.pk).update(
        state=Enquiry.State.AWAITING_DECISION, decided_at=None, decided_on_time=None
    )
    assert kept() == counted()
    Enquiry.objects.filter(pk=moved.pk).delete()
    assert kept() == counted()


def test_decisions_loaded_in_bulk_are_counted(make_enquiry):
    """An import or the demo's seed writes enquiries with COPY: one statement, many days."""
    template = make_enquiry("2026-04-01 09:00", rating=Rag.GREEN, decided="2026-04-02 09:00")
    fields = [
        field.attname
        for field in Enquiry._meta.concrete_fields
        if field.attname not in ("id", "reference", "created_at", "updated_at")
    ]
    rows = []
    for number in range(60):
        decided_at = at("2026-02-01 00:15") + timedelta(hours=17 * number)
        row = {name: getattr(template, name) for name in fields}
        row |= {
            "reference": f"B-{number:04d}",
            "received_at": decided_at - timedelta(hours=2),
            "decided_at": decided_at,
            "decided_on_time": number % 3 != 0,
            "allowance_minutes": 1440 if number % 2 else 2880,
        }
        rows.append(row)

    bulk.insert_rows(Enquiry, rows)

    assert kept() == counted()
    assert sum(row["decided"] for row in kept()) == 61


def test_a_rebuild_counts_what_the_triggers_kept(make_enquiry):
    make_enquiry("2026-03-02 09:00", rating=Rag.RED, decided="2026-03-02 10:00")
    make_enquiry("2026-03-29 00:30", rating=Rag.AMBER, decided="2026-03-29 01:30")
    before = kept()

    assert decisions.rebuild() == 2
    assert kept() == before == counted()


def test_an_emptied_enquiries_table_empties_the_counts(make_enquiry):
    make_enquiry("2026-03-02 09:00", rating=Rag.RED, decided="2026-03-02 10:00")
    assert DecisionDay.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's writes checked first
        cursor.execute("TRUNCATE enquiries_enquiry CASCADE")

    assert not DecisionDay.objects.exists()


def _history(make_enquiry) -> None:
    """Decisions over fourteen weeks up to NOW: every rating, on time and late, an allowance
    that changed during this month and on the day it did, days either side of midnight in
    summer time, and today's decisions before and after NOW."""
    for week in range(14):
        monday = date(2026, 1, 5) + timedelta(weeks=week)
        for offset, rating in enumerate(Rag.values):
            day = monday + timedelta(days=offset)
            make_enquiry(f"{day} 09:00", rating=rating, decided=f"{day} 10:00")
            make_enquiry(f"{day} 09:00", rating=rating, decided=f"{day + timedelta(3)} 16:00")
    make_enquiry("2026-03-31 22:00", rating=Rag.RED, decided="2026-04-01 00:30")
    make_enquiry("2026-04-14 23:00", rating=Rag.GREEN, decided="2026-04-15 00:10")
    make_enquiry("2026-04-15 09:00", rating=Rag.RED, decided="2026-04-15 11:00")
    make_enquiry("2026-04-15 09:00", rating=Rag.RED, decided="2026-04-15 13:00")  # after NOW
    make_enquiry("2026-04-15 09:00")  # arrived today, still open
    # Amber's allowance was 480, then 120 from 9 April at noon.
    for day, allowance in (("2026-04-08", 480), ("2026-04-09", 480), ("2026-04-09", 120)):
        decided = make_enquiry(f"{day} 09:00", rating=Rag.AMBER, decided=f"{day} 17:00")
        Enquiry.objects.filter(pk=decided.pk).update(allowance_minutes=allowance)
    Enquiry.objects.filter(allowance_minutes=120, rating=Rag.AMBER).update(
        decided_at=at("2026-04-09 12:30")
    )


def _dashboard_columns(rows: list[dict]) -> list[dict]:
    names = ("rag", "allocated_minutes", "enquiries", "on_time", "on_time_percent")
    return [{name: row[name] for name in names} for row in rows]


@pytest.mark.parametrize("summarised", [True, False], ids=["summary", "no summary"])
def test_the_dashboards_figures_are_those_counted_from_the_enquiries(make_enquiry, summarised):
    _history(make_enquiry)
    if not summarised:
        DecisionSummary.objects.all().delete()

    figures = manager_dashboard_figures(now=NOW)

    today = NOW.date()
    for month, key in ((month_so_far(today), "this_month"), (last_full_month(today), "last_month")):
        expected = _dashboard_columns(selectors.timeliness(month).rows)
        assert [row[key] for row in figures["timeliness"]] == expected
    assert figures["timeliness"][1]["allocated_minutes"] == [480, 120]
    weekly = running.weekly_on_time(now=NOW)
    assert figures["weeks"] == weekly["rows"]
    assert figures["chart"] == weekly["chart"]
    assert figures["today"] == {"day": today, "arrived": 3, "decided": 3}
    assert figures["weeks"][-1]["decided"] == 2  # the decision after NOW waits for its time


def test_the_summary_of_another_time_zone_is_not_read(make_enquiry, summary, settings):
    make_enquiry("2026-04-14 23:30", rating=Rag.RED, decided="2026-04-15 00:30")
    settings.TIME_ZONE = "America/New_York"

    with timezone.override("America/New_York"):
        found = decisions.decisions_by_day(date(2026, 4, 1), date(2026, 5, 1))

    assert [(each.day, each.decided) for each in found] == [(date(2026, 4, 14), 1)]


def test_the_summary_is_read_in_one_query_and_the_fallback_in_two(
    make_enquiry, django_assert_num_queries
):
    make_enquiry("2026-04-01 09:00", rating=Rag.RED, decided="2026-04-01 10:00")
    period = Period(date(2026, 4, 1), date(2026, 4, 2))

    with django_assert_num_queries(1):
        read = decisions.decisions_by_day(period.start, period.end)
    DecisionSummary.objects.all().delete()
    with django_assert_num_queries(2):
        counted_again = decisions.decisions_by_day(period.start, period.end)

    assert read == counted_again
    assert [(each.day, each.decided) for each in read] == [(date(2026, 4, 1), 1)]


def test_the_hourly_task_builds_a_missing_summary_and_leaves_one_alone(make_enquiry):
    make_enquiry("2026-03-02 09:00", rating=Rag.RED, decided="2026-03-02 10:00")
    assert keep_decisions_by_day() == {"rebuilt": None}

    DecisionSummary.objects.all().delete()
    assert keep_decisions_by_day() == {"rebuilt": 1}
    assert kept() == counted()


def _in_two_transactions(first_write, second_write) -> None:
    """`first_write` in a transaction that stays open a moment after `second_write`, in
    another connection, has begun (and waits on it, if it must); both commit."""
    first_wrote, errors = threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():
                first_write()
                first_wrote.set()
                time.sleep(0.5)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            first_wrote.set()
            connections.close_all()

    def second() -> None:
        try:
            first_wrote.wait(timeout=10)
            with transaction.atomic():
                second_write()
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors


def _decide(pk: int, at_: str) -> None:
    Enquiry.objects.filter(pk=pk).update(
        state=Enquiry.State.DECIDED, decided_at=at(at_), decided_on_time=True
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counted_again_first", [True, False], ids=["recount first", "add first"])
def test_writers_of_the_same_day_at_once_are_all_counted(make_enquiry, counted_again_first):
    """Two transactions at once on one day's counts: two decisions added, or one decision
    corrected (the day counted again) while another is added; neither is lost."""
    decided = make_enquiry("2026-04-14 09:00", rating=Rag.RED, decided="2026-04-14 10:00")
    first, second = (make_enquiry("2026-04-14 09:00", rating=Rag.RED) for _ in range(2))

    _in_two_transactions(
        lambda: _decide(first.pk, "2026-04-14 11:00"),
        lambda: _decide(second.pk, "2026-04-14 12:00"),
    )
    assert kept() == counted()
    assert kept()[0]["decided"] == 3

    third = make_enquiry("2026-04-14 09:00", rating=Rag.RED)
    correct = lambda: Enquiry.objects.filter(pk=decided.pk).update(decided_on_time=False)  # noqa: E731
    add = lambda: _decide(third.pk, "2026-04-14 13:00")  # noqa: E731
    _in_two_transactions(*((correct, add) if counted_again_first else (add, correct)))
    assert kept() == counted()
    assert (kept()[0]["decided"], kept()[0]["on_time"]) == (4, 3)
