"""The hub's reports (docs/domain.md section 7), each computed by a fixed number of aggregate
queries.

A report is a table: named columns (the CSV header and JSON keys) and rows of counts, never
anything about a person. The pages, the downloads and `manage.py report` all build reports
here, so the figures agree wherever they are read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from agencies.models import User
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.models import Enquiry, OnwardReferral, Outcome, Rag
from enquiries.selectors import RE_REFERRAL_MONTHS
from enquiries.worktime import working_days_between
from sharing import firewall
from sharing.models import DomesticAbuseNotification, InformationRequest

from .aggregates import MonthsEarlier, Percentile
from .models import NfaReview
from .periods import Period, last_full_month, local_midnight, long_date

RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.NONE)
NFA = "nfa"
OVERALL = "Overall"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str = "count"  # label, count, percent, minutes, rate, allowances


@dataclass(frozen=True)
class Chart:
    """What to draw: one bar (or line) series per column, one group per row's label."""

    kind: str
    label_column: str
    series: tuple[str, ...]
    rows: str = "all"  # "all", or the `breakdown` value of the rows to draw
    percent: bool = False


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    period: Period
    columns: tuple[Column, ...]
    rows: list[dict]
    compared_with: Period | None = None
    as_at: datetime | None = None
    notes: tuple[str, ...] = field(default=())

    def chart_rows(self, chart: Chart) -> list[dict]:
        if chart.rows == "all":
            return [row for row in self.rows if row.get(chart.label_column) != OVERALL]
        return [row for row in self.rows if row.get("breakdown") == chart.rows]


def percent(part: int, whole: int) -> float | None:
    """A share to one decimal place; no share at all when there is nothing to share."""
    return None if not whole else round(100 * part / whole, 1)


def _decided_in(period: Period) -> Q:
    return Q(decided_at__gte=period.start_at, decided_at__lt=period.end_at)


def _received_in(period: Period) -> Q:
    return Q(received_at__gte=period.start_at, received_at__lt=period.end_at)


def _rag_label(rating: str) -> str:
    return Rag(rating).label


# Timeliness ---------------------------------------------------------------------------------

TIMELINESS_COLUMNS = (
    Column("rag", "RAG", "label"),
    # The allowances the period's enquiries ran under, in the order they applied: [480, 120].
    Column("allocated_minutes", "Working minutes allocated", "allowances"),
    Column("enquiries", "Enquiries decided"),
    Column("on_time", "Decided on time"),
    Column("on_time_percent", "% on time", "percent"),
    Column("referred_on", "Referred on"),
    Column("referral_accepted", "Referral accepted"),
)


def _referred(**status) -> Q:
    """An enquiry with an onward referral (in that status, if given)."""
    return Q(Exists(OnwardReferral.objects.filter(enquiry_id=OuterRef("pk"), **status)))


def timeliness(period: Period, **_) -> Report:
    """From receipt to the manager's decision, for enquiries decided in the period; on time
    was settled by the clock when each was decided (`Enquiry.decided_on_time`).

    The working minutes allocated are those each enquiry ran under (`allowance_minutes`,
    kept from its clock when it was decided), never today's: a changed allowance leaves past
    periods as they were. One query groups the decisions by rating and allowance; the
    allowances of a rating read in the order they first applied ("480 then 120").
    """
    groups = (
        Enquiry.objects.filter(_decided_in(period))
        .values("rating", "allowance_minutes")
        .annotate(
            enquiries=Count("pk"),
            on_time=Count("pk", filter=Q(decided_on_time=True)),
            referred_on=Count("pk", filter=_referred()),
            referral_accepted=Count("pk", filter=_referred(status=OnwardReferral.Status.ACCEPTED)),
            first_decided=Min("decided_at"),
        )
        .order_by("first_decided", "allowance_minutes")
    )
    counts: dict[str, Counter[str]] = {}
    allowances: dict[str, list[int]] = {}
    for group in groups:
        found: dict[str, Any] = dict(group)
        counts.setdefault(found["rating"], Counter()).update(
            {name: found[name] for name in TIMELINESS_COUNTS}
        )
        allowances.setdefault(found["rating"], []).append(found["allowance_minutes"])
    rows = [
        _timeliness_row(_rag_label(rating), allowances.get(rating), counts.get(rating, {}))
        for rating in RAG_ORDER
    ]
    overall = {name: sum(row[name] for row in rows) for name in TIMELINESS_COUNTS}
    rows.append(_timeliness_row(OVERALL, None, overall))
    notes = tuple(
        f"The {_rag_label(rating)} allowance changed during the period: the enquiries decided "
        f"in it ran under {allowance_text(allowances[rating])} working minutes, in that order."
        for rating in RAG_ORDER
        if len(allowances.get(rating, ())) > 1
    )
    return Report("timeliness", "Timeliness", period, TIMELINESS_COLUMNS, rows, notes=notes)


