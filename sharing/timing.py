"""Open information requests' due times, kept to the hub's clock and the sharing policy as
enquiries' deadlines are kept to the clock (enquiries.timing).

A request falls due at the policy's share of its enquiry's allowance, on the enquiry's clock,
and records the clock's and the policy's versions it was computed under. A change of either
only bumps its version; the per-minute catch-up in `enquiries.timing` recomputes the open
requests behind, a batch per transaction, through the hook registered here. A request whose
open enquiry is itself behind the clock waits for it: recomputing the enquiry recomputes its
requests in the same transaction (`hooks.timing_changed`).
"""

from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce

from core.bulk import update_rows
from enquiries import hooks
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.models import Enquiry
from enquiries.timing import clock_version

from .models import InformationRequest, SharingPolicy
from .services import DUE_FIELDS, due_at, put_due_times

LABEL = "information requests"


def requests_behind(
    *, clock_version: int | BaseExpression, policy_version: int | BaseExpression
) -> QuerySet[InformationRequest]:
    """Open requests whose due time an older clock or policy computed (indexes
    `request_open_clock_version` and `request_open_policy_version`)."""
    return InformationRequest.objects.filter(
        Q(clock_version__lt=clock_version) | Q(policy_version__lt=policy_version),
        status__in=InformationRequest.OPEN_STATUSES,
    ).order_by()


def behind() -> int:
    """Open requests behind, in one query: a policy not yet saved is at version 1."""
    policy = SharingPolicy.objects.filter(pk=SharingPolicy.current_id).values("version")
    return requests_behind(
        clock_version=clock_version(), policy_version=Coalesce(Subquery(policy), 1)
    ).count()


def _takeable(clock_version: int, policy_version: int) -> QuerySet[InformationRequest]:
    """Requests behind whose enquiry is not itself behind the clock (or no longer open)."""
    return requests_behind(clock_version=clock_version, policy_version=policy_version).exclude(
        enquiry__state__in=Enquiry.OPEN_STATES, enquiry__timing_version__lt=clock_version
    )


def catch_up(batch_size: int) -> int:
    """Recompute at most `batch_size` open requests behind, in one transaction, leaving rows
    another transaction holds, and those whose open enquiry is still behind the clock (its
    own recompute takes them); returns how many it recomputed."""
    if not _takeable(clock_in_force().version, SharingPolicy.current().version).exists():
        return 0  # as on all but a few minutes of a hub's life: no transaction needed
    with transaction.atomic():
        clock, policy = clock_in_force(), SharingPolicy.current()
        batch = list(
            _takeable(clock.version, policy.version)
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .only("id", "enquiry_id", *DUE_FIELDS)[:batch_size]
        )
        if not batch:
            return 0
        enquiries = Enquiry.objects.only(
            "id", "rating", "received_at", "allowance_minutes"
        ).in_bulk({request.enquiry_id for request in batch})
        put_due_times(batch, enquiries, clock=clock, policy=policy)
        update_rows(InformationRequest, batch, DUE_FIELDS)
    return len(batch)


def moved_by(clock: ClockInForce) -> tuple[int, int]:
    """How many open requests' stored due times `clock` would move, and how many are open (one
    query): a request on an open enquiry falls due at the policy's share of the allowance the
    clock gives the enquiry's rating, on that rating's calendar."""
    percent = SharingPolicy.current().request_due_percent
    rows = list(
        InformationRequest.objects.filter(status__in=InformationRequest.OPEN_STATUSES)
        .order_by()
        .values_list("due_at", "enquiry__rating", "enquiry__received_at")
    )
    moved = sum(
        due_at(
            clock,
            rating=rating,
            received_at=received_at,
            allowance=clock.allowances[rating].minutes,
            percent=percent,
        )
        != stored
        for stored, rating, received_at in rows
    )
    return moved, len(rows)


def register() -> None:
    hooks.keep_timing_with(
        hooks.DependentTiming(label=LABEL, behind=behind, catch_up=catch_up, moved_by=moved_by)
    )
