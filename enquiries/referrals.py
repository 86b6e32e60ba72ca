"""Onward referrals: the hub handing an enquiry on after its decision (docs/domain.md 6.2).

After the decision (most often one whose outcome leads to referral, but a MARAC referral or
early help after other outcomes is handed on too), a manager records to whom it went, when and
how; the picture (`hooks.picture_pdf`) is compiled for the manager at that moment and kept
with the referral, so what was sent can be read again exactly as it was. The receiving team's
answer, accepted or returned with a reason, is recorded by the hub; a return tells whoever
sent it. A returned referral is not undone: the hub refers on again, to the same team or
another, as a new referral.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import HUB_ROLES, Role, User
from audit.access_log import log_access
from audit.models import AccessLogEntry

from . import hooks
from .exceptions import StaleEdit
from .mail import email_notifications
from .models import Enquiry, EnquiryEvent, Notification, OnwardReferral
from .services import _lock_for_edit, _record, _require_role, _save

Destination = OnwardReferral.Destination
Status = OnwardReferral.Status

# Where a referral about a child, or an adult at risk, may not go.
NOT_FOR: dict[str, set[str]] = {
    Enquiry.SubjectType.CHILD: {Destination.ADULT_SOCIAL_CARE},
    Enquiry.SubjectType.ADULT: {
        Destination.CSC_ASSESSMENT,
        Destination.CSC_STRATEGY,
        Destination.EARLY_HELP,
    },
}
# Destinations too broad to act on without the receiving team's name.
NAMED = {Destination.OTHER_LOCAL_AUTHORITY, Destination.OTHER}


def destinations_for(subject_type: str) -> list[tuple[str, str]]:
    """The destinations a referral about this kind of subject may go to, as form choices."""
    barred = NOT_FOR.get(subject_type, set())
    return [(value, label) for value, label in Destination.choices if value not in barred]


def referral_refusal(enquiry: Enquiry) -> str | None:
    """Why this enquiry cannot be referred on now, or None."""
    if enquiry.state not in (Enquiry.State.DECIDED, Enquiry.State.CLOSED):
        return "An enquiry is referred on after its decision: this one is not decided yet."
    return None


def referrals_of(enquiry: Enquiry) -> QuerySet[OnwardReferral]:
    """The enquiry's referrals, oldest first, without the pictures' bytes."""
    return (
        enquiry.referrals.defer("picture")
        .select_related("sent_by", "answer_recorded_by")
        .order_by("sent_at", "id")
    )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def refer_on(
    *,
    enquiry: Enquiry,
    actor: User,
    destination: str,
    method: str,
    team: str = "",
    note: str = "",
    sent_at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> OnwardReferral:
    """Record that the enquiry went to `destination`, with the picture compiled for `actor`
    now. The picture is compiled (and its compiling logged) before the write's transaction, so
    a referral refused on its details still leaves the look at the information in the log."""
    _require_role(actor, Role.MANAGER)
    errors: dict[str, str] = {}
    if destination not in Destination.values:
        errors["destination"] = "Choose where the enquiry was referred."
    elif destination in NOT_FOR.get(enquiry.subject_type, set()):
        subject = "a child" if enquiry.subject_type == Enquiry.SubjectType.CHILD else "an adult"
        errors["destination"] = (
            f"{Destination(destination).label} does not take referrals about {subject}."
        )
    if method not in OnwardReferral.Method.values:
        errors["method"] = "Choose how the referral was sent."
    team = (team or "").strip()
    if destination in NAMED and not team:
        errors["team"] = "Name the team or authority the enquiry was referred to."
    now = now or timezone.now()
    sent_at = _minute(sent_at or now)
    decided_at = enquiry.decided_at
    if decided_at is not None and sent_at < decided_at:
        errors["sent_at"] = "A referral is sent after the decision, not before it."
    elif sent_at > now:
        errors["sent_at"] = "A referral cannot be recorded as sent in the future."
    refusal = referral_refusal(enquiry)
    if errors:
        raise ValidationError(errors)
    if refusal:
        raise ValidationError(refusal)
    picture = hooks.picture_pdf(actor, enquiry)
    return _store_referral(
        enquiry=enquiry,
        actor=actor,
        destination=destination,
        method=method,
        team=team,
        note=(note or "").strip(),
        sent_at=sent_at,
        picture=picture,
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def _store_referral(
    *,
    enquiry: Enquiry,
    actor: User,
    picture: bytes,
    expected_version: int | None,
    now: datetime,
    **details,
) -> OnwardReferral:
    enquiry = _lock_for_edit(enquiry, expected_version)
    refusal = referral_refusal(enquiry)
    if refusal:
        raise ValidationError(refusal)
    referral = OnwardReferral.objects.create(
        enquiry=enquiry,
        sent_by=actor,
        picture=picture,
        picture_compiled_at=now,
        **details,
    )
    where = referral.get_destination_display()
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.REFERRED_ON,
        actor=actor,
        at=now,
        to_value=f"{where}: {referral.team}" if referral.team else where,
        rationale=referral.get_method_display(),
    )
    _save(enquiry, [])
    return referral


@transaction.atomic
def record_referral_answer(
    *,
    referral: OnwardReferral,
    actor: User,
    accepted: bool,
    answered_by_name: str = "",
    returned_reason: str = "",
    answered_at: datetime | None = None,
    expected_version: int,
    now: datetime | None = None,
) -> OnwardReferral:
    """The receiving team accepted the referral, or returned it with a reason (which tells
    the manager who sent it). An answer is recorded once: a second would rewrite what the hub
    was told."""
    _require_role(actor, *HUB_ROLES)
    current = OnwardReferral.objects.select_for_update().get(pk=referral.pk)
    if current.version != expected_version:
        answer = current.get_status_display().lower()
        raise StaleEdit(
            changes=[f"the referral was marked {answer} since you read it"],
            current_version=current.version,
            what="referral",
        )
    if current.status != Status.SENT:
        raise ValidationError(
            f"The receiving team's answer is already recorded: {current.get_status_display()}."
        )
    now = now or timezone.now()
    answered_at = _minute(answered_at or now)
    errors: dict[str, str] = {}
    if answered_at < current.sent_at or answered_at > now:
        errors["answered_at"] = (
            "The answer comes after the referral was sent, and not later than now."
        )
    reason = (returned_reason or "").strip()
    if not accepted and not reason:
        errors["returned_reason"] = "Say why the receiving team returned the referral."
    if errors:
        raise ValidationError(errors)
    current.status = Status.ACCEPTED if accepted else Status.RETURNED
    current.answered_at = answered_at
    current.answer_recorded_by = actor
    current.answered_by_name = (answered_by_name or "").strip()
    current.returned_reason = "" if accepted else reason
    current.version += 1
    current.save()
    enquiry = Enquiry.objects.select_for_update().get(pk=current.enquiry_id)
    enquiry.version += 1
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.REFERRAL_ANSWERED,
        actor=actor,
        at=now,
        from_value=current.get_destination_display(),
        to_value=current.status,
        rationale=current.returned_reason,
    )
    _save(enquiry, [])
    if not accepted:
        returned = Notification.objects.create(
            recipient_id=current.sent_by_id,
            enquiry=enquiry,
            kind=Notification.Kind.REFERRAL_RETURNED,
            message=(
                f"{enquiry.reference}: {current.get_destination_display()} returned the "
                f"referral: {current.returned_reason}"
            ),
            created_at=now,
        )
        email_notifications([returned], now=now, references={enquiry.pk: enquiry.reference})
    return current


def referral_picture(*, referral: OnwardReferral, reader: User, channel: str) -> bytes:
    """The picture exactly as it was sent, for the hub only; every read is in the access log.
    It was compiled for the hub, so it is never shown to anyone outside it."""
    if not reader.has_role(*HUB_ROLES):
        raise PermissionDenied("Only the hub reads the pictures it sent.")
    picture = OnwardReferral.objects.values_list("picture", flat=True).get(pk=referral.pk)
    log_access(
        user=reader,
        action=AccessLogEntry.Action.EXPORT,
        channel=channel,
        enquiry_id=referral.enquiry_id,
        reason=(
            f"Read the picture sent with the referral to {referral.get_destination_display()} "
            f"on {timezone.localtime(referral.sent_at):%d %B %Y}"
        ),
        terms=f"onward referral {referral.pk}",
    )
    return bytes(picture)