TIMELINESS_COUNTS = ("enquiries", "on_time", "referred_on", "referral_accepted")


def allowance_text(minutes: list[int]) -> str:
    """The allowances a rating's enquiries ran under, as read: "240", "480 then 120"."""
    return " then ".join(f"{each:,}" for each in minutes)


def _timeliness_row(label: str, allocated: list[int] | None, found: Mapping[str, Any]) -> dict:
    enquiries, on_time = found.get("enquiries", 0), found.get("on_time", 0)
    return {
        "rag": label,
        "allocated_minutes": allocated,
        "enquiries": enquiries,
        "on_time": on_time,
        "on_time_percent": percent(on_time, enquiries),
        "referred_on": found.get("referred_on", 0),
        "referral_accepted": found.get("referral_accepted", 0),
    }


# Volumes ------------------------------------------------------------------------------------

VOLUMES_COLUMNS = (
    Column("measure", "Measure", "label"),
    Column("enquiries", "Count"),
)


def volumes(period: Period, **_) -> Report:
    """Enquiries in and out of the hub over the period, and what was still open at its end."""
    end = period.end_at
    figures = Enquiry.objects.filter(received_at__lt=end).aggregate(
        new=Count("pk", filter=_received_in(period)),
        completed=Count("pk", filter=_decided_in(period)),
        leading_to_referral=Count(
            "pk", filter=_decided_in(period) & Q(outcome__leads_to_referral=True)
        ),
        open_at_end=Count("pk", filter=Q(decided_at__isnull=True) | Q(decided_at__gte=end)),
    )
    # A family enquiry is completed when its last enquiry is decided.
    still_open = Enquiry.objects.filter(family_id=OuterRef("family_id")).filter(
        Q(decided_at__isnull=True) | Q(decided_at__gte=end)
    )
    families = (
        Enquiry.objects.filter(_decided_in(period))
        .filter(~Exists(still_open))
        .aggregate(completed=Count("family_id", distinct=True))
    )
    # Referrals count by when they were sent and when they were answered, in one pass.
    sent_in = Q(sent_at__gte=period.start_at, sent_at__lt=end)
    answered_in = Q(answered_at__gte=period.start_at, answered_at__lt=end)
    sent = OnwardReferral.objects.filter(sent_in | answered_in).aggregate(
        sent=Count("pk", filter=sent_in),
        accepted=Count("pk", filter=answered_in & Q(status=OnwardReferral.Status.ACCEPTED)),
        returned=Count("pk", filter=answered_in & Q(status=OnwardReferral.Status.RETURNED)),
    )
    rows = [
        {"measure": "New enquiries", "enquiries": figures["new"]},
        {"measure": "Enquiries completed", "enquiries": figures["completed"]},
        {"measure": "Family enquiries completed", "enquiries": families["completed"]},
        {"measure": "Enquiries leading to referral", "enquiries": figures["leading_to_referral"]},
        {"measure": "Enquiries open at end of period", "enquiries": figures["open_at_end"]},
        {"measure": "Onward referrals sent", "enquiries": sent["sent"]},
        {"measure": "Onward referrals accepted", "enquiries": sent["accepted"]},
        {"measure": "Onward referrals returned", "enquiries": sent["returned"]},
    ]
    return Report("volumes", "Volumes", period, VOLUMES_COLUMNS, rows)


# NFA ----------------------------------------------------------------------------------------

NFA_COLUMNS = (
    Column("breakdown", "Breakdown", "label"),
    Column("group", "Group", "label"),
    Column("decided", "Enquiries decided"),
    Column("nfa", "No further action"),
    Column("nfa_percent", "% NFA", "percent"),
)


def _nfa_row(breakdown: str, group: str, decided: int, nfa: int) -> dict:
    return {
        "breakdown": breakdown,
        "group": group,
        "decided": decided,
        "nfa": nfa,
        "nfa_percent": percent(nfa, decided),
    }


