"""The manager's dashboard: what needs a manager now (`running`), the backlog, and this month's
timeliness beside last month's."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from agencies.models import User
from enquiries.clock import clock_in_force

from . import decisions, running, selectors
from .models import NfaReview
from .periods import Period, last_full_month, month_so_far


def manager_dashboard_figures(*, now: datetime, user: User | None = None) -> dict:
    today = timezone.localdate(now)
    clock = clock_in_force()
    # The backlog as at now: its undecided enquiries counted in the same pass as the open
    # work (`running.open_work`), those decided since (none, unless a clock was wrong) apart.
    work = running.open_work(
        now=now,
        backlog=selectors.backlog_counts(clock.calendar, now, only=Q(received_at__lt=now)),
    )
    backlog = selectors.backlog_report(
        Period(today, today + timedelta(days=1)),
        now,
        work.by_rating,
        selectors.decided_since_by_rating(clock.calendar, now),
    )
    this_month, last_month = month_so_far(today), last_full_month(today)
    weeks = running.mondays(now=now)
    tomorrow = today + timedelta(days=1)
    # In two queries whatever the number of decisions: the same figures as
    # `selectors.timeliness` and `running.weekly_on_time` count from the enquiries
    # (tests/reports/test_decisions.py).
    days = decisions.decisions_by_day(min(weeks[0], last_month.start), tomorrow)
    later_today = running.decided_later_today(now=now)
    current = decisions.timeliness_rows(decisions.in_period(days, this_month))
    previous = decisions.timeliness_rows(decisions.in_period(days, last_month))
    timeliness = [
        {
            "rag": now_row["rag"],
            "allocated_minutes": now_row["allocated_minutes"],
            "this_month": now_row,
            "last_month": then_row,
            "change": _points(then_row["on_time_percent"], now_row["on_time_percent"]),
        }
        for now_row, then_row in zip(current, previous, strict=True)
    ]
    weekly = running.weekly_figures(
        weeks,
        decisions.weekly_counts(
            decisions.in_period(days, Period(weeks[0], tomorrow)), leaving_out=later_today
        ),
    )
    return {
        "now": now,
        "open_totals": work.totals,
        "escalations": running.open_escalations(now=now),
        "work": work.people,
        "agencies": running.agencies_waiting(user=user, now=now),
        "today": running.todays_flow(now=now),
        "weeks": weekly["rows"],
        "chart": weekly["chart"],
        "reviews_waiting": NfaReview.objects.filter(reviewed_at__isnull=True).count(),
        "total": backlog.rows[-1],
        "backlog": backlog,
        "timeliness": timeliness,
        "this_month": this_month,
        "last_month": last_month,
    }


def _points(before: float | None, after: float | None) -> float | None:
    """The change in a percentage, in percentage points."""
    if before is None or after is None:
        return None
    return round(after - before, 1)
