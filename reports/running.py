"""What a manager needs to run the hub now (issue 20, the dashboard): escalations, unassigned
work, who holds what, which agencies are late or have releases waiting, today's arrivals
against decisions, and twelve weeks of on-time decisions by RAG.

Every figure is an aggregate in the database, a fixed number of queries whatever the size of
the hub; each links to the list behind it. Agency information is only ever counted here: the
requests and records come through the firewall's counting querysets.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from agencies.models import User
from enquiries.models import Enquiry, EscalationRepeat, Rag
from sharing import firewall
from sharing.models import InformationRequest, ReleaseStatus

from .decisions import Decisions
from .selectors import RAG_ORDER, percent

WEEKS = 12
ESCALATIONS_SHOWN = 10


@dataclass(frozen=True)
class PersonsWork:
    user_id: int
    name: str
    open: int
    at_risk: int
    breached: int


@dataclass(frozen=True)
class AgencyWaiting:
    agency_id: int
    name: str
    overdue_requests: int
    oldest_due: datetime | None
    releases_waiting: int
    oldest_release_asked: datetime | None


def _open() -> "Q":
    """Open enquiries. Without a decision too, which every open enquiry is (the check
    constraint enquiry_decided_state_has_decision_time): said, it lets PostgreSQL count them
    from the dashboard's index of open enquiries alone (reports migration 0003)."""
    return Q(state__in=Enquiry.OPEN_STATES, decided_at__isnull=True)


@dataclass(frozen=True)
class OpenWork:
    """The open enquiries as the dashboard counts them: the hub's totals (open escalations,
    those a manager acknowledged and those nobody has yet, and the unassigned), each
    assignee's work (`PersonsWork`) and, if asked for, the backlog's figures by rating."""

    totals: dict[str, int]
    people: list[PersonsWork]
    by_rating: dict[str, Counter[str]]


BACKLOG_PREFIX = "backlog_"


def open_work(*, now: datetime, backlog: Mapping[str, Count] | None = None) -> OpenWork:
    """All from one pass over the index of open enquiries, grouped by assignee and rating
    (the unassigned a group of their own), then the assignees' names: two queries. The
    totals, each person's work and each rating's figures are the groups' sums, a few dozen
    numbers, not the enquiries. Counted apart, the totals and the backlog's undecided
    enquiries read every open enquiry twice more (5.7 and 9.0 ms of the dashboard's SQL at
    1,000,000). `backlog` is `selectors.backlog_counts` for the enquiries it counts."""
    escalated = Q(escalated_at__isnull=False)
    by_rating = {f"{BACKLOG_PREFIX}{name}": count for name, count in (backlog or {}).items()}
    groups: list[dict[str, Any]] = [
        dict(group)
        for group in Enquiry.objects.filter(_open())
        .values("assignee_id", "rating")
        .annotate(
            open=Count("pk"),
            at_risk=Count("pk", filter=Q(at_risk_from__lte=now, breached_from__gt=now)),
            breached=Count("pk", filter=Q(breached_from__lte=now)),
            escalated=Count("pk", filter=escalated),
            acknowledged=Count(
                "pk", filter=escalated & Q(escalation_acknowledged_at__isnull=False)
            ),
            unacknowledged=Count(
                "pk", filter=escalated & Q(escalation_acknowledged_at__isnull=True)
            ),
            **by_rating,
        )
        .order_by()
    ]
    totals = {
        name: sum(group[name] for group in groups)
        for name in ("escalated", "acknowledged", "unacknowledged")
    }
    totals["unassigned"] = sum(group["open"] for group in groups if group["assignee_id"] is None)
    counts: dict[int, Counter[str]] = {}
    ratings: dict[str, Counter[str]] = {}
    for group in groups:
        if group["assignee_id"] is not None:
            counts.setdefault(group["assignee_id"], Counter()).update(
                {name: group[name] for name in ("open", "at_risk", "breached")}
            )
        if by_rating:
            ratings.setdefault(group["rating"], Counter()).update(
                {name.removeprefix(BACKLOG_PREFIX): group[name] for name in by_rating}
            )
    # With 0, which is nobody's id, it is asked even when nobody holds work: the page's
    # queries are the same in number whatever the hub holds.
    people = User.objects.filter(pk__in=[*counts, 0]).values(
        "id", "first_name", "last_name", "username"
    )
    work = [
        PersonsWork(
            user_id=person["id"],
            name=f"{person['first_name']} {person['last_name']}".strip() or person["username"],
            open=counts[person["id"]]["open"],
            at_risk=counts[person["id"]]["at_risk"],
            breached=counts[person["id"]]["breached"],
        )
        for person in people.order_by("first_name", "id")
    ]
    # Most pressed first; a stable sort keeps the database's order of names among equals.
    work.sort(key=lambda each: (-each.breached, -each.at_risk, -each.open))
    return OpenWork(totals=totals, people=work, by_rating=ratings)


