"""Every change to an enquiry: intake, rating, state, assignment, decision, feedback.

Each service checks the actor's role, runs in one transaction, locks the enquiry, refuses a
write made against a version the user no longer sees, and appends to the enquiry's history.
HTML views and the API call these and nothing else.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import cast

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from agencies.models import Role, User
from audit.models import AccessLogEntry

from . import hooks, mail
from .clock import clock_in_force
from .exceptions import IntakeKeyReused, StaleEdit
from .models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    FamilyEnquiry,
    IntakeKey,
    LawfulBasis,
    Notification,
    Outcome,
    Person,
    Rag,
    ReferenceCounter,
    ReferrerType,
)
from .timing import put_timing
from .worktime import working_minutes_between

State = Enquiry.State

# Moves a researcher or manager makes by hand; decided and closed have services of their own.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.RECEIVED: frozenset({State.SCREENING}),
    State.SCREENING: frozenset({State.RESEARCHING, State.AWAITING_DECISION}),
    State.RESEARCHING: frozenset({State.SCREENING, State.AWAITING_DECISION}),
    State.AWAITING_DECISION: frozenset({State.RESEARCHING}),
}

TRIAGE_ROLES = (Role.RESEARCHER, Role.MANAGER)


@dataclass(frozen=True)
class PersonDetails:
    """A person to add to the register at intake (after the duplicate check)."""

    first_name: str
    last_name: str
    date_of_birth: date | None = None
    approximate_age: int | None = None
    address: str = ""
    nhs_number: str = ""


def _require_role(actor: User, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied("Your role does not allow this.")


def _require_text(field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _allocate_references(*, year: int, count: int) -> list[int]:
    """Take the next `count` numbers of the year under a row lock: no gaps, no duplicates."""
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return list(range(first, first + count))


def _set_timing(enquiry: Enquiry) -> list[str]:
    """Put the clock's deadline and thresholds for the enquiry's rating on it."""
    return put_timing(
        enquiry, clock_in_force().timing(rating=enquiry.rating, received_at=enquiry.received_at)
    )


def _record(
    enquiry: Enquiry,
    *,
    kind: str,
    actor: User,
    at: datetime,
    from_value: str = "",
    to_value: str = "",
    rationale: str = "",
    person: Person | None = None,
    changes: Sequence[Sequence[str]] = (),
) -> None:
    """A line in the enquiry's history at its current version; an amendment says whom it was
    about and what it changed ([label, before, after] each)."""
    EnquiryEvent.objects.create(
        enquiry=enquiry,
        version=enquiry.version,
        kind=kind,
        actor=actor,
        at=at,
        from_value=from_value[:200],
        to_value=to_value[:200],
        rationale=rationale,
        person=person,
        changes=[list(change) for change in changes],
    )


def _person(details: Person | PersonDetails) -> Person:
    if isinstance(details, Person):
        return details
    person = Person(**details.__dict__)
    person.full_clean()
    person.save()
    return person


def without_consent_lawful_basis_error(lawful_basis: str) -> str | None:
    """What is wrong with the lawful basis given for sharing without consent, if anything."""
    if not lawful_basis:
        return "Choose the lawful basis for sharing without consent."
    if lawful_basis not in LawfulBasis.values:
        return "Choose one of the lawful bases listed."
    return None


def _named_twice(people: Sequence[Person | PersonDetails]) -> Person | None:
    """A register entry named twice in one intake (say, as a subject and as a parent)."""
    seen: set[int] = set()
    for person in people:
        if isinstance(person, Person):
            if person.pk in seen:
                return person
            seen.add(person.pk)
    return None


@transaction.atomic
def enquiry_intake(
    *,
    actor: User,
    received_at: datetime,
    referrer_name: str,
    referrer_type: ReferrerType,
    subjects: Sequence[Person | PersonDetails],
    subject_type: str,
    concern: str,
    categories: Sequence[str],
    consent: str,
    consent_reason: str = "",
    lawful_basis: str = "",
    referrer_organisation: str = "",
    referrer_contact: str = "",
    others: Sequence[tuple[Person | PersonDetails, str]] = (),
    idempotency_key: str | None = None,
    now: datetime | None = None,
    referred_by_agency: bool = False,
) -> list[Enquiry]:
    """Log a concern at the front door: one enquiry per subject, together in one family.

    Several children of one household make a family enquiry; each child's enquiry also names
    the others as siblings, and everyone in `others` (parents, alleged perpetrators...) is in
    every enquiry of the family.

    Without consent, the hub must say which law it shares under (`lawful_basis`); with
    consent it shares on that, and a lawful basis sent with it is not recorded.

    With an `idempotency_key`, the same intake sent again (a double click, a client retrying
    after a lost answer) returns the family the first one logged instead of logging it twice,
    even while the first is still being saved; the key with different details is refused.

    `referred_by_agency`: an agency's practitioner refers work its own firewall rule let them
    do (a police force's domestic-abuse triage, sharing.domestic_abuse), not the front door's
    researchers and managers.
    """
    if not referred_by_agency:
        _require_role(actor, *TRIAGE_ROLES)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if timezone.is_naive(received_at):
        errors["received_at"] = "Give the time the enquiry was received with its time zone."
    elif received_at > now:
        errors["received_at"] = "An enquiry cannot be received in the future."
    if not subjects:
        errors["subjects"] = "Name at least one child or adult the concern is about."
    if not (concern or "").strip():
        errors["concern"] = "Record the concern as the referrer told it."
    if not (referrer_name or "").strip():
        errors["referrer_name"] = "Record who made the referral ('Anonymous' if unknown)."
    unknown = sorted(set(categories) - set(Enquiry.Concern.values))
    if not categories:
        errors["categories"] = "Choose at least one category of concern."
    elif unknown:
        errors["categories"] = f"Unknown categories of concern: {', '.join(unknown)}."
    if consent not in Enquiry.Consent.values:
        errors["consent"] = "Say whether consent to share was obtained."
    elif consent != Enquiry.Consent.YES:
        if not (consent_reason or "").strip():
            errors["consent_reason"] = "Record why the hub proceeds without consent to share."
        if lawful_basis_error := without_consent_lawful_basis_error(lawful_basis):
            errors["lawful_basis"] = lawful_basis_error
    if consent == Enquiry.Consent.YES:
        lawful_basis = ""
    if subject_type not in Enquiry.SubjectType.values:
        errors["subject_type"] = "Say whether the subject is a child or an adult at risk."
    if not referrer_type.is_active:
        errors["referrer_type"] = "That referrer type is no longer in use."
    named_twice = _named_twice([*subjects, *(person for person, _ in others)])
    if named_twice:
        errors["others"] = f"{named_twice} is named more than once; name each person once."
    if errors:
        raise ValidationError(errors)

    claim = None
    if idempotency_key:
        fingerprint = _intake_fingerprint(
            received_at=received_at,
            referrer_name=referrer_name,
            referrer_type=referrer_type,
            subjects=list(subjects),
            subject_type=subject_type,
            concern=concern,
            categories=sorted(set(categories)),
            consent=consent,
            consent_reason=consent_reason,
            lawful_basis=lawful_basis,
            referrer_organisation=referrer_organisation,
            referrer_contact=referrer_contact,
            others=list(others),
        )
        claim, logged = _claim_intake_key(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if logged is not None:
            return logged

    received_at = received_at.replace(second=0, microsecond=0)
    year = timezone.localtime(received_at).year
    numbers = _allocate_references(year=year, count=len(subjects))
    family = FamilyEnquiry.objects.create(reference=f"MASH-F-{year}-{numbers[0]:06d}")
    people = [_person(subject) for subject in subjects]
    involved = [(_person(person), role) for person, role in others]
    enquiries = []
    for number, subject in zip(numbers, people, strict=True):
        enquiry = Enquiry(
            reference=f"MASH-{year}-{number:06d}",
            family=family,
            received_at=received_at,
            referrer_name=referrer_name.strip(),
            referrer_organisation=referrer_organisation.strip(),
            referrer_type=referrer_type,
            referrer_contact=referrer_contact.strip(),
            subject=subject,
            subject_type=subject_type,
            categories=sorted(set(categories)),
            concern=concern.strip(),
            consent=consent,
            consent_reason=consent_reason.strip(),
            lawful_basis=lawful_basis,
            created_by=actor,
        )
        _set_timing(enquiry)
        enquiry.save()
        links = [EnquiryPerson(enquiry=enquiry, person=subject, role=EnquiryPerson.Role.SUBJECT)]
        links += [
            EnquiryPerson(enquiry=enquiry, person=sibling, role=EnquiryPerson.Role.SIBLING)
            for sibling in people
            if sibling != subject
        ]
        links += [EnquiryPerson(enquiry=enquiry, person=p, role=role) for p, role in involved]
        EnquiryPerson.objects.bulk_create(links)
        _record(enquiry, kind=EnquiryEvent.Kind.RECEIVED, actor=actor, at=now)
        enquiries.append(enquiry)
    if claim is not None:
        claim.family = family
        claim.save(update_fields=["family"])
    return enquiries


def _intake_fingerprint(**inputs) -> str:
    """A digest of what an intake was sent with, to tell a repeat from a different intake."""

    def plain(value):
        if isinstance(value, models.Model):
            return f"{value._meta.label}:{value.pk}"
        if isinstance(value, PersonDetails):
            return asdict(value)
        if isinstance(value, date):  # and datetime
            return value.isoformat()
        raise TypeError(f"cannot fingerprint {type(value).__name__}")

    text = json.dumps(inputs, sort_keys=True, default=plain)
    return hashlib.sha256(text.encode()).hexdigest()


def _claim_intake_key(
    *, actor: User, key: str, fingerprint: str
) -> tuple[IntakeKey | None, list[Enquiry] | None]:
    """Claim `key` for this intake, or find what it already logged.

    Returns (the new claim, None), or (None, the enquiries logged with the key). The unique
    (user, key) constraint decides a race: a twin request's insert waits for the first's
    transaction and, once it commits, finds its family; if it rolled back, the twin logs.
    """
    claim, created = IntakeKey.objects.get_or_create(
        created_by=actor, key=key, defaults={"fingerprint": fingerprint}
    )
    if created:
        return claim, None
    logged = list(Enquiry.objects.filter(family_id=claim.family_id).order_by("pk"))
    if claim.fingerprint != fingerprint:
        raise IntakeKeyReused(references=[enquiry.reference for enquiry in logged])
    return None, logged


def _lock_for_edit(enquiry: Enquiry, expected_version: int | None) -> Enquiry:
    """The enquiry as it is now, locked, at its next version; refused if it moved on since
    the user read it (`expected_version` None skips the check, for urgent actions)."""
    current = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if expected_version is not None and current.version != expected_version:
        changes = [
            f"{event.get_kind_display().lower()} by {event.actor} at "
            f"{timezone.localtime(event.at):%H:%M}"
            for event in current.events.filter(version__gt=expected_version).select_related("actor")
        ]
        raise StaleEdit(changes=changes, current_version=current.version)
    current.version += 1
    return current


def _save(enquiry: Enquiry, fields: list[str]) -> Enquiry:
    enquiry.save(update_fields=[*fields, "version", "updated_at"])
    return enquiry


def _require_open(enquiry: Enquiry) -> None:
    if not enquiry.is_open:
        raise ValidationError("This enquiry has been decided; it can no longer change.")


@transaction.atomic
def enquiry_rate(
    *,
    enquiry: Enquiry,
    actor: User,
    rating: str,
    rationale: str,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """Give or change the RAG rating; the deadline moves with it, counted from receipt."""
    _require_role(actor, *TRIAGE_ROLES)
    if rating not in Rag.values:
        raise ValidationError({"rating": "Choose red, amber, green or no RAG."})
    rationale = _require_text("rationale", rationale, "Give the reason for this rating.")
    enquiry = _lock_for_edit(enquiry, expected_version)
    _require_open(enquiry)
    now = now or timezone.now()
    previous = enquiry.rating
    enquiry.rating, enquiry.rating_rationale = rating, rationale
    fields = ["rating", "rating_rationale", *_set_timing(enquiry)]
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.RATING,
        actor=actor,
        at=now,
        from_value=previous,
        to_value=rating,
        rationale=rationale,
    )
    if enquiry.state == State.RECEIVED:
        enquiry.state = State.SCREENING
        fields.append("state")
        _record(
            enquiry,
            kind=EnquiryEvent.Kind.STATE,
            actor=actor,
            at=now,
            from_value=State.RECEIVED,
            to_value=State.SCREENING,
        )
    _save(enquiry, fields)
    hooks.timing_changed.send(sender=Enquiry, enquiries=[enquiry])
    return enquiry


@transaction.atomic
def enquiry_move(
    *,
    enquiry: Enquiry,
    actor: User,
    to_state: str,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """Move an open enquiry along its process (screening, researching, awaiting decision)."""
    _require_role(actor, *TRIAGE_ROLES)
    enquiry = _lock_for_edit(enquiry, expected_version)
    _require_open(enquiry)
    if to_state not in TRANSITIONS.get(enquiry.state, ()):
        target = State(to_state).label.lower() if to_state in State.values else repr(to_state)
        raise ValidationError(
            {
                "to_state": (
                    f"An enquiry that is {enquiry.get_state_display().lower()} cannot move "
                    f"to {target}."
                )
            }
        )
    previous = enquiry.state
    enquiry.state = to_state
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.STATE,
        actor=actor,
        at=now or timezone.now(),
        from_value=previous,
        to_value=to_state,
    )
    return _save(enquiry, ["state"])


@transaction.atomic
def enquiry_assign(
    *,
    enquiry: Enquiry,
    actor: User,
    assignee: User | None,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """Give the enquiry to a researcher or manager (a manager may reassign anyone's work)."""
    _require_role(actor, *TRIAGE_ROLES)
    if assignee is not None and not assignee.has_role(*TRIAGE_ROLES):
        raise ValidationError({"assignee": "Enquiries go to researchers or managers."})
    enquiry = _lock_for_edit(enquiry, expected_version)
    _require_open(enquiry)
    if enquiry.assignee_id not in (None, actor.pk) and not actor.has_role(Role.MANAGER):
        raise PermissionDenied("Only a manager can reassign someone else's enquiry.")
    previous = str(enquiry.assignee or "")
    enquiry.assignee = assignee
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.ASSIGNEE,
        actor=actor,
        at=now or timezone.now(),
        from_value=previous,
        to_value=str(assignee or ""),
    )
    return _save(enquiry, ["assignee"])


def escalated_message(*, reference: str, by: str, deadline: datetime) -> str:
    due = f"{timezone.localtime(deadline):%a %d %b %H:%M}"
    return f"{reference} escalated by {by}: Red, the decision due by {due}."


def _notify_escalation(enquiry: Enquiry, *, actor: User, now: datetime) -> None:
    """Tell every active manager and the assignee, but not whoever escalated; by email too
    for those who chose it (by default, everyone)."""
    managers = User.objects.filter(is_active=True, groups__name=Role.MANAGER)
    told = set(managers.values_list("pk", flat=True).distinct())
    assignee = enquiry.assignee
    if assignee is not None and assignee.is_active:
        told.add(assignee.pk)
    told.discard(actor.pk)
    message = escalated_message(
        reference=enquiry.reference, by=str(actor), deadline=enquiry.deadline
    )
    notifications = Notification.objects.bulk_create(
        Notification(
            recipient_id=recipient,
            enquiry=enquiry,
            kind=Notification.Kind.ESCALATED,
            message=message,
            created_at=now,
        )
        for recipient in sorted(told)
    )
    mail.email_notifications(notifications, now=now)


@transaction.atomic
def enquiry_escalate(
    *, enquiry: Enquiry, actor: User, reason: str, now: datetime | None = None
) -> Enquiry:
    """Flag for immediate protection: Red at once, whatever else was in hand.

    No version check: an escalation must never be refused because someone else edited the
    enquiry a moment before. Escalating again after a manager acknowledged it clears the
    acknowledgement: the new escalation needs a manager of its own, and is repeated until one
    takes it (enquiries.escalations).
    """
    _require_role(actor, *TRIAGE_ROLES)
    reason = _require_text("reason", reason, "Say why the child or adult needs protection now.")
    enquiry = _lock_for_edit(enquiry, expected_version=None)
    _require_open(enquiry)
    now = now or timezone.now()
    previous = enquiry.rating
    enquiry.rating, enquiry.rating_rationale = Rag.RED, reason
    enquiry.escalated_at = now
    enquiry.escalation_acknowledged_at = enquiry.escalation_acknowledged_by = None
    timing_fields = _set_timing(enquiry)
    _record(enquiry, kind=EnquiryEvent.Kind.ESCALATED, actor=actor, at=now, rationale=reason)
    if previous != Rag.RED:
        _record(
            enquiry,
            kind=EnquiryEvent.Kind.RATING,
            actor=actor,
            at=now,
            from_value=previous,
            to_value=Rag.RED,
            rationale=reason,
        )
    _save(
        enquiry,
        [
            "rating",
            "rating_rationale",
            "escalated_at",
            "escalation_acknowledged_at",
            "escalation_acknowledged_by",
            *timing_fields,
        ],
    )
    hooks.timing_changed.send(sender=Enquiry, enquiries=[enquiry])
    _notify_escalation(enquiry, actor=actor, now=now)
    return enquiry


@transaction.atomic
def enquiry_decide(
    *,
    enquiry: Enquiry,
    actor: User,
    outcome: Outcome,
    rationale: str,
    expected_version: int,
    decided_at: datetime | None = None,
    now: datetime | None = None,
) -> Enquiry:
    """A manager's decision stops the clock; on-time is settled and stored for the reports.
    What the decision ends follows in the same transaction (`hooks.decision_followers`: the
    information requests still open are withdrawn, and each agency told)."""
    _require_role(actor, Role.MANAGER)
    rationale = _require_text("rationale", rationale, "Give the reason for this decision.")
    if not outcome.is_active:
        raise ValidationError({"outcome": "That outcome is no longer in use."})
    enquiry = _lock_for_edit(enquiry, expected_version)
    _require_open(enquiry)
    if not Outcome.objects.fitting(enquiry.subject_type).filter(pk=outcome.pk).exists():
        subject = "a child" if enquiry.subject_type == Enquiry.SubjectType.CHILD else "an adult"
        raise ValidationError(
            {"outcome": f"{outcome} is not an outcome for an enquiry about {subject}."}
        )
    now = now or timezone.now()
    decided_at = (decided_at or now).replace(second=0, microsecond=0)
    if decided_at < enquiry.received_at:
        raise ValidationError({"decided_at": "A decision cannot come before the enquiry."})
    if decided_at > now:
        raise ValidationError({"decided_at": "A decision cannot be recorded in the future."})
    sla = clock_in_force().sla(
        rating=enquiry.rating, received_at=enquiry.received_at, now=now, decided_at=decided_at
    )
    previous = enquiry.state
    enquiry.state = State.DECIDED
    enquiry.outcome, enquiry.decision_rationale = outcome, rationale
    enquiry.decided_at, enquiry.decided_by = decided_at, actor
    enquiry.elapsed_minutes, enquiry.decided_on_time = sla.elapsed, sla.remaining >= 0
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.DECISION,
        actor=actor,
        at=now,
        from_value=previous,
        to_value=outcome.code,
        rationale=rationale,
    )
    _save(
        enquiry,
        [
            "state",
            "outcome",
            "decision_rationale",
            "decided_at",
            "decided_by",
            "elapsed_minutes",
            "decided_on_time",
        ],
    )
    for follower in hooks.decision_followers:
        follower(enquiry, actor, now)
    return enquiry


