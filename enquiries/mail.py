"""Email the hub sends (docs/domain.md sections 6.1 and 9): feedback to a referrer, and the
notifications each person chose to have by email as well.

An email is queued as an `OutgoingEmail` row in the transaction that decided to send it, so a
write that rolls back sends nothing; a worker sends it after the commit (`tasks.send_email`),
retrying with growing waits, and the row keeps exactly what was sent and whether it went.
Sending is idempotent: the row is locked while it is sent, and one already sent is skipped.

Notification emails carry no case content: the kind, the enquiry's reference and a link to
sign in, never a name or anything an agency recorded. The notification's own message, which
may name people, stays in the hub.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from agencies.models import User

from .models import DEFAULT_EMAIL_KINDS, EmailPreference, Enquiry, Notification, OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

# The feedback method whose feedback the hub sends itself, to the address given.
EMAIL_METHOD = "Email"
ADDRESS_REQUIRED = "Give the referrer's email address to send the feedback to."
ADDRESS_INVALID = "Enter the email address like name@example.org."


def email_address_error(address: str) -> str | None:
    """What is wrong with an address to send to, if anything (one address, no display name)."""
    try:
        validate_email(address)
    except ValidationError:
        return ADDRESS_INVALID
    return None


def referrer_email(contact: str) -> str:
    """The referrer's contact for feedback, if it is an email address; else nothing."""
    contact = (contact or "").strip()
    return contact if contact and email_address_error(contact) is None else ""


def feedback_subject(reference: str) -> str:
    return f"Your referral to {settings.HUB_NAME}: {reference}"


def feedback_body(*, text: str, reference: str) -> str:
    """The feedback as written, and a fixed footer: nothing else of the case goes with it."""
    return (
        f"{text.strip()}\n"
        "\n"
        "-- \n"
        f"{settings.HUB_NAME} (Multi-Agency Safeguarding Hub)\n"
        f"Our reference: {reference}. Please quote it if you contact us about this referral.\n"
    )


def feedback_email_queue(
    *, enquiry: Enquiry, to_address: str, text: str, actor: User, now: datetime
) -> OutgoingEmail:
    """Queue the feedback to the referrer, inside the caller's transaction; it is sent once
    that commits. The text must already have passed the feedback checks (`hooks`)."""
    email = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.FEEDBACK,
        to_address=to_address,
        enquiry=enquiry,
        subject=feedback_subject(enquiry.reference),
        body=feedback_body(text=text, reference=enquiry.reference),
        queued_at=now,
        created_by=actor,
    )
    _send_after_commit([email])
    return email


FEEDBACK_EMAIL_FIELDS = (
    "to_address",
    "status",
    "attempts",
    "last_error",
    "queued_at",
    "last_attempt_at",
    "sent_at",
)
_ANNOTATED = "feedback_email_"


def feedback_email_annotations() -> dict[str, Subquery]:
    """For a selector of enquiries: their feedback email, read in the same query (feedback
    closes an enquiry, so there is at most one), as `feedback_email_<field>` annotations."""
    latest = OutgoingEmail.objects.filter(
        enquiry=OuterRef("pk"), kind=OutgoingEmail.Kind.FEEDBACK
    ).order_by("-id")
    return {
        f"{_ANNOTATED}{name}": Subquery(latest.values(name)[:1]) for name in FEEDBACK_EMAIL_FIELDS
    }


def feedback_emails(enquiry: Enquiry) -> list[dict]:
    """The enquiry's feedback email, if any, with how sending it went: from the annotations
    of `feedback_email_annotations`, else read now."""
    if hasattr(enquiry, f"{_ANNOTATED}status"):
        if getattr(enquiry, f"{_ANNOTATED}status") is None:
            return []
        return [{name: getattr(enquiry, f"{_ANNOTATED}{name}") for name in FEEDBACK_EMAIL_FIELDS}]
    return list(
        OutgoingEmail.objects.filter(enquiry=enquiry, kind=OutgoingEmail.Kind.FEEDBACK)
        .order_by("id")
        .values(*FEEDBACK_EMAIL_FIELDS)
    )


# Notifications by email


def chosen_kinds(preference: EmailPreference | None) -> set[str]:
    """The notification kinds a person has by email: their choice, or the defaults."""
    return set(DEFAULT_EMAIL_KINDS) if preference is None else set(preference.kinds)


def email_preference_of(user: User) -> EmailPreference | None:
    return EmailPreference.objects.filter(user=user).first()


@transaction.atomic
def email_preference_save(*, user: User, kinds: Iterable[str]) -> EmailPreference:
    """Choose which kinds of notification come by email as well (none is a choice too)."""
    kinds = sorted(set(kinds))
    unknown = [kind for kind in kinds if kind not in Notification.Kind.values]
    if unknown:
        raise ValidationError({"kinds": f"Unknown kinds of notification: {', '.join(unknown)}."})
    preference, _ = EmailPreference.objects.update_or_create(user=user, defaults={"kinds": kinds})
    return preference


