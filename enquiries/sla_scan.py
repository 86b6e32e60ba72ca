"""The per-minute SLA scan: record each enquiry's at-risk and breached moments once, and tell
the people who must act.

The pages never wait for this: the queue and the enquiry page read `at_risk_from` and
`breached_from` against the clock, so they are right with no worker running. The scan adds
what only a background process can: a permanent record of when each enquiry crossed a
threshold, and a notification to its assignee and the managers.

Safe to run as often as beat likes, on as many workers as there are: candidate enquiries are
locked with SKIP LOCKED on PostgreSQL, so concurrent scans share the work rather than queue
behind each other, and the insert skips any (enquiry, kind) already recorded by the unique
constraint, so a scan only notifies about the events it inserted itself. SQLite, for the demo,
runs one writer at a time and relies on the same constraint.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import dateformat, timezone

from agencies.models import Role, User
from core.bulk import column, concrete_field

from .mail import email_notifications
from .models import HUB_CLOCK_ID, Enquiry, HubClock, Notification, Rag, SlaEvent
from .timing import recompute_behind

Kind = SlaEvent.Kind

# Six parameters an event: well inside SQLite's and PostgreSQL's limits per statement.
BATCH_SIZE = 1000

EVENT_FIELDS = ("enquiry", "kind", "occurred_at", "recorded_at", "rating", "deadline")


@dataclass(frozen=True)
class ScanResult:
    """What one scan recorded; zero everywhere when another scan got there first."""

    at_risk: int
    breached: int
    notifications: int


def _due_events(now: datetime) -> list[Mapping[str, Any]]:
    """Open enquiries that crossed a threshold by `now` with no event for it yet (one query),
    among those whose stored timing the clock in force computed: one still behind it (held by
    another transaction while the scan caught up, or a clock changed since) is judged by the
    next scan, never by a deadline from an older clock.

    An enquiry first seen breached gets the breached event alone: an at-risk warning is only
    worth sending before the breach, and one seen after it (the workers were down, or a new
    rating moved the deadline into the past) would only be noise beside the breach.
    """
    recorded = SlaEvent.objects.filter(enquiry=OuterRef("pk"))
    clock_version = HubClock.objects.filter(pk=HUB_CLOCK_ID).values("version")
    at_risk = Q(at_risk_from__lte=now, breached_from__gt=now) & ~Exists(
        recorded.filter(kind=Kind.AT_RISK)
    )
    breached = Q(breached_from__lte=now) & ~Exists(recorded.filter(kind=Kind.BREACHED))
    return list(
        Enquiry.objects.filter(
            Q(state__in=Enquiry.OPEN_STATES, timing_version__gte=Subquery(clock_version))
            & (at_risk | breached)
        )
        # Skip enquiries that another scan, or an edit such as a decision, holds: the next
        # minute's scan sees them as they then are.
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .values(
            "id",
            "reference",
            "rating",
            "deadline",
            "at_risk_from",
            "breached_from",
            "assignee_id",
            "assignee__is_active",
        )
        .order_by("id")
    )


UNIQUE, RETURNED = ("enquiry", "kind"), ("id", "enquiry", "kind")


def insert_new_events(events: Sequence[SlaEvent]) -> list[tuple[int, int, str]]:
    """Insert `events`, leaving out any (enquiry, kind) already recorded; returns the
    (id, enquiry id, kind) of the rows this call inserted, so only their news is sent.

    Django's `bulk_create(ignore_conflicts=True)` cannot say which rows went in, hence the
    statement by hand; `ON CONFLICT ... DO NOTHING RETURNING` means the same on both databases.
    """
    meta = SlaEvent._meta
    fields = [concrete_field(SlaEvent, name) for name in EVENT_FIELDS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column(field)) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    unique = ", ".join(quote(column(concrete_field(SlaEvent, name))) for name in UNIQUE)
    returned = ", ".join(quote(column(concrete_field(SlaEvent, name))) for name in RETURNED)
    inserted: list[tuple[int, int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(events), BATCH_SIZE):
            batch = events[start : start + BATCH_SIZE]
            params = [
                field.get_db_prep_save(getattr(event, field.attname), connection)
                for event in batch
                for field in fields
            ]
            # Only names from the model's own metadata are formatted in; values are parameters.
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(batch))} "
                f"ON CONFLICT ({unique}) DO NOTHING RETURNING {returned}"
            )
            cursor.execute(sql, params)
            inserted.extend(cursor.fetchall())
    return inserted


def _active_manager_ids() -> list[int]:
    return list(
        User.objects.filter(is_active=True, groups__name=Role.MANAGER)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def _message(kind: str, *, reference: str, rating: str, deadline: datetime) -> str:
    due = dateformat.format(timezone.localtime(deadline), "D j M H:i")
    label = Rag(rating).label
    if kind == Kind.BREACHED:
        return f"{reference} ({label}) has breached: the decision was due by {due}."
    return f"{reference} ({label}) is at risk: the decision is due by {due}."


def record_sla_events(*, now: datetime | None = None) -> ScanResult:
    """Record every open enquiry's at-risk and breached moments reached by `now`, once each,
    and notify: the assignee of both, every active manager of a breach, and the managers of
    an at-risk enquiry that nobody (active) is assigned to.

    First any open enquiry whose stored timing an older clock computed is recomputed (a batch
    per transaction, enquiries.timing), so none is judged by an old deadline. Then, in one
    transaction, a bounded number of queries whatever the number of enquiries: candidates,
    the event insert and the notification insert (each per thousand rows), and the managers.
    """
    recompute_behind()
    with transaction.atomic():
        return _record(now or timezone.now())


def _record(now: datetime) -> ScanResult:
    due = {row["id"]: row for row in _due_events(now)}
    if not due:
        return ScanResult(at_risk=0, breached=0, notifications=0)

    events = []
    kind: str
    for row in due.values():
        kind = Kind.BREACHED if row["breached_from"] <= now else Kind.AT_RISK
        events.append(
            SlaEvent(
                enquiry_id=row["id"],
                kind=kind,
                occurred_at=row["breached_from" if kind == Kind.BREACHED else "at_risk_from"],
                recorded_at=now,
                rating=row["rating"],
                deadline=row["deadline"],
            )
        )
    inserted = insert_new_events(events)

    managers: list[int] | None = None
    notifications = []
    for event_id, enquiry_id, kind in inserted:
        row = due[enquiry_id]
        assignee = row["assignee_id"] if row["assignee__is_active"] else None
        recipients = {assignee} if assignee else set()
        if kind == Kind.BREACHED or assignee is None:
            if managers is None:
                managers = _active_manager_ids()
            recipients.update(managers)
        message = _message(
            kind, reference=row["reference"], rating=row["rating"], deadline=row["deadline"]
        )
        notifications += [
            Notification(
                recipient_id=recipient,
                enquiry_id=enquiry_id,
                sla_event_id=event_id,
                kind=kind,
                message=message,
                created_at=now,
            )
            for recipient in sorted(recipients)
        ]
    Notification.objects.bulk_create(notifications, batch_size=BATCH_SIZE)
    email_notifications(
        notifications, now=now, references={pk: row["reference"] for pk, row in due.items()}
    )

    kinds = [kind for _, _, kind in inserted]
    return ScanResult(
        at_risk=kinds.count(Kind.AT_RISK),
        breached=kinds.count(Kind.BREACHED),
        notifications=len(notifications),
    )