def enquiry_record_feedback(
    *,
    enquiry: Enquiry,
    actor: User,
    method: str,
    text: str,
    expected_version: int,
    sent_at: datetime | None = None,
    now: datetime | None = None,
    channel: str = AccessLogEntry.Channel.PAGE,
    email_to: str = "",
) -> Enquiry:
    """Feedback to the referrer on the outcome and next steps closes the enquiry.

    It leaves the hub, so it may not quote a record its writer can read (sharing's check, run
    through `hooks.feedback_checks`). A quote is refused before the transaction starts, so the
    access log keeps the attempt (`channel`: page or API); the rest is checked and written in
    `_close_with_feedback`'s transaction.

    With `email_to` the hub sends it, by email to that address, now: the text as written and
    a fixed footer (`mail.feedback_body`), queued in the same transaction and sent after it
    commits. A quote refused sends nothing."""
    _require_role(actor, *TRIAGE_ROLES)
    method = _require_text("method", method, "Say how the referrer was told (phone, email...).")
    text = _require_text("text", text, "Record what the referrer was told.")
    email_to = (email_to or "").strip()
    if email_to:
        if method.casefold() != mail.EMAIL_METHOD.casefold():
            raise ValidationError(
                {"method": "Feedback sent to an email address goes by email: choose Email."}
            )
        if address_error := mail.email_address_error(email_to):
            raise ValidationError({"email_to": address_error})
        minute = (now or timezone.now()).replace(second=0, microsecond=0)
        if sent_at is not None and sent_at < minute:
            raise ValidationError({"sent_at": "An email goes now: leave the time out."})
    if not hooks.feedback_checks:
        # Unchecked feedback could carry a record out of the hub: refuse rather than send.
        raise ImproperlyConfigured(
            "Nothing checks feedback for quoted records: is `sharing` installed?"
        )
    for check in hooks.feedback_checks:
        refusal = check(actor, enquiry, text, channel)
        if refusal is not None:
            raise ValidationError({"text": refusal})
    return _close_with_feedback(
        enquiry=enquiry,
        actor=actor,
        method=method,
        text=text,
        expected_version=expected_version,
        sent_at=sent_at,
        now=now,
        email_to=email_to,
    )