def nfa(period: Period, **_) -> Report:
    """The share of decisions that were no further action: overall, by RAG, by who referred
    and by month.

    One query counts each (RAG, referrer type, month) cell, a few hundred rows at most; the
    breakdowns add those cells up. Four GROUP BYs over the same decisions took four times
    as long at a million enquiries (bench/reports.py).
    """
    nfa_outcome = Outcome.objects.filter(code=NFA).values("pk")
    cells = (
        Enquiry.objects.filter(_decided_in(period))
        .annotate(month=TruncMonth("decided_at", tzinfo=period.zone))
        .values("rating", "referrer_type__name", "month")
        .annotate(decided=Count("pk"), nfa=Count("pk", filter=Q(outcome_id__in=nfa_outcome)))
        .order_by()
    )
    overall: Counter[str] = Counter()
    by_rag: dict[str, Counter[str]] = {}
    by_referrer: dict[str, Counter[str]] = {}
    by_month: dict[date, Counter[str]] = {}
    for cell in cells:
        month = timezone.localtime(cell["month"], period.zone).date()
        for totals in (
            overall,
            by_rag.setdefault(cell["rating"], Counter()),
            by_referrer.setdefault(cell["referrer_type__name"], Counter()),
            by_month.setdefault(month, Counter()),
        ):
            totals["decided"] += cell["decided"]
            totals["nfa"] += cell["nfa"]
    rows = [_nfa_row(OVERALL, "All decisions", overall["decided"], overall["nfa"])]
    for rating in RAG_ORDER:
        found = by_rag.get(rating, Counter())
        rows.append(_nfa_row("RAG", _rag_label(rating), found["decided"], found["nfa"]))
    rows += [
        _nfa_row("Referrer", name, found["decided"], found["nfa"])
        for name, found in sorted(by_referrer.items())
    ]
    for month in months_of(period):
        found = by_month.get(month, Counter())
        rows.append(_nfa_row("Month", f"{month:%B %Y}", found["decided"], found["nfa"]))
    return Report("nfa", "No further action", period, NFA_COLUMNS, rows)


def months_of(period: Period) -> list[date]:
    """The first day of each calendar month the period touches."""
    months, month = [], period.start.replace(day=1)
    while month < period.end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


# Comparison of two periods ------------------------------------------------------------------

COMPARISON_COLUMNS = (
    Column("measure", "Measure", "label"),
    Column("compared_with", "Compared period"),
    Column("compared_with_per_working_day", "Per working day", "rate"),
    Column("period", "This period"),
    Column("period_per_working_day", "Per working day", "rate"),
    Column("change_percent", "% change", "percent"),
)


def _per_day(count: int, days: int) -> float | None:
    return None if not days else round(count / days, 1)


def _change(before: int | float | None, after: int | float | None) -> float | None:
    if not before or after is None:
        return None
    return round(100 * (after - before) / before, 1)


def comparison(
    period: Period, *, compared_with: Period | None = None, clock: ClockInForce | None = None, **_
) -> Report:
    """Contacts (new enquiries) and referrals (enquiries leading to referral) in two periods,
    also per working day of the hub calendar, so periods of different lengths compare."""
    compared_with = compared_with or period.before()
    clock = clock or clock_in_force()
    referral = Q(outcome__leads_to_referral=True)
    figures = Enquiry.objects.aggregate(
        contacts_before=Count("pk", filter=_received_in(compared_with)),
        contacts=Count("pk", filter=_received_in(period)),
        referrals_before=Count("pk", filter=_decided_in(compared_with) & referral),
        referrals=Count("pk", filter=_decided_in(period) & referral),
    )
    days_before = working_days_between(clock.calendar, compared_with.start, compared_with.end)
    days = working_days_between(clock.calendar, period.start, period.end)
    rows = []
    for measure, key in (("Contacts", "contacts"), ("Referrals", "referrals")):
        before, after = figures[f"{key}_before"], figures[key]
        rows.append(
            {
                "measure": measure,
                "compared_with": before,
                "compared_with_per_working_day": _per_day(before, days_before),
                "period": after,
                "period_per_working_day": _per_day(after, days),
                "change_percent": _change(before, after),
            }
        )
    rows.append(
        {
            "measure": "Working days",
            "compared_with": days_before,
            "compared_with_per_working_day": None,
            "period": days,
            "period_per_working_day": None,
            "change_percent": _change(days_before, days),
        }
    )
    notes = (
        "Contacts are new enquiries received; referrals are enquiries decided with an outcome "
        "that leads to referral.",
    )
    return Report(
        "comparison",
        "Comparison of two periods",
        period,
        COMPARISON_COLUMNS,
        rows,
        compared_with=compared_with,
        notes=notes,
    )


