"""Escalations a manager acknowledges, and the repeats until one does (docs/domain.md 4.10).

Escalating (`services.enquiry_escalate`) tells every active manager and the assignee at once.
A manager then acknowledges it: timestamped on the enquiry, a line in its history, and the
repeats stop. Until one does, the per-minute job (`tasks.repeat_escalations`) sends it again,
each `EscalationPolicy.repeat_minutes`, to the next manager in the order: the hub's escalation
contacts, or with none listed, every active manager by name; never whoever escalated. Once all
of them have had it, the next round starts from the first again. Escalations do not wait for
opening hours: the minutes are the wall clock's, at any hour.

Safe to run as often as beat likes, on several workers: the escalations due are locked with
SKIP LOCKED, so one worker takes each; one is due only once its last alert is `repeat_minutes`
old, so a run within the same minute finds nothing; and the unique constraint on (escalation,
round, manager) means nobody is told twice in a round.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from agencies.models import Role, User
from core.text import clean_text

from .mail import email_notifications
from .models import (
    ESCALATION_NOTICES,
    Enquiry,
    EnquiryEvent,
    EscalationContact,
    EscalationPolicy,
    EscalationRepeat,
    Notification,
)
from .services import _lock_for_edit, _record, _require_role, _save

NOT_OPEN = "This enquiry has been decided: there is no escalation left to acknowledge."
NOT_ESCALATED = "This enquiry has not been escalated: there is nothing to acknowledge."


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%a %d %b %H:%M}"


@transaction.atomic
def escalation_acknowledge(
    *, enquiry: Enquiry, actor: User, note: str = "", now: datetime | None = None
) -> Enquiry:
    """A manager takes the escalation on: who and when go on the enquiry and in its history,
    and it is no longer repeated. The manager's own news of it is marked read.

    No version check, as for the escalation itself: acknowledging must never be refused for
    an edit someone made a moment before, and from a notification there is no version."""
    _require_role(actor, Role.MANAGER)
    note = clean_text("note", note)
    enquiry = _lock_for_edit(enquiry, expected_version=None)
    if not enquiry.is_open:
        raise ValidationError(NOT_OPEN)
    if enquiry.escalated_at is None:
        raise ValidationError(NOT_ESCALATED)
    if enquiry.escalation_acknowledged_at is not None:
        raise ValidationError(
            f"{enquiry.escalation_acknowledged_by} already acknowledged this escalation at "
            f"{_when(enquiry.escalation_acknowledged_at)}."
        )
    now = now or timezone.now()
    enquiry.escalation_acknowledged_at, enquiry.escalation_acknowledged_by = now, actor
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.ESCALATION_ACKNOWLEDGED,
        actor=actor,
        at=now,
        rationale=note,
    )
    Notification.objects.filter(
        recipient=actor, enquiry=enquiry, kind__in=ESCALATION_NOTICES, read_at__isnull=True
    ).update(read_at=now)
    return _save(enquiry, ["escalation_acknowledged_at", "escalation_acknowledged_by"])


def escalation_notes(user: User, enquiry: Enquiry) -> list[str]:
    """What the acknowledge page says before the manager saves."""
    if enquiry.escalated_at is None:
        return []
    return [
        f"Escalated {_when(enquiry.escalated_at)}; the decision is due by "
        f"{_when(enquiry.deadline)}.",
        "Acknowledging tells the hub you are taking it on: it is no longer repeated to other "
        "managers.",
    ]


# Repeating


@dataclass(frozen=True)
class RepeatResult:
    """What one run sent: nothing when another run got there first."""

    repeated: int


def repeat_order(policy: EscalationPolicy) -> list[int]:
    """The managers an unacknowledged escalation goes to, first first: the policy's contacts
    who are still active managers, or if none are, every active manager by name."""
    managers = User.objects.filter(is_active=True, groups__name=Role.MANAGER)
    listed = list(
        EscalationContact.objects.filter(policy=policy, manager__in=managers)
        .order_by("position", "id")
        .values_list("manager_id", flat=True)
    )
    if listed:
        return list(dict.fromkeys(listed))
    return list(
        dict.fromkeys(
            managers.order_by("first_name", "last_name", "username", "pk").values_list(
                "pk", flat=True
            )
        )
    )


def next_recipient(order: list[int], sent: list[tuple[int, int]]) -> tuple[int, int] | None:
    """(round, manager) for the next repeat, given the (round, manager) already sent for the
    escalation: the first in `order` not yet told in this round, else the first of the next
    round. None when there is nobody to tell."""
    if not order:
        return None
    current = max((round_ for round_, _ in sent), default=1)
    told = {manager for round_, manager in sent if round_ == current}
    waiting = [manager for manager in order if manager not in told]
    if waiting:
        return current, waiting[0]
    return current + 1, order[0]


def repeated_message(
    *, reference: str, escalated_at: datetime, deadline: datetime, now: datetime
) -> str:
    waited = int((now - escalated_at).total_seconds() // 60)
    return (
        f"{reference} was escalated {_when(escalated_at)} and no manager has acknowledged it "
        f"after {waited} minutes: Red, the decision due by {_when(deadline)}."
    )


def _due(*, now: datetime, repeat_minutes: int) -> list[Mapping[str, Any]]:
    """Open escalations nobody has acknowledged whose last alert (the escalation, or its
    latest repeat) is `repeat_minutes` old by `now`, in whole minutes as beat runs (one
    query); with whoever escalated."""
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=repeat_minutes - 1)
    recent = EscalationRepeat.objects.filter(
        enquiry=OuterRef("pk"), escalated_at=OuterRef("escalated_at"), sent_at__gte=since
    )
    escalator = (
        EnquiryEvent.objects.filter(enquiry=OuterRef("pk"), kind=EnquiryEvent.Kind.ESCALATED)
        .order_by("-version", "-id")
        .values("actor_id")[:1]
    )
    return list(
        Enquiry.objects.filter(
            state__in=Enquiry.OPEN_STATES,
            escalated_at__lt=since,
            escalation_acknowledged_at__isnull=True,
        )
        .exclude(Exists(recent))
        .annotate(escalator_id=Subquery(escalator))
        # Another run holds these: it is repeating them now.
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .values("id", "reference", "escalated_at", "deadline", "escalator_id")
        .order_by("id")
    )


@transaction.atomic
def escalations_repeat(*, now: datetime | None = None) -> RepeatResult:
    """Send each escalation due again to the next manager in the order: an in-app
    notification, and an email to those who chose it (by default, everyone). A fixed number
    of queries however many are due."""
    now = now or timezone.now()
    policy = EscalationPolicy.current()
    due = {row["id"]: row for row in _due(now=now, repeat_minutes=policy.repeat_minutes)}
    if not due:
        return RepeatResult(repeated=0)
    sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for enquiry_id, escalated_at, round_, recipient in EscalationRepeat.objects.filter(
        enquiry_id__in=due
    ).values_list("enquiry_id", "escalated_at", "round", "recipient_id"):
        if escalated_at == due[enquiry_id]["escalated_at"]:
            sent[enquiry_id].append((round_, recipient))
    order = repeat_order(policy)
    repeats, notifications = [], []
    for enquiry_id, row in due.items():
        chosen = next_recipient(
            [manager for manager in order if manager != row["escalator_id"]], sent[enquiry_id]
        )
        if chosen is None:
            continue
        round_, recipient = chosen
        repeats.append(
            EscalationRepeat(
                enquiry_id=enquiry_id,
                escalated_at=row["escalated_at"],
                round=round_,
                recipient_id=recipient,
                sent_at=now,
            )
        )
        notifications.append(
            Notification(
                recipient_id=recipient,
                enquiry_id=enquiry_id,
                kind=Notification.Kind.ESCALATION_REPEATED,
                message=repeated_message(
                    reference=row["reference"],
                    escalated_at=row["escalated_at"],
                    deadline=row["deadline"],
                    now=now,
                ),
                created_at=now,
            )
        )
    EscalationRepeat.objects.bulk_create(repeats)
    Notification.objects.bulk_create(notifications)
    email_notifications(
        notifications, now=now, references={pk: row["reference"] for pk, row in due.items()}
    )
    return RepeatResult(repeated=len(repeats))
