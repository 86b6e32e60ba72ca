"""The hub's decisions counted by day, rating and allowance, for figures over long periods (the
dashboard's twelve weeks, and this month's and last month's timeliness).

PostgreSQL keeps the counts in `DecisionDay` (reports migration 0002 adds the triggers that
keep them, in the transaction of each write to the enquiries, so today's are as current as
the enquiries): the dashboard reads them in one indexed read of a few hundred rows, where
adding up the enquiries decided in twelve weeks took over a second at a million enquiries
(issue 23). Without a summary in the hub's time zone (SQLite, a zone changed since it was
built, a flushed table) the same rows are counted from the enquiries, so the figures never
depend on which was read; the hourly `keep_decisions_by_day` builds a missing one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, FilteredRelation, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from enquiries.models import Enquiry, Rag

from .models import DecisionDay, DecisionSummary
from .periods import Period, local_midnight
from .selectors import OVERALL, RAG_ORDER, percent


@dataclass(frozen=True)
class Decisions:
    """The decisions of one day of one rating that ran under one allowance."""

    day: date
    rating: str
    allowance_minutes: int
    decided: int
    on_time: int
    first_decided_at: datetime


def counted_from_enquiries(start: date, end: date) -> list[Decisions]:
    """The days from `start` up to `end` (excluded), counted from the enquiries decided then."""
    zone = timezone.get_current_timezone()
    return _counted(
        Q(decided_at__gte=local_midnight(start, zone), decided_at__lt=local_midnight(end, zone))
    )


def _counted(decided: Q) -> list[Decisions]:
    rows = (
        Enquiry.objects.filter(decided)
        .annotate(day=TruncDate("decided_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "rating", "allowance_minutes")
        .annotate(
            decided=Count("pk"),
            on_time=Count("pk", filter=Q(decided_on_time=True)),
            first_decided_at=Min("decided_at"),
        )
        .order_by()
    )
    return [Decisions(**row) for row in rows]


def decisions_by_day(start: date, end: date) -> list[Decisions]:
    """The days from `start` up to `end` (excluded): read from the summary in one query, or,
    with none in the hub's zone, counted from the enquiries in a second."""
    # From the summary, so that a summary with nothing in the period still gives one row
    # (all empty): no row at all says there is no summary to read.
    rows = (
        DecisionSummary.objects.filter(zone=timezone.get_current_timezone_name())
        .annotate(
            found=FilteredRelation("days", condition=Q(days__day__gte=start, days__day__lt=end))
        )
        .values(
            "found__day",
            "found__rating",
            "found__allowance_minutes",
            "found__decided",
            "found__on_time",
            "found__first_decided_at",
        )
    )
    read = list(rows)
    if not read:
        return counted_from_enquiries(start, end)
    return [
        Decisions(
            day=row["found__day"],
            rating=row["found__rating"],
            allowance_minutes=row["found__allowance_minutes"],
            decided=row["found__decided"],
            on_time=row["found__on_time"],
            first_decided_at=row["found__first_decided_at"],
        )
        for row in read
        if row["found__day"] is not None
    ]


def in_period(decisions: Iterable[Decisions], period: Period) -> list[Decisions]:
    return [each for each in decisions if period.start <= each.day < period.end]


def timeliness_rows(decisions: Iterable[Decisions]) -> list[dict[str, Any]]:
    """What `selectors.timeliness` says of a period in the columns the dashboard shows (RAG,
    the allowances in the order they first applied, decided, on time and its share), from
    its days' decisions."""
    counts: dict[str, Counter[str]] = {}
    firsts: dict[tuple[str, int], datetime] = {}
    for each in decisions:
        counts.setdefault(each.rating, Counter()).update(
            {"enquiries": each.decided, "on_time": each.on_time}
        )
        key = (each.rating, each.allowance_minutes)
        firsts[key] = min(firsts.get(key, each.first_decided_at), each.first_decided_at)
    allowances: dict[str, list[int]] = {}
    for (rating, allowance), _first in sorted(
        firsts.items(), key=lambda item: (item[1], item[0][1])
    ):
        allowances.setdefault(rating, []).append(allowance)
    rows = [
        _row(Rag(rating).label, allowances.get(rating), counts.get(rating, Counter()))
        for rating in RAG_ORDER
    ]
    overall: Counter[str] = Counter()
    for found in counts.values():
        overall.update(found)
    rows.append(_row(OVERALL, None, overall))
    return rows


def _row(label: str, allocated: list[int] | None, found: Counter[str]) -> dict[str, Any]:
    return {
        "rag": label,
        "allocated_minutes": allocated,
        "enquiries": found["enquiries"],
        "on_time": found["on_time"],
        "on_time_percent": percent(found["on_time"], found["enquiries"]),
    }


def weekly_counts(
    decisions: Iterable[Decisions], *, leaving_out: Iterable[Decisions] = ()
) -> dict[tuple[date, str], dict[str, int]]:
    """Decided and on time by (Monday of the week, rating), for `running.weekly_figures`,
    less the decisions `leaving_out` (which `decisions` hold too)."""
    counts: dict[tuple[date, str], dict[str, int]] = {}
    for sign, each in [(1, each) for each in decisions] + [(-1, each) for each in leaving_out]:
        monday = each.day - timedelta(days=each.day.weekday())
        found = counts.setdefault((monday, each.rating), {"decided": 0, "on_time": 0})
        found["decided"] += sign * each.decided
        found["on_time"] += sign * each.on_time
    return counts


def rebuild(*, now: datetime | None = None) -> int:
    """Count every decision afresh into a summary in the hub's zone, dropping any other zone's
    (after `TIME_ZONE` changed, or a flush emptied the table); how many rows it wrote.

    Writers of enquiries wait meanwhile (SHARE mode lets readers on): a decision written
    during the count would otherwise be missed by it and by the triggers both."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE enquiries_enquiry IN SHARE MODE")
        DecisionSummary.objects.all().delete()
        summary = DecisionSummary.objects.create(
            zone=timezone.get_current_timezone_name(), built_at=now or timezone.now()
        )
        days = _counted(Q(decided_at__isnull=False))
        DecisionDay.objects.bulk_create(
            (DecisionDay(summary=summary, **asdict(each)) for each in days), batch_size=5000
        )
        return len(days)


def keep_summary() -> int | None:
    """Build the summary if there is none in the hub's zone (the zone changed, or a flush
    emptied the table): how many rows it wrote, or None if there was one already."""
    if connection.vendor != "postgresql":
        return None
    if DecisionSummary.objects.filter(zone=timezone.get_current_timezone_name()).exists():
        return None
    return rebuild()