# Backlog ------------------------------------------------------------------------------------

AGE_BANDS = ((0, 1, "age_0"), (1, 2, "age_1"), (2, 5, "age_2_4"), (5, 10, "age_5_9"))
AGE_BAND_OPEN_ENDED = (10, "age_10_plus")

BACKLOG_COLUMNS = (
    Column("rag", "RAG", "label"),
    Column("open", "Open"),
    Column("age_0", "Received today"),
    Column("age_1", "1 working day old"),
    Column("age_2_4", "2 to 4 working days"),
    Column("age_5_9", "5 to 9 working days"),
    Column("age_10_plus", "10 or more working days"),
    Column("at_risk", "At risk"),
    Column("breached", "Breached"),
)


def received_before_age(calendar, as_at: datetime, days: int) -> datetime:
    """The instant before which an enquiry is at least `days` working days old at `as_at`:
    its age is the working days from the day it arrived up to the day of `as_at`."""
    zone = calendar.tz
    day = as_at.astimezone(zone).date()
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return local_midnight(day + timedelta(days=1), zone)


def backlog_counts(calendar, as_at: datetime, *, only: Q | None = None) -> dict[str, Count]:
    """The backlog's figures for a group of enquiries open at `as_at`: the age bands in
    working days, open, at risk and breached; each counting only `only`, if given."""

    def counted(condition: Q | None = None) -> Count:
        conditions = [each for each in (only, condition) if each is not None]
        if not conditions:
            return Count("pk")
        combined = conditions[0]
        for each in conditions[1:]:
            combined &= each
        return Count("pk", filter=combined)

    figures = {
        name: counted(
            Q(received_at__lt=received_before_age(calendar, as_at, youngest))
            & Q(received_at__gte=received_before_age(calendar, as_at, oldest))
        )
        for youngest, oldest, name in AGE_BANDS
    }
    oldest, name = AGE_BAND_OPEN_ENDED
    figures[name] = counted(Q(received_at__lt=received_before_age(calendar, as_at, oldest)))
    return {
        **figures,
        "open": counted(),
        "at_risk": counted(Q(at_risk_from__lte=as_at, breached_from__gt=as_at)),
        "breached": counted(Q(breached_from__lte=as_at)),
    }


def _counted_by_rating(rows) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        group: dict[str, Any] = dict(row)
        counts.setdefault(group.pop("rating"), Counter()).update(group)
    return counts


def decided_since_by_rating(calendar, as_at: datetime) -> dict[str, Counter[str]]:
    """The backlog's figures, by rating, of enquiries received before `as_at` and decided at
    or after it: open then (read by the index of decision times)."""
    return _counted_by_rating(
        Enquiry.objects.filter(received_at__lt=as_at, decided_at__gte=as_at)
        .values("rating")
        .annotate(**backlog_counts(calendar, as_at))
        .order_by()
    )


def backlog_report(period: Period, as_at: datetime, *parts: Mapping[str, Counter[str]]) -> Report:
    """The backlog's table from its figures by rating, added up across `parts` (the
    undecided, and those decided since)."""
    counts: dict[str, Counter[str]] = {}
    for part in parts:
        for rating, figures in part.items():
            counts.setdefault(rating, Counter()).update(figures)
    names = [column.name for column in BACKLOG_COLUMNS[1:]]
    rows: list[dict[str, Any]] = []
    for rating in RAG_ORDER:
        found: Mapping[str, Any] = counts.get(rating, {})
        rows.append({"rag": _rag_label(rating)} | {name: found.get(name, 0) for name in names})
    rows.append({"rag": OVERALL} | {name: sum(row[name] for row in rows) for name in names})
    return Report("backlog", "Backlog", period, BACKLOG_COLUMNS, rows, as_at=as_at)


def backlog(
    period: Period,
    *,
    now: datetime | None = None,
    clock: ClockInForce | None = None,
    **_,
) -> Report:
    """Open enquiries by RAG and by age in working days, with those at risk and breached, as
    they stood at the end of the period (or now, if the period has not ended)."""
    now = now or timezone.now()
    as_at = min(now, period.end_at)
    calendar = (clock or clock_in_force()).calendar
    figures = backlog_counts(calendar, as_at)
    # Open at `as_at`: undecided still, or decided since. Counted apart and added up, the
    # undecided are read from the index of open enquiries alone (reports migration 0003),
    # where one OR visited each of their rows.
    received = Enquiry.objects.filter(received_at__lt=as_at)
    parts = [
        received.filter(decided).values("rating").annotate(**figures).order_by()
        for decided in (Q(decided_at__isnull=True), Q(decided_at__gte=as_at))
    ]
    return backlog_report(period, as_at, _counted_by_rating(parts[0].union(parts[1], all=True)))


