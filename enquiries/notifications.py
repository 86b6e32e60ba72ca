"""In-app notifications: what a person is told, and their marking it read.

Only ever the signed-in person's own notifications: someone else's is missing, not forbidden.
And only about enquiries they may still see: a practitioner who moved agency, or lost the
role, is no longer told anything about their old agency's enquiries, not even how many.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from agencies.models import Role, User
from audit.access_log import broken_log_message
from core.append_only import BrokenLink

from .mail import email_notifications
from .models import Notification, notification_kinds_in
from .visibility import only_visible


def _visible(notifications: QuerySet[Notification], user: User) -> QuerySet[Notification]:
    return only_visible(notifications, user, field="enquiry", or_none=True)


def user_notifications(
    *, user: User, group: str = "", unread: bool = False
) -> QuerySet[Notification]:
    """The person's notifications, newest first, with each enquiry's reference for its link
    and where its escalation stands, for the "Acknowledge" button (in the same query); only
    those of one group of kinds (`NotificationGroup`), or only the unread, if asked."""
    mine = Notification.objects.filter(recipient=user)
    if group:
        mine = mine.filter(kind__in=notification_kinds_in(group))
    if unread:
        mine = mine.filter(read_at__isnull=True)
    return (
        _visible(mine, user)
        .select_related("enquiry")
        .only(
            "id",
            "kind",
            "message",
            "created_at",
            "read_at",
            "enquiry__reference",
            "enquiry__state",
            "enquiry__escalated_at",
            "enquiry__escalation_acknowledged_at",
        )
        .order_by("-created_at", "-id")
    )


# The navigation counts unread notifications up to here and then says "99+": what it costs
# stays the same for 9 unread as for 9,000, on every page.
NAVIGATION_COUNT_LIMIT = 99


def unread_notification_count(*, user: User, up_to: int | None = None) -> int:
    """One count on the partial index of unread notifications; with `up_to`, it stops
    counting one past it (enough to know the limit is passed)."""
    unread = _visible(Notification.objects.filter(recipient=user, read_at__isnull=True), user)
    unread = unread.order_by()
    if up_to is not None:
        unread = unread[: up_to + 1]
    return unread.count()


@dataclass(frozen=True)
class UnreadCount:
    """An unread count as the navigation shows it: the number, or "99+" past the limit;
    false when there are none."""

    counted: int

    def __bool__(self) -> bool:
        return self.counted > 0

    def __str__(self) -> str:
        if self.counted > NAVIGATION_COUNT_LIMIT:
            return f"{NAVIGATION_COUNT_LIMIT}+"
        return str(self.counted)


def navigation_unread_count(*, user: User) -> UnreadCount:
    """The navigation's count: at most one past `NAVIGATION_COUNT_LIMIT` counted."""
    return UnreadCount(unread_notification_count(user=user, up_to=NAVIGATION_COUNT_LIMIT))


@transaction.atomic
def notification_mark_read(
    *, notification: Notification, now: datetime | None = None
) -> Notification:
    """Mark one notification read; reading it again keeps the first time."""
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of the person read; returns how many were unread."""
    unread = _visible(Notification.objects.filter(recipient=user, read_at__isnull=True), user)
    return unread.update(read_at=now or timezone.now())


@transaction.atomic
def notify_auditors(link: BrokenLink) -> int:
    """Tell every active auditor that the access log is broken, once per break; returns how
    many were told now."""
    message = broken_log_message(link)
    told_already = Notification.objects.filter(
        recipient=OuterRef("pk"), kind=Notification.Kind.LOG_BROKEN, message=message
    )
    auditors = User.objects.filter(is_active=True, groups__name=Role.AUDITOR).exclude(
        Exists(told_already)
    )
    told = Notification.objects.bulk_create(
        Notification(
            recipient=auditor,
            kind=Notification.Kind.LOG_BROKEN,
            message=message,
            created_at=timezone.now(),
        )
        for auditor in auditors.distinct()
    )
    email_notifications(told)
    return len(told)


def auditors_told_of_a_break(sender, link: BrokenLink, **kwargs) -> None:
    notify_auditors(link)


def _at(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %B %Y, %H:%M}"


def background_fault_message(*, since: datetime, failing: list[str]) -> str:
    return (
        f"Background work has been failing since {_at(since)}: {', '.join(failing)}. Pages "
        "and saves still work, but deadlines may not be checked and notifications may not go "
        "out until it is put right (see /healthz/background)."
    )


def background_recovered_message(*, since: datetime, at: datetime) -> str:
    return f"Background work is back to normal ({_at(at)}), after failing since {_at(since)}."


@transaction.atomic
def notify_administrators(*, kind: str, message: str, now: datetime) -> int:
    """Tell every active administrator something about the hub itself, such as its background
    work failing (mash.health); returns how many were told."""
    administrators = User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
    told = Notification.objects.bulk_create(
        Notification(recipient=administrator, kind=kind, message=message, created_at=now)
        for administrator in administrators.distinct()
    )
    email_notifications(told, now=now)
    return len(told)