def notification_subject(*, kind: str, reference: str | None) -> str:
    about = f": {reference}" if reference else ""
    return f"{settings.HUB_NAME}: {Notification.Kind(kind).label}{about}"


def notification_body(*, kind: str, reference: str | None) -> str:
    """What happened, in the kind's words, and where to read it: never the notification's
    message, which may name people, nor anything else of the case."""
    label = Notification.Kind(kind).label
    if reference:
        where = settings.SITE_URL + reverse("enquiry-detail", args=[reference])
        what = f"{label}: enquiry {reference}."
    else:
        where = settings.SITE_URL + reverse("notifications")
        what = f"{label}."
    choices = settings.SITE_URL + reverse("notification-emails")
    return (
        f"{what}\n"
        "\n"
        f"Sign in to {settings.HUB_NAME} to read it: {where}\n"
        "\n"
        "-- \n"
        f"You have this by email because you chose it for “{label}” notifications. "
        f"Change your choice: {choices}\n"
    )


def email_notifications(
    notifications: Sequence[Notification],
    *,
    now: datetime | None = None,
    references: Mapping[int, str] | None = None,
) -> list[OutgoingEmail]:
    """Queue an email for each notification whose recipient chose its kind by email and has
    an email address, in the caller's transaction; sent after it commits. The notifications
    must be saved (they need their ids). At most three queries, however many notifications:
    the recipients with their choices, the enquiries' references (unless the caller has them
    in `references`, by enquiry id) and the insert."""
    if not notifications:
        return []
    recipients = {notification.recipient_id for notification in notifications}
    people = {
        pk: (address, chosen_kinds(None) if kinds is None else set(kinds))
        for pk, address, kinds in User.objects.filter(pk__in=recipients, is_active=True)
        .exclude(email="")
        .values_list("pk", "email", "email_preference__kinds")
    }
    wanted = [
        notification
        for notification in notifications
        if notification.recipient_id in people
        and notification.kind in people[notification.recipient_id][1]
    ]
    if not wanted:
        return []
    enquiry_ids = {n.enquiry_id for n in wanted if n.enquiry_id is not None}
    if references is None or not enquiry_ids <= set(references):
        references = dict(
            Enquiry.objects.filter(pk__in=enquiry_ids).values_list("pk", "reference")
            if enquiry_ids
            else ()
        )
    now = now or timezone.now()
    emails = []
    for notification in wanted:
        reference = references.get(notification.enquiry_id) if notification.enquiry_id else None
        emails.append(
            OutgoingEmail(
                kind=OutgoingEmail.Kind.NOTIFICATION,
                to_address=people[notification.recipient_id][0],
                recipient_id=notification.recipient_id,
                enquiry_id=notification.enquiry_id,
                notification_id=notification.pk,
                subject=notification_subject(kind=notification.kind, reference=reference),
                body=notification_body(kind=notification.kind, reference=reference),
                queued_at=now,
            )
        )
    OutgoingEmail.objects.bulk_create(emails)
    _send_after_commit(emails)
    return emails


def _send_after_commit(emails: Sequence[OutgoingEmail]) -> None:
    from .tasks import send_email  # the tasks import this module's callers

    for email in emails:
        send_email.delay_on_commit(email.pk)


# Sending


def email_deliver(*, email_id: int, final: bool = True, now: datetime | None = None) -> str:
    """Send one queued email and record how it went; returns its status.

    The row stays locked while the message goes, so a twin task (a retry overtaking a slow
    first try, a task redelivered after a worker died) waits and then finds it sent: an email
    is never sent twice. A failure is recorded with its error; it stays queued for the next
    try unless this was the `final` one, which leaves it failed."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return Status.FAILED
        if email.status == Status.SENT:
            return email.status
        now = now or timezone.now()
        email.attempts += 1
        email.last_attempt_at = now
        message = EmailMessage(
            subject=email.subject,
            body=email.body,
            to=[email.to_address],
            # Out-of-office replies and the like are not sent back to a notification.
            headers={"Auto-Submitted": "auto-generated"}
            if email.kind == OutgoingEmail.Kind.NOTIFICATION
            else {},
        )
        try:
            message.send()
        except Exception as error:  # noqa: BLE001 - whatever failed is recorded, then retried
            email.status = Status.FAILED if final else Status.QUEUED
            email.last_error = f"{type(error).__name__}: {error}"[:1000]
            logger.warning("Email %s not sent (attempt %s): %s", email.pk, email.attempts, error)
        else:
            email.status, email.sent_at, email.last_error = Status.SENT, now, ""
        email.save(update_fields=["status", "attempts", "last_attempt_at", "last_error", "sent_at"])
        return email.status