# Re-referrals -------------------------------------------------------------------------------

REREFERRAL_COLUMNS = (
    Column("rag", "RAG", "label"),
    Column("decided", "Enquiries decided"),
    Column("re_referrals", "Re-referrals"),
    Column("re_referral_percent", "% re-referrals", "percent"),
)


def rereferrals(period: Period, **_) -> Report:
    """Enquiries decided in the period whose subject had another enquiry decided in the 12
    months before this one arrived (as the enquiry page flags them)."""
    earlier = Enquiry.objects.filter(
        subject_id=OuterRef("subject_id"),
        decided_at__lt=OuterRef("received_at"),
        decided_at__gte=MonthsEarlier(
            OuterRef("received_at"), months=RE_REFERRAL_MONTHS, zone=settings.TIME_ZONE
        ),
    ).exclude(pk=OuterRef("pk"))
    # Without a subject there is nothing to look back on: counted apart, for the note.
    known = Q(subject__isnull=False)
    counts = {
        row["rating"]: row
        for row in Enquiry.objects.filter(_decided_in(period))
        .values("rating")
        .annotate(
            decided=Count("pk", filter=known),
            re_referrals=Count("pk", filter=Q(known, Exists(earlier))),
            unknown=Count("pk", filter=~known),
        )
        .order_by()
    }
    rows = [_rereferral_row(_rag_label(rating), counts.get(rating, {})) for rating in RAG_ORDER]
    overall = {name: sum(row[name] for row in rows) for name in ("decided", "re_referrals")}
    rows.append(_rereferral_row(OVERALL, overall))
    notes: tuple[str, ...] = ()
    unknown = sum(row["unknown"] for row in counts.values())
    if unknown:
        notes = (
            f"{unknown} enquiries decided in the period have no recorded subject (imported "
            "history) and are left out.",
        )
    return Report("rereferrals", "Re-referrals", period, REREFERRAL_COLUMNS, rows, notes=notes)


def _rereferral_row(label: str, found: Mapping[str, Any]) -> dict:
    decided, re_referrals = found.get("decided", 0), found.get("re_referrals", 0)
    return {
        "rag": label,
        "decided": decided,
        "re_referrals": re_referrals,
        "re_referral_percent": percent(re_referrals, decided),
    }


# Feedback -----------------------------------------------------------------------------------

FEEDBACK_COLUMNS = (
    Column("referrer_type", "Referrer", "label"),
    Column("decided", "Enquiries decided"),
    Column("feedback_given", "Referrer got feedback"),
    Column("feedback_percent", "% with feedback", "percent"),
    Column("median_feedback_minutes", "Median working minutes to feedback", "minutes"),
)


def feedback(period: Period, **_) -> Report:
    """Whether referrers heard the outcome of what they raised, and how soon (seed 004 §15),
    by who referred. Imported history carries no feedback, so it is left out."""
    given = Q(feedback_at__isnull=False)
    shares = {
        "decided": Count("pk"),
        "feedback_given": Count("pk", filter=given),
        "median_feedback_minutes": Percentile("feedback_minutes", 0.5, filter=given),
    }
    decided = Enquiry.objects.filter(_decided_in(period), imported_at__isnull=True)
    rows = [
        _feedback_row(row["referrer_type__name"], row)
        for row in decided.values("referrer_type__name")
        .annotate(**shares)
        .order_by("referrer_type__name")
    ]
    rows.append(_feedback_row(OVERALL, decided.aggregate(**shares)))
    return Report("feedback", "Feedback to referrers", period, FEEDBACK_COLUMNS, rows)


def _feedback_row(label: str, found: Mapping[str, Any]) -> dict:
    return {
        "referrer_type": label,
        "decided": found["decided"],
        "feedback_given": found["feedback_given"],
        "feedback_percent": percent(found["feedback_given"], found["decided"]),
        "median_feedback_minutes": _whole(found["median_feedback_minutes"]),
    }


# Agency response times ----------------------------------------------------------------------

AGENCY_RESPONSE_COLUMNS = (
    Column("agency", "Agency", "label"),
    Column("requests", "Requests"),
    Column("answered", "Answered"),
    Column("median_minutes", "Median working minutes to answer", "minutes"),
    Column("p90_minutes", "90th percentile working minutes", "minutes"),
    Column("answered_by_due", "Answered by the due time"),
    Column("answered_by_due_percent", "% answered by the due time", "percent"),
)


