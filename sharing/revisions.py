"""Correcting and withdrawing an information record (docs/domain.md section 5.5).

A practitioner of the owning agency may correct a record their agency gave, or withdraw it,
at any time; nobody else may. Until someone outside the agency has read its content
(`first_read_at`, sharing.reads) it is as good as a draft: a reason is optional and nobody is
told. After that a reason is required, and whoever works on the enquiry for the hub is told
that the agency corrected or withdrew what it had shared, and why, never what it said.

Each correction or withdrawal keeps what the record said before (`RecordRevision.previous`,
read by the agency's practitioners only), moves the record's version on (an edit made
against an older version is refused as stale) and is written to the access log.

- A correction may change the sensitivity. Marked sensitive, the content is hidden from the
  hub from then on (a signpost), unless the agency releases it. Marked non-sensitive, any
  release is moot: the release status goes back to "not requested" and the grant is removed.
- A released record corrected and still sensitive stays released, with its conditions as
  corrected: the agency that released it rewrites what it released, and, once read, the hub
  is told. To take back what it released, the agency withdraws it.
- A withdrawn record is read by its own agency only; everyone else sees "Withdrawn by ... on
  ...: reason" in its place. It cannot be corrected, released or refused any more; a pending
  request for its release is closed and whoever asked is told, read or not, since they are
  waiting for an answer.
"""

from datetime import date, datetime

from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from guardian.shortcuts import remove_perm

from agencies.models import User
from audit.access_log import log_access
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from core.text import TEXT_LIMIT
from enquiries.models import Enquiry, Notification, Person

from . import firewall
from .firewall import Action, ShownRecord
from .models import InformationRecord, RecordRevision, ReleaseStatus, Sensitivity
from .services import _checked, _notify, logs_refusals, working_on_it

Log = AccessLogEntry.Action

# What a revision keeps of the record as it was: the fields a correction may change.
REVISED_FIELDS = (
    "person_id",
    "summary",
    "detail",
    "source_system",
    "information_date",
    "sensitivity",
    "release_status",
    "conditions",
)


def record_corrected_message(*, reference: str, agency: str, reason: str) -> str:
    return f"{reference}: {agency} corrected information it had shared. Why: {reason}"


def record_withdrawn_message(*, reference: str, agency: str, reason: str) -> str:
    return f"{reference}: {agency} withdrew information it had shared. Why: {reason}"


def release_closed_message(*, reference: str, agency: str, withdrawn: bool) -> str:
    what = (
        "withdrew the record you asked it to release"
        if withdrawn
        else "corrected the record you asked it to release: it is no longer sensitive, "
        "so you can read it"
    )
    return f"{reference}: {agency} {what}."


def _previous(record: InformationRecord) -> dict:
    """The record's revisable fields as they are, for `RecordRevision.previous`."""
    values = {name: getattr(record, name) for name in REVISED_FIELDS}
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in values.items()
    }


def _changes_since(record: InformationRecord) -> list[str]:
    """What changed a record since a stale edit's author read it, in words."""
    last = record.revisions.select_related("revised_by").order_by("-revised_at", "-id").first()
    if last is not None:
        at = timezone.localtime(last.revised_at)
        return [f"{last.get_kind_display().lower()} by {last.revised_by} at {at:%H:%M}"]
    return [f"it is now {ReleaseStatus(record.release_status).label.lower()}"]


def _locked(
    actor: User, action: Action, record_pk, expected_version
) -> tuple[ShownRecord, InformationRecord]:
    """The record as the firewall shows it to the actor (404 if it does not exist for them),
    checked for the action (403), then locked, checked again under the lock, and at the
    version the actor read."""
    shown = firewall.record_for(actor, record_pk)
    firewall.require(actor, action, shown)
    record = InformationRecord.objects.select_for_update().get(pk=shown.pk)
    shown = firewall.record_for(actor, record.pk)
    firewall.require(actor, action, shown)
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        expected = None
    if expected != record.version:
        raise StaleEdit(
            current_version=record.version,
            changes=_changes_since(record),
            what="information record",
        )
    return shown, record


def _reason(errors: dict, reason: str, *, after_read: bool, agency: str, doing: str) -> str:
    required = (
        f"Someone outside {agency} has read this record: say why you are {doing} it. The "
        "hub is told your reason."
        if after_read
        else ""
    )
    return _checked(errors, "reason", reason, required=required)


def _tell_pending_requesters(
    record: InformationRecord, shown: ShownRecord, *, withdrawn: bool, now: datetime
) -> None:
    """Whoever asked for a release still pending learns that the question is closed."""
    requesters = User.objects.filter(
        pk__in=record.release_requests.filter(decisions__isnull=True).values("requested_by_id"),
        is_active=True,
    )
    _notify(
        recipients=requesters,
        enquiry_id=record.enquiry_id,
        kind=(
            Notification.Kind.RECORD_WITHDRAWN if withdrawn else Notification.Kind.RECORD_CORRECTED
        ),
        message=release_closed_message(
            reference=shown.enquiry_reference, agency=shown.agency_name, withdrawn=withdrawn
        ),
        now=now,
    )


def _tell_the_hub(record: InformationRecord, *, kind: str, message: str, now: datetime) -> None:
    enquiry = Enquiry.objects.only("reference", "assignee_id").get(pk=record.enquiry_id)
    _notify(
        recipients=working_on_it(enquiry, record.request),
        enquiry_id=record.enquiry_id,
        kind=kind,
        message=message,
        now=now,
    )


