"""Chasing overdue information requests: the agency hears again, once per chase interval.

A request is overdue once its due time has passed while the agency has neither answered nor
said "nothing held" and the enquiry still waits for its decision (after the decision an
answer can no longer inform it). Each overdue request gets one `Chaser` per chase interval
and a notification to every active practitioner of its agency.

Safe to run as often as beat likes, on as many workers as there are: one conditional UPDATE
claims the requests (only those not chased within the interval, skipping rows another
transaction holds on PostgreSQL), so two runs cannot both claim a request; the unique
(request, chased_at) constraint is the second guard, and only chasers actually inserted are
notified. SQLite, for the demo, runs one writer at a time.
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Subquery
from django.utils import dateformat, timezone

from agencies.models import Role, User
from core.bulk import column, concrete_field
from enquiries.mail import email_notifications
from enquiries.models import HUB_CLOCK_ID, Enquiry, HubClock, Notification
from enquiries.timing import recompute_behind

from .models import Chaser, InformationRequest, SharingPolicy

# Two parameters a chaser: well inside SQLite's and PostgreSQL's limits per statement.
BATCH_SIZE = 1000


def chase_overdue_requests(now: datetime | None = None) -> int:
    """Chase every overdue request not chased within the interval; returns how many were
    chased. First any due time still computed under an older clock or policy is recomputed
    (enquiries.timing), so none is chased by an old due time. Then a bounded number of queries
    whatever the number of requests: the policy, the claiming UPDATE, then per thousand chased
    requests their details, the chaser insert and the notification insert, and the agencies'
    practitioners."""
    recompute_behind()
    with transaction.atomic():
        return _chase(now or timezone.now())


def _chase(now: datetime) -> int:
    minute = now.replace(second=0, microsecond=0)
    # At least a minute: chasers are recorded to the minute, once a minute at most.
    policy = SharingPolicy.current()
    interval = timedelta(minutes=max(policy.chase_interval_minutes, 1))
    claimed = _claim_overdue(
        now=now, chased_at=minute, chased_before=minute - interval, policy_version=policy.version
    )
    if not claimed:
        return 0
    details = _details(claimed)
    chased = insert_new_chasers(
        [Chaser(request_id=request_id, chased_at=minute) for request_id in sorted(claimed)]
    )
    if not chased:
        return 0

    practitioners = defaultdict(list)
    for user_id, agency_id in (
        User.objects.filter(
            agency_id__in={details[request_id]["agency_id"] for request_id in chased},
            is_active=True,
            groups__name=Role.PRACTITIONER,
        )
        .order_by("pk")
        .values_list("pk", "agency_id")
        .distinct()
    ):
        practitioners[agency_id].append(user_id)
    notifications = [
        Notification(
            recipient_id=user_id,
            enquiry_id=row["enquiry_id"],
            kind=Notification.Kind.CHASER,
            message=chaser_message(
                reference=row["enquiry__reference"],
                agency=row["agency__name"],
                due_at=row["due_at"],
            ),
            created_at=now,
        )
        for row in (details[request_id] for request_id in chased)
        for user_id in practitioners[row["agency_id"]]
    ]
    Notification.objects.bulk_create(notifications, batch_size=BATCH_SIZE)
    email_notifications(notifications, now=now)
    return len(chased)


def _details(request_ids: list[int]) -> dict[int, Mapping[str, Any]]:
    """What the notifications say about each request, a thousand at a time."""
    details: dict[int, Mapping[str, Any]] = {}
    for start in range(0, len(request_ids), BATCH_SIZE):
        rows = (
            InformationRequest.objects.filter(pk__in=request_ids[start : start + BATCH_SIZE])
            .order_by()
            .values("id", "enquiry_id", "enquiry__reference", "agency_id", "agency__name", "due_at")
        )
        details.update((row["id"], row) for row in rows)
    return details


def _claim_overdue(
    *, now: datetime, chased_at: datetime, chased_before: datetime, policy_version: int
) -> list[int]:
    """Mark every overdue request due a chaser as chased at `chased_at`, in one statement, and
    return their ids. The candidates are chosen, and on PostgreSQL locked (skipping any that
    another transaction holds, such as an answer being sent), by the ORM's own SQL; a request
    whose due time is still behind the clock or the policy (held while the chaser caught up,
    or changed since) waits for the next run."""
    clock_version = HubClock.objects.filter(pk=HUB_CLOCK_ID).values("version")
    candidates = (
        InformationRequest.objects.filter(
            Q(last_chased_at__isnull=True) | Q(last_chased_at__lte=chased_before),
            status__in=InformationRequest.OPEN_STATUSES,
            due_at__lt=now,
            enquiry__state__in=Enquiry.OPEN_STATES,
            clock_version__gte=Subquery(clock_version),
            policy_version__gte=policy_version,
        )
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .order_by()
        .values("id")
    )
    subquery, params = candidates.query.sql_with_params()
    meta = InformationRequest._meta
    quote = connection.ops.quote_name
    last_chased = concrete_field(InformationRequest, "last_chased_at")
    count = quote(column(concrete_field(InformationRequest, "chase_count")))
    pk = quote(column(meta.pk))
    # Only names from the model's own metadata are formatted in; values are parameters.
    sql = (
        f"UPDATE {quote(meta.db_table)} "  # noqa: S608
        f"SET {quote(column(last_chased))} = %s, {count} = {count} + 1 "
        f"WHERE {pk} IN ({subquery}) RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [last_chased.get_db_prep_save(chased_at, connection), *params])
        return [row[0] for row in cursor.fetchall()]


def insert_new_chasers(chasers: list[Chaser]) -> list[int]:
    """Insert `chasers`, leaving out any (request, minute) already recorded; returns the
    request ids of the rows this call inserted, so only their agencies are told.

    `bulk_create(ignore_conflicts=True)` cannot say which rows went in, hence the statement
    by hand, as in `enquiries.sla_scan.insert_new_events`.
    """
    meta = Chaser._meta
    fields = [concrete_field(Chaser, "request"), concrete_field(Chaser, "chased_at")]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column(field)) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(chasers), BATCH_SIZE):
            batch = chasers[start : start + BATCH_SIZE]
            params = [
                field.get_db_prep_save(getattr(chaser, field.attname), connection)
                for chaser in batch
                for field in fields
            ]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(batch))} "
                f"ON CONFLICT ({columns}) DO NOTHING RETURNING {quote(column(fields[0]))}"
            )
            cursor.execute(sql, params)
            inserted.extend(request_id for (request_id,) in cursor.fetchall())
    return inserted


def chaser_message(*, reference: str, agency: str, due_at: datetime) -> str:
    due = dateformat.format(timezone.localtime(due_at), "D j M H:i")
    return (
        f"{reference}: the answer from {agency} was due by {due} and has not arrived. Answer "
        "the information request, or record that nothing is held."
    )