def agency_response(
    period: Period, *, user: User | None = None, now: datetime | None = None, **_
) -> Report:
    """How quickly each agency answered the hub's information requests sent in the period, in
    working minutes from request to answer. A request not yet due and not yet answered is
    left out of the on-time share: it can still be on time. So is a request the hub withdrew
    unanswered: it was never answered, and no longer could be on time or late."""
    now = now or timezone.now()
    requests = firewall.countable_requests(user).filter(
        requested_at__gte=period.start_at, requested_at__lt=period.end_at
    )
    answered = Q(answered_at__isnull=False)
    found = (
        requests.values("agency__name")
        .annotate(
            requests=Count("pk"),
            answered=Count("pk", filter=answered),
            median_minutes=Percentile("response_minutes", 0.5, filter=answered),
            p90_minutes=Percentile("response_minutes", 0.9, filter=answered),
            answered_by_due=Count("pk", filter=Q(answered_at__lte=F("due_at"))),
            settled=Count(
                "pk",
                filter=answered
                | (Q(due_at__lte=now) & ~Q(status=InformationRequest.Status.WITHDRAWN)),
            ),
        )
        .order_by("agency__name")
    )
    rows = [
        {
            "agency": row["agency__name"],
            "requests": row["requests"],
            "answered": row["answered"],
            "median_minutes": _whole(row["median_minutes"]),
            "p90_minutes": _whole(row["p90_minutes"]),
            "answered_by_due": row["answered_by_due"],
            "answered_by_due_percent": percent(row["answered_by_due"], row["settled"]),
        }
        for row in found
    ]
    return Report("agency-response", "Agency response times", period, AGENCY_RESPONSE_COLUMNS, rows)


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


# By category and subject --------------------------------------------------------------------

BREAKDOWN_COLUMNS = (
    Column("breakdown", "Breakdown", "label"),
    Column("group", "Group", "label"),
    Column("received", "New enquiries"),
    Column("decided", "Enquiries decided"),
    Column("on_time", "Decided on time"),
    Column("on_time_percent", "% on time", "percent"),
    Column("nfa", "No further action"),
    Column("nfa_percent", "% NFA", "percent"),
)


def _has_category(code: str) -> Q:
    """An enquiry recorded with this category of concern: a match on the JSON list's text,
    which reads the same on PostgreSQL and SQLite (codes are whole quoted words)."""
    return Q(categories__icontains=f'"{code}"')


def breakdown(period: Period, **_) -> Report:
    """Volumes, timeliness and NFA by category of concern and by child or adult at risk
    (issue 20, item 5). An enquiry with several categories counts under each. One aggregate
    query: a filtered count per (group, measure), whatever the number of enquiries."""
    nfa_outcome = Outcome.objects.filter(code=NFA).values("pk")
    received, decided = _received_in(period), _decided_in(period)
    measures = {
        "received": received,
        "decided": decided,
        "on_time": decided & Q(decided_on_time=True),
        "nfa": decided & Q(outcome_id__in=nfa_outcome),
    }
    groups: list[tuple[str, str, Q]] = [
        ("Subject", label, Q(subject_type=value)) for value, label in Enquiry.SubjectType.choices
    ] + [("Category", label, _has_category(value)) for value, label in Enquiry.Concern.choices]
    figures = Enquiry.objects.filter(received | decided).aggregate(
        **{
            f"g{index}_{name}": Count("pk", filter=where & measure)
            for index, (_, _, where) in enumerate(groups)
            for name, measure in measures.items()
        }
    )
    rows = []
    for index, (breakdown_name, group_name, _where) in enumerate(groups):
        found = {name: figures[f"g{index}_{name}"] for name in measures}
        rows.append(
            {
                "breakdown": breakdown_name,
                "group": group_name,
                **found,
                "on_time_percent": percent(found["on_time"], found["decided"]),
                "nfa_percent": percent(found["nfa"], found["decided"]),
            }
        )
    notes = ("An enquiry with more than one category of concern is counted under each.",)
    return Report(
        "breakdown",
        "By category and subject",
        period,
        BREAKDOWN_COLUMNS,
        rows,
        notes=notes,
    )


# NFA quality ----------------------------------------------------------------------------------