@transaction.atomic
def _close_with_feedback(
    *,
    enquiry: Enquiry,
    actor: User,
    method: str,
    text: str,
    expected_version: int,
    sent_at: datetime | None,
    now: datetime | None,
    email_to: str = "",
) -> Enquiry:
    enquiry = _lock_for_edit(enquiry, expected_version)
    if enquiry.state != State.DECIDED:
        raise ValidationError("Feedback follows the decision: this enquiry is not decided.")
    now = now or timezone.now()
    sent_at = (sent_at or now).replace(second=0, microsecond=0)
    decided_at = cast(datetime, enquiry.decided_at)  # a decided enquiry's is never empty
    if sent_at < decided_at or sent_at > now:
        raise ValidationError(
            {"sent_at": "Feedback is sent after the decision, and not later than now."}
        )
    enquiry.state = State.CLOSED
    enquiry.feedback_at, enquiry.feedback_method, enquiry.feedback_text = sent_at, method, text
    enquiry.feedback_minutes = working_minutes_between(
        clock_in_force().calendar, decided_at, sent_at
    )
    _record(
        enquiry,
        kind=EnquiryEvent.Kind.FEEDBACK,
        actor=actor,
        at=now,
        from_value=State.DECIDED,
        to_value=State.CLOSED,
        rationale=method,
    )
    if email_to:
        mail.feedback_email_queue(
            enquiry=enquiry, to_address=email_to, text=text, actor=actor, now=now
        )
    return _save(
        enquiry, ["state", "feedback_at", "feedback_method", "feedback_text", "feedback_minutes"]
    )
