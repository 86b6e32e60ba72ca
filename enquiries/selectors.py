"""Reads about enquiries and the hub's clock, shaped for the pages that show them."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Prefetch, Q, QuerySet

from agencies.models import Role, User

from .clock import clock_in_force
from .models import HUB_CLOCK_ID, ClosureDay, Enquiry, HubClock
from .sla import Sla


def hub_clock_settings(*, today: date) -> HubClock:
    """The clock's configuration with its hours, allowances and coming closures (4 queries)."""
    return HubClock.objects.prefetch_related(
        "openinghours_set",
        "ragallowance_set",
        Prefetch(
            "closureday_set",
            queryset=ClosureDay.objects.filter(date__gte=today),
            to_attr="coming_closures",
        ),
    ).get(pk=HUB_CLOCK_ID)


@dataclass(frozen=True)
class QueueFilters:
    """What the triage queue is narrowed to; every field optional."""

    rating: str = ""
    state: str = ""
    assignee_id: int | None = None
    mine: bool = False
    at_risk: bool = False
    breached: bool = False
    search: str = ""


def enquiry_queue(*, user: User, filters: QueueFilters, now: datetime) -> QuerySet[Enquiry]:
    """Open enquiries, escalations first, then by least time left; filtered in the database."""
    queryset = (
        Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES)
        .select_related("subject", "assignee", "assignee__agency")
        .order_by(F("escalated_at").desc(nulls_last=True), "deadline", "id")
    )
    if filters.rating:
        queryset = queryset.filter(rating=filters.rating)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.assignee_id:
        queryset = queryset.filter(assignee_id=filters.assignee_id)
    if filters.mine:
        queryset = queryset.filter(assignee=user)
    if filters.breached:
        queryset = queryset.filter(breached_from__lte=now)
    if filters.at_risk:
        queryset = queryset.filter(at_risk_from__lte=now, breached_from__gt=now)
    if filters.search:
        term = filters.search.strip()
        queryset = queryset.filter(
            Q(reference__iexact=term)
            | Q(subject__last_name__icontains=term)
            | Q(subject__first_name__icontains=term)
            | Q(involvements__person__last_name__icontains=term)
        ).distinct()
    return queryset


def triage_staff() -> QuerySet[User]:
    """People who can be given enquiries, for the assignee filter."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.RESEARCHER, Role.MANAGER])
        .distinct()
        .order_by("first_name", "last_name")
    )


@dataclass(frozen=True)
class QueueRow:
    enquiry: Enquiry
    sla: Sla

    @property
    def time_left(self) -> str:
        """The countdown in working hours and minutes, as the queue shows it."""
        minutes = abs(self.sla.remaining)
        hours, rest = divmod(minutes, 60)
        text = f"{hours} h {rest:02d} min" if hours else f"{rest} min"
        return f"{text} over" if self.sla.remaining < 0 else f"{text} left"


def queue_rows(enquiries: Iterable[Enquiry], *, now: datetime) -> list[QueueRow]:
    """Each enquiry with its clock status now: arithmetic only, no queries per row."""
    clock = clock_in_force()
    return [
        QueueRow(
            enquiry,
            clock.sla(rating=enquiry.rating, received_at=enquiry.received_at, now=now),
        )
        for enquiry in enquiries
    ]