NFA_QUALITY_COLUMNS = (
    Column("breakdown", "Breakdown", "label"),
    Column("group", "Group", "label"),
    Column("reviewed", "Decisions reviewed"),
    Column("agreed", "Reviewer agreed"),
    Column("agreed_percent", "% agreed", "percent"),
)


def _quality_row(breakdown: str, group: str, found: Mapping[str, int]) -> dict:
    reviewed, agreed = found.get("reviewed", 0), found.get("agreed", 0)
    return {
        "breakdown": breakdown,
        "group": group,
        "reviewed": reviewed,
        "agreed": agreed,
        "agreed_percent": percent(agreed, reviewed),
    }


def nfa_quality(period: Period, **_) -> Report:
    """How often a quality reviewer agreed with a no-further-action decision made in the
    period (docs/domain.md 7.1): overall, by RAG, by who referred and by the month of the
    decision. One query counts each (RAG, referrer type, month) cell, as the NFA report."""
    cells = (
        NfaReview.objects.filter(
            reviewed_at__isnull=False,
            enquiry__decided_at__gte=period.start_at,
            enquiry__decided_at__lt=period.end_at,
        )
        .annotate(month=TruncMonth("enquiry__decided_at", tzinfo=period.zone))
        .values("enquiry__rating", "enquiry__referrer_type__name", "month")
        .annotate(
            reviewed=Count("pk"), agreed=Count("pk", filter=Q(verdict=NfaReview.Verdict.AGREE))
        )
        .order_by()
    )
    overall: Counter[str] = Counter()
    by_rag: dict[str, Counter[str]] = {}
    by_referrer: dict[str, Counter[str]] = {}
    by_month: dict[date, Counter[str]] = {}
    for cell in cells:
        month = timezone.localtime(cell["month"], period.zone).date()
        for totals in (
            overall,
            by_rag.setdefault(cell["enquiry__rating"], Counter()),
            by_referrer.setdefault(cell["enquiry__referrer_type__name"], Counter()),
            by_month.setdefault(month, Counter()),
        ):
            totals["reviewed"] += cell["reviewed"]
            totals["agreed"] += cell["agreed"]
    rows = [_quality_row(OVERALL, "All reviews", overall)]
    rows += [
        _quality_row("RAG", _rag_label(rating), by_rag.get(rating, Counter()))
        for rating in RAG_ORDER
    ]
    rows += [_quality_row("Referrer", name, found) for name, found in sorted(by_referrer.items())]
    rows += [
        _quality_row("Month", f"{month:%B %Y}", by_month.get(month, Counter()))
        for month in months_of(period)
    ]
    return Report("nfa-quality", "NFA quality reviews", period, NFA_QUALITY_COLUMNS, rows)


# Domestic-abuse notifications ---------------------------------------------------------------

DOMESTIC_ABUSE_COLUMNS = (
    Column("risk_level", "Risk level (DASH)", "label"),
    Column("received", "Notifications received"),
    Column("referred", "Referred to the hub"),
    Column("nfa", "No further action"),
    Column("not_triaged", "Not yet triaged"),
    Column("referred_percent", "% referred", "percent"),
    Column("median_minutes", "Median working minutes to triage", "minutes"),
)


def domestic_abuse(period: Period, *, user: User | None = None, **_) -> Report:
    """Police forces' domestic-abuse notifications received in the period (docs/domain.md
    5.7), by the risk their triage gave and by outcome as it stands, with the median working
    minutes from receipt to triage. One aggregate query of filtered counts: never a person."""
    Status = DomesticAbuseNotification.Status
    groups: list[tuple[str, Q]] = [
        (label, Q(risk_level=value)) for value, label in DomesticAbuseNotification.RiskLevel.choices
    ]
    groups += [("Not yet triaged", Q(status=Status.NEW)), (OVERALL, Q())]
    measures = {
        "received": Q(),
        "referred": Q(status=Status.REFERRED),
        "nfa": Q(status=Status.NO_FURTHER_ACTION),
        "not_triaged": Q(status=Status.NEW),
    }
    figures = (
        firewall.countable_notifications(user)
        .filter(received_at__gte=period.start_at, received_at__lt=period.end_at)
        .aggregate(
            **{
                f"g{index}_{name}": Count("pk", filter=where & measure)
                for index, (_, where) in enumerate(groups)
                for name, measure in measures.items()
            },
            **{
                f"g{index}_median": Percentile(
                    "triage_minutes", 0.5, filter=where & Q(triage_minutes__isnull=False)
                )
                for index, (_, where) in enumerate(groups)
            },
        )
    )
    rows = []
    for index, (label, _where) in enumerate(groups):
        found = {name: figures[f"g{index}_{name}"] for name in measures}
        rows.append(
            {
                "risk_level": label,
                **found,
                "referred_percent": percent(found["referred"], found["received"]),
                "median_minutes": _whole(figures[f"g{index}_median"]),
            }
        )
    return Report(
        "domestic-abuse",
        "Domestic-abuse notifications",
        period,
        DOMESTIC_ABUSE_COLUMNS,
        rows,
        notes=("Outcomes as they stand now, for the notifications received in the period.",),
    )