def open_totals(*, now: datetime) -> dict[str, int]:
    """Open escalations (acknowledged by a manager, and not yet) and unassigned enquiries."""
    return open_work(now=now).totals


@dataclass(frozen=True)
class OpenEscalation:
    """An open escalation as the dashboard lists it: the enquiry (with who holds it, and who
    acknowledged it and when), the minutes since it was escalated, and how many times it
    was repeated to another manager."""

    enquiry: Enquiry
    minutes_waiting: int
    repeats: int


def open_escalations(*, now: datetime, limit: int = ESCALATIONS_SHOWN) -> list[OpenEscalation]:
    """The latest escalations still open, newest first: one query."""
    repeats = (
        EscalationRepeat.objects.filter(
            enquiry=OuterRef("pk"), escalated_at=OuterRef("escalated_at")
        )
        .order_by()
        .values("enquiry")
        .annotate(count=Count("pk"))
        .values("count")
    )
    enquiries = (
        Enquiry.objects.filter(_open(), escalated_at__isnull=False)
        .select_related("assignee", "subject", "escalation_acknowledged_by")
        .annotate(repeats=Coalesce(Subquery(repeats), 0))
        .only(
            "reference",
            "escalated_at",
            "escalation_acknowledged_at",
            "rating",
            "deadline",
            "assignee__first_name",
            "assignee__last_name",
            "assignee__username",
            "subject__first_name",
            "subject__last_name",
            "escalation_acknowledged_by__first_name",
            "escalation_acknowledged_by__last_name",
            "escalation_acknowledged_by__username",
        )
        .order_by("-escalated_at", "-id")[:limit]
    )
    return [
        OpenEscalation(
            enquiry=enquiry,
            # Every one has a time: only escalated enquiries are read.
            minutes_waiting=max(
                0, int((now - cast(datetime, enquiry.escalated_at)).total_seconds() // 60)
            ),
            repeats=getattr(enquiry, "repeats", 0),
        )
        for enquiry in enquiries
    ]


def work_per_person(*, now: datetime) -> list[PersonsWork]:
    """Each assignee's open enquiries, at risk and breached at `now`, most pressed first (then
    by first name and id, as the database orders names)."""
    return open_work(now=now).people


def agencies_waiting(*, user: User | None, now: datetime) -> list[AgencyWaiting]:
    """Per agency: open requests past their due time, and sensitive records whose release
    someone asked for and the agency has not yet decided. Two grouped queries."""
    overdue: dict[int, dict] = {
        row["agency_id"]: dict(row)
        for row in firewall.countable_requests(user)
        .filter(status__in=InformationRequest.OPEN_STATUSES, due_at__lte=now)
        .values("agency_id", "agency__name")
        .annotate(count=Count("pk"), oldest=Min("due_at"))
        .order_by()
    }
    waiting: dict[int, dict] = {
        row["agency_id"]: dict(row)
        for row in firewall.countable_records(user)
        .filter(release_status=ReleaseStatus.REQUESTED)
        .values("agency_id", "agency__name")
        .annotate(count=Count("pk", distinct=True), oldest=Min("release_requests__requested_at"))
        .order_by()
    }
    agencies = []
    for agency_id in overdue.keys() | waiting.keys():
        late: dict = overdue.get(agency_id, {})
        asked: dict = waiting.get(agency_id, {})
        agencies.append(
            AgencyWaiting(
                agency_id=agency_id,
                name=(late or asked)["agency__name"],
                overdue_requests=late.get("count", 0),
                oldest_due=late.get("oldest"),
                releases_waiting=asked.get("count", 0),
                oldest_release_asked=asked.get("oldest"),
            )
        )
    return sorted(agencies, key=lambda a: (-a.overdue_requests, -a.releases_waiting, a.name))


def todays_flow(*, now: datetime) -> dict:
    """Enquiries received today (hub time) against decisions made today, in one query."""
    today = timezone.localdate(now)
    start = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    end = start + timedelta(days=1)
    arrived = Q(received_at__gte=start, received_at__lt=end)
    decided = Q(decided_at__gte=start, decided_at__lt=end)
    figures = Enquiry.objects.filter(arrived | decided).aggregate(
        arrived=Count("pk", filter=arrived), decided=Count("pk", filter=decided)
    )
    return {"day": today, **figures}


def decided_later_today(*, now: datetime) -> list[Decisions]:
    """Decisions dated after `now` but today (hub time), which the weekly chart leaves out
    until their time: none that the services or an import would record (both refuse a
    decision in the future), so one look along the index of decision times."""
    day = timezone.localdate(now)
    end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.get_current_timezone()
    )
    return [
        Decisions(day=day, **row)
        for row in Enquiry.objects.filter(decided_at__gt=now, decided_at__lt=end)
        .values("rating", "allowance_minutes")
        .annotate(
            decided=Count("pk"),
            on_time=Count("pk", filter=Q(decided_on_time=True)),
            first_decided_at=Min("decided_at"),
        )
        .order_by()
    ]