def _remove_release(record: InformationRecord) -> None:
    """A record corrected to non-sensitive needs no release: the grant goes, so that marking
    it sensitive again later hides it again."""
    record.release_status = ReleaseStatus.NOT_REQUESTED
    for group in Group.objects.filter(name__in=firewall.WORKING_ROLES):
        remove_perm(f"sharing.{firewall.VIEW_CONTENT}", group, record)


@logs_refusals("correct a record")
def correct_record(
    *,
    record_pk,
    actor: User,
    summary: str,
    detail: str,
    source_system: str,
    information_date: date | None,
    sensitivity: str,
    conditions: str = "",
    person: Person | None = None,
    reason: str = "",
    expected_version,
    channel: str,
    now: datetime | None = None,
) -> InformationRecord:
    """A practitioner of the owning agency corrects its record: the whole record as it should
    be, at the version they read."""
    shown, record = _locked(actor, Action.CORRECT, record_pk, expected_version)
    now = now or timezone.now()
    after_read = record.first_read_at is not None
    errors: dict = {}
    summary = _checked(
        errors, "summary", summary, required="Give a one-line summary.", max_length=200
    )
    detail = _checked(errors, "detail", detail, required="Give the information itself.")
    source_system = _checked(
        errors,
        "source_system",
        source_system,
        required="Say which of your agency's systems it comes from.",
        max_length=100,
    )
    conditions = _checked(errors, "conditions", conditions, max_length=TEXT_LIMIT)
    reason = _reason(
        errors, reason, after_read=after_read, agency=shown.agency_name, doing="correcting"
    )
    if sensitivity not in Sensitivity.values:
        errors["sensitivity"] = "Say whether the information is sensitive."
    if not information_date:
        errors["information_date"] = "Give the date the information was recorded."
    elif information_date > timezone.localdate(now):
        errors["information_date"] = (
            "The date the information was recorded cannot be in the future."
        )
    person_id = record.person_id if person is None else person.pk
    if (
        person_id != record.person_id
        and not record.enquiry.involvements.filter(person_id=person_id).exists()
    ):
        errors["person"] = "Choose someone named in this enquiry."
    if errors:
        raise ValidationError(errors)
    corrected = {
        "person_id": person_id,
        "summary": summary,
        "detail": detail,
        "source_system": source_system,
        "information_date": information_date,
        "sensitivity": sensitivity,
        "conditions": conditions,
    }
    if all(getattr(record, name) == value for name, value in corrected.items()):
        raise ValidationError(
            {NON_FIELD_ERRORS: "Nothing has changed: correct what was wrong, or go back."}
        )
    previous = _previous(record)
    pending_release = record.release_status == ReleaseStatus.REQUESTED
    becomes_open = record.is_sensitive and sensitivity == Sensitivity.NON_SENSITIVE
    for name, value in corrected.items():
        setattr(record, name, value)
    if becomes_open:
        _remove_release(record)
    record.version += 1
    record.save(update_fields=[*corrected, "release_status", "version"])
    RecordRevision.objects.create(
        record=record,
        kind=RecordRevision.Kind.CORRECTED,
        revised_at=now,
        revised_by=actor,
        reason=reason,
        after_read=after_read,
        previous=previous,
        version=record.version,
    )
    log_access(
        user=actor,
        action=Log.CORRECT_RECORD,
        channel=channel,
        records=[record],
        reason=reason or f"Corrected before anyone outside {shown.agency_name} read it.",
    )
    if becomes_open and pending_release:
        _tell_pending_requesters(record, shown, withdrawn=False, now=now)
    if after_read:
        _tell_the_hub(
            record,
            kind=Notification.Kind.RECORD_CORRECTED,
            message=record_corrected_message(
                reference=shown.enquiry_reference, agency=shown.agency_name, reason=reason
            ),
            now=now,
        )
    return record


@logs_refusals("withdraw a record")
def withdraw_record(
    *,
    record_pk,
    actor: User,
    reason: str = "",
    expected_version,
    channel: str,
    now: datetime | None = None,
) -> InformationRecord:
    """A practitioner of the owning agency withdraws its record: from now on only the agency
    reads it, and everyone else sees that it was withdrawn, when and why."""
    shown, record = _locked(actor, Action.WITHDRAW, record_pk, expected_version)
    now = now or timezone.now()
    after_read = record.first_read_at is not None
    errors: dict = {}
    reason = _reason(
        errors, reason, after_read=after_read, agency=shown.agency_name, doing="withdrawing"
    )
    if errors:
        raise ValidationError(errors)
    previous = _previous(record)
    pending_release = record.release_status == ReleaseStatus.REQUESTED
    record.withdrawn_at = now
    record.withdrawn_by = actor
    record.withdrawal_reason = reason
    if pending_release:
        record.release_status = ReleaseStatus.NOT_REQUESTED
    record.version += 1
    record.save(
        update_fields=[
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_reason",
            "release_status",
            "version",
        ]
    )
    RecordRevision.objects.create(
        record=record,
        kind=RecordRevision.Kind.WITHDRAWN,
        revised_at=now,
        revised_by=actor,
        reason=reason,
        after_read=after_read,
        previous=previous,
        version=record.version,
    )
    log_access(
        user=actor,
        action=Log.WITHDRAW_RECORD,
        channel=channel,
        records=[record],
        reason=reason or f"Withdrawn before anyone outside {shown.agency_name} read it.",
    )
    if pending_release:
        _tell_pending_requesters(record, shown, withdrawn=True, now=now)
    if after_read:
        _tell_the_hub(
            record,
            kind=Notification.Kind.RECORD_WITHDRAWN,
            message=record_withdrawn_message(
                reference=shown.enquiry_reference, agency=shown.agency_name, reason=reason
            ),
            now=now,
        )
    return record