# The catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str
    summary: str
    build: Callable[..., Report]
    chart: Chart | None = None
    compares: bool = False
    as_at: bool = False

    def default_period(self, today: date | None = None) -> Period:
        """The last full month; today, for a report of how things stand."""
        today = today or timezone.localdate()
        if self.as_at:
            return Period(today, today + timedelta(days=1))
        return last_full_month(today)


CATALOGUE = (
    ReportKind(
        "timeliness",
        "Timeliness",
        "Enquiries decided in the period, by RAG: working minutes allowed and the share "
        "decided on time.",
        timeliness,
        Chart("bar", "rag", ("on_time_percent",), percent=True),
    ),
    ReportKind(
        "volumes",
        "Volumes",
        "New, completed and family enquiries, those leading to referral, and those open at "
        "the end of the period.",
        volumes,
        Chart("bar", "measure", ("enquiries",)),
    ),
    ReportKind(
        "nfa",
        "No further action",
        "The share of decisions that were no further action, by RAG, referrer and month.",
        nfa,
        Chart("line", "group", ("nfa_percent",), rows="Month", percent=True),
    ),
    ReportKind(
        "breakdown",
        "By category and subject",
        "New enquiries, timeliness and NFA by category of concern and by child or adult at risk.",
        breakdown,
        Chart("bar", "group", ("received", "decided"), rows="Category"),
    ),
    ReportKind(
        "nfa-quality",
        "NFA quality reviews",
        "How often a reviewer agreed with a sampled no-further-action decision, by RAG, "
        "referrer and month of the decision.",
        nfa_quality,
        Chart("line", "group", ("agreed_percent",), rows="Month", percent=True),
    ),
    ReportKind(
        "comparison",
        "Comparison of two periods",
        "Contacts and referrals in two periods, in total and per working day.",
        comparison,
        Chart("bar", "measure", ("compared_with_per_working_day", "period_per_working_day")),
        compares=True,
    ),
    ReportKind(
        "backlog",
        "Backlog",
        "Open enquiries by RAG and age in working days, at risk and breached, at the end of "
        "the period or now.",
        backlog,
        Chart("bar", "rag", ("age_0", "age_1", "age_2_4", "age_5_9", "age_10_plus")),
        as_at=True,
    ),
    ReportKind(
        "rereferrals",
        "Re-referrals",
        "Enquiries decided in the period whose subject had another decision in the 12 months "
        "before.",
        rereferrals,
    ),
    ReportKind(
        "feedback",
        "Feedback to referrers",
        "The share of decided enquiries whose referrer got feedback, and how soon, by referrer.",
        feedback,
        Chart("bar", "referrer_type", ("feedback_percent",), percent=True),
    ),
    ReportKind(
        "agency-response",
        "Agency response times",
        "Information requests sent in the period: working minutes to answer and the share "
        "answered by the due time, by agency.",
        agency_response,
        Chart("bar", "agency", ("median_minutes", "p90_minutes")),
    ),
    ReportKind(
        "domestic-abuse",
        "Domestic-abuse notifications",
        "Police notifications received in the period by DASH risk level and outcome (referred, "
        "no further action, not yet triaged), and the median working minutes to triage.",
        domestic_abuse,
        Chart("bar", "risk_level", ("referred", "nfa", "not_triaged")),
    ),
)
REPORTS = {kind.name: kind for kind in CATALOGUE}


def build_report(
    name: str,
    period: Period,
    *,
    compared_with: Period | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> Report:
    return REPORTS[name].build(period, compared_with=compared_with, user=user, now=now)


def period_description(report: Report) -> str:
    text = report.period.label()
    if report.compared_with is not None:
        text = f"{text}, compared with {report.compared_with.label()}"
    if report.as_at is not None:
        moment = timezone.localtime(report.as_at, report.period.zone)
        text = f"As at {moment:%H:%M} on {long_date(moment.date())}"
    return text