def mondays(*, now: datetime, weeks: int = WEEKS) -> list[date]:
    """The Monday of each of the last `weeks` weeks (hub time), the current week last."""
    this_monday = timezone.localdate(now) - timedelta(days=timezone.localdate(now).weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def weekly_on_time(*, now: datetime, weeks: int = WEEKS) -> dict:
    """On-time decisions by RAG for each of the last `weeks` weeks (Monday to Sunday, hub
    time; the current week so far last), counted from the enquiries in one grouped query.
    The dashboard reads the same from the decisions by day (`reports.decisions`)."""
    zone = timezone.get_current_timezone()
    weeks_shown = mondays(now=now, weeks=weeks)
    start = datetime.combine(weeks_shown[0], datetime.min.time(), tzinfo=zone)
    counts: dict[tuple[date, str], dict[str, int]] = {}
    for row in (
        Enquiry.objects.filter(decided_at__gte=start, decided_at__lte=now)
        .annotate(week=TruncWeek("decided_at", tzinfo=zone))
        .values("week", "rating")
        .annotate(decided=Count("pk"), on_time=Count("pk", filter=Q(decided_on_time=True)))
        .order_by()
    ):
        week = row["week"]
        day = week.date() if isinstance(week, datetime) else week
        counts[(day, row["rating"])] = {"decided": row["decided"], "on_time": row["on_time"]}
    return weekly_figures(weeks_shown, counts)


def weekly_figures(weeks: list[date], counts: dict[tuple[date, str], dict[str, int]]) -> dict:
    """The chart's figures and the table that says the same in words, from the decided and
    on-time counts of each (Monday, rating)."""
    rows: list[dict[str, Any]] = []
    for monday in weeks:
        cells: dict[str, float | None] = {}
        for rating in RAG_ORDER:
            found = counts.get((monday, rating), {})
            cells[rating] = percent(found.get("on_time", 0), found.get("decided", 0))
        decided = sum(counts.get((monday, r), {}).get("decided", 0) for r in RAG_ORDER)
        on_time = sum(counts.get((monday, r), {}).get("on_time", 0) for r in RAG_ORDER)
        rows.append({"week": monday, "by_rag": cells, "decided": decided, "on_time": on_time})
    return {
        "rows": rows,
        "chart": {
            "kind": "line",
            "percent": True,
            "labels": [f"{monday.day} {monday:%b}" for monday in weeks],
            "datasets": [
                {
                    "label": Rag(rating).label,
                    "data": [row["by_rag"][rating] for row in rows],
                    "colour": RAG_COLOURS[rating],
                }
                for rating in RAG_ORDER
            ],
        },
    }


# The GOV.UK colours of the RAG tags, so the chart reads as the queue does.
RAG_COLOURS = {
    Rag.RED: "#d4351c",
    Rag.AMBER: "#f47738",
    Rag.GREEN: "#00703c",
    Rag.NONE: "#505a5f",
}


def agency_waiting_lists(*, user: User, agency_id: int, now: datetime, limit: int = 100) -> dict:
    """The overdue requests and the release requests waiting on one agency, oldest first,
    `limit` of each: references, times and who asked, never the records' content."""
    requests = list(
        firewall.visible_requests(user)
        .filter(agency_id=agency_id, status__in=InformationRequest.OPEN_STATUSES, due_at__lte=now)
        .select_related("enquiry", "requested_by")
        .only(
            "due_at",
            "requested_at",
            "chase_count",
            "enquiry__reference",
            "requested_by__first_name",
            "requested_by__last_name",
            "requested_by__username",
        )
        .order_by("due_at", "id")[:limit]
    )
    releases = list(
        firewall.visible_records(user)
        .filter(agency_id=agency_id, release_status=ReleaseStatus.REQUESTED)
        .annotate(asked_at=Min("release_requests__requested_at"))
        .values("pk", "enquiry__reference", "asked_at")
        .order_by("asked_at", "pk")[:limit]
    )
    return {"requests": requests, "releases": releases, "limit": limit}
