"""Amending an enquiry after intake (docs/domain.md section 4.8): correcting a person's details
or the referral, adding a person or taking off one added in error, adding a child to a family.

As in `services`, each amendment checks the actor's role, runs in one transaction, locks the
enquiry and refuses a stale version. Each needs a reason and appends one line to the history
of every enquiry it changes, with what it changed before and after, in words. Amendments that
touch a family lock all its enquiries at once, in one order, so two of them wait for each
other rather than deadlock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import User

from . import hooks
from .exceptions import PersonChanged
from .forms import nhs_number_is_valid
from .models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    LawfulBasis,
    Person,
    PersonAlias,
    ReferrerType,
)
from .services import (
    TRIAGE_ROLES,
    PersonDetails,
    _allocate_references,
    _lock_for_edit,
    _person,
    _record,
    _require_open,
    _require_role,
    _require_text,
    _save,
    _set_timing,
    without_consent_lawful_basis_error,
)

Kind = EnquiryEvent.Kind
Role = EnquiryPerson.Role

# [label, before, after], each in words, as the history shows them.
Change = list[str]

NOTHING_CHANGED = "Nothing has changed: change at least one detail, or go back."

PERSON_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "approximate_age": "Approximate age",
    "address": "Address",
    "nhs_number": "NHS number",
}

REFERRAL_FIELDS = {
    "referrer_name": "Referrer's name",
    "referrer_organisation": "Organisation",
    "referrer_type": "Type of referrer",
    "referrer_contact": "Contact for feedback",
    "categories": "Categories of concern",
    "concern": "Concern",
    "consent": "Consent to share",
    "consent_reason": "Why the hub proceeds without consent",
    "lawful_basis": "Lawful basis for sharing without consent",
}

# The parts a person may be given after intake: a child joins as the subject of an enquiry
# of their own, and so becomes everyone else's sibling (`family_add_child`).
ADDABLE_ROLES = [role for role in Role if role not in (Role.SUBJECT, Role.SIBLING)]
ADDABLE_ROLE_CHOICES = [(role.value, role.label) for role in ADDABLE_ROLES]


def _words(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def _referral_words(name: str, value: Any) -> str:
    if name == "categories":
        labels = dict(Enquiry.Concern.choices)
        return ", ".join(labels.get(code, code) for code in value)
    if name == "consent" and value in Enquiry.Consent.values:
        return Enquiry.Consent(value).label
    if name == "lawful_basis" and value in LawfulBasis.values:
        return LawfulBasis(value).label
    return _words(value)


def _unknown_fields(fields: Iterable[str], known: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise TypeError(f"Not an amendable field: {', '.join(unknown)}")


def _lock_family(enquiry: Enquiry, expected_version: int) -> tuple[Enquiry, list[Enquiry]]:
    """The enquiry, locked at its next version, and the rest of its family, locked too."""
    family = list(
        Enquiry.objects.select_for_update().filter(family_id=enquiry.family_id).order_by("pk")
    )
    current = _lock_for_edit(enquiry, expected_version)
    return current, [other for other in family if other.pk != current.pk]


def _person_in_words(person: Person | PersonDetails) -> str:
    return f"{person.first_name} {person.last_name}"


# Correcting a person


def _corrected_person_values(fields: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The details as they will be stored, or field-level errors."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in fields.items():
        if name in ("first_name", "last_name", "address"):
            value = (value or "").strip()
        elif name == "nhs_number":
            value = "".join((value or "").split())
        values[name] = value
    for name in ("first_name", "last_name"):
        if name in values and not values[name]:
            errors[name] = f"Enter the {PERSON_FIELDS[name].lower()}."
    if values.get("nhs_number") and not nhs_number_is_valid(values["nhs_number"]):
        errors["nhs_number"] = "Enter a 10-digit NHS number, like 943 476 5919."
    born = values.get("date_of_birth")
    if born is not None and born > today:
        errors["date_of_birth"] = "A date of birth cannot be in the future."
    age = values.get("approximate_age")
    if age is not None and not 0 <= age <= 120:
        errors["approximate_age"] = "Give an age from 0 to 120."
    if errors:
        raise ValidationError(errors)
    return values


def _person_corrections_since(person: Person, expected: int) -> list[str]:
    corrections = (
        EnquiryEvent.objects.filter(person=person, kind=Kind.PERSON_CORRECTED)
        .select_related("actor", "enquiry")
        .order_by("-id")[: max(person.version - expected, 1)]
    )
    return [
        f"details corrected on {event.enquiry} by {event.actor} at "
        f"{timezone.localtime(event.at):%H:%M}"
        for event in reversed(corrections)
    ]


@transaction.atomic
def person_correct(
    *,
    enquiry: Enquiry,
    person: Person,
    actor: User,
    reason: str,
    expected_version: int,
    expected_person_version: int | None = None,
    keep_old_name_as_previous: bool = False,
    now: datetime | None = None,
    **fields: Any,
) -> Enquiry:
    """Correct a person's details (`fields`: any of `PERSON_FIELDS`) in any state: a record
    must be accurate, decided or not. The register holds one entry for the person, so every
    enquiry naming them shows the correction; this enquiry's history records it.

    With `keep_old_name_as_previous`, a change of name keeps the old one as a previous name,
    which people search still finds; a typo's correction should not. `expected_person_version`
    guards against undoing a correction made meanwhile from another enquiry naming them.
    """
    _require_role(actor, *TRIAGE_ROLES)
    _unknown_fields(fields, PERSON_FIELDS)
    now = now or timezone.now()
    reason = _require_text("reason", reason, "Say why these details are being corrected.")
    values = _corrected_person_values(fields, today=timezone.localdate(now))
    enquiry = _lock_for_edit(enquiry, expected_version)
    if not enquiry.involvements.filter(person_id=person.pk).exists():
        raise ValidationError({"person": f"{person} is not named in this enquiry."})
    person = Person.objects.select_for_update().get(pk=person.pk)
    if expected_person_version is not None and person.version != expected_person_version:
        raise PersonChanged(
            changes=_person_corrections_since(person, expected_person_version),
            current_version=enquiry.version - 1,
            current_person_version=person.version,
        )
    old_name = (person.first_name, person.last_name)
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    if not changed:
        raise ValidationError(NOTHING_CHANGED)
    changes = [
        [PERSON_FIELDS[name], _words(getattr(person, name)), _words(values[name])]
        for name in changed
    ]
    if keep_old_name_as_previous:
        if not {"first_name", "last_name"} & set(changed):
            raise ValidationError(
                {
                    "keep_old_name_as_previous": (
                        "Only a change of name keeps the old one as a previous name."
                    )
                }
            )
        PersonAlias.objects.create(
            person=person,
            kind=PersonAlias.Kind.PREVIOUS_NAME,
            first_name=old_name[0],
            last_name=old_name[1],
        )
    for name in changed:
        setattr(person, name, values[name])
    person.version += 1
    person.full_clean(exclude=["merged_into"])
    person.save(update_fields=[*changed, "version"])
    _record(
        enquiry,
        kind=Kind.PERSON_CORRECTED,
        actor=actor,
        at=now,
        rationale=reason,
        changes=changes,
        person=person,
        to_value=str(person),
    )
    return _save(enquiry, [])


# Adding and removing people


@transaction.atomic
def enquiry_add_person(
    *,
    enquiry: Enquiry,
    actor: User,
    person: Person | PersonDetails,
    role: str,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """Name someone in an open enquiry with their part (a parent, an alleged perpetrator...).

    Everyone but the children appears in every enquiry of a family, so they join every open
    enquiry of this one's family, each with a line in its history; decided ones stay as they
    were decided. Someone new is added to the register (the caller checks it first).
    """
    _require_role(actor, *TRIAGE_ROLES)
    errors = {}
    if role not in ADDABLE_ROLES:
        errors["role"] = (
            "Choose their part: parent or carer, household member, alleged perpetrator or "
            "other. A child of the family is added as a child."
        )
    if not (reason or "").strip():
        errors["reason"] = "Say why this person is being added."
    if errors:
        raise ValidationError(errors)
    enquiry, family = _lock_family(enquiry, expected_version)
    _require_open(enquiry)
    part = Role(role).label
    if isinstance(person, Person):
        roles = set(enquiry.involvements.filter(person=person).values_list("role", flat=True))
        if role in roles:
            raise ValidationError(
                {"person": f"{person} is already in this enquiry as {part.lower()}."}
            )
        if roles & {Role.SUBJECT, Role.SIBLING}:
            raise ValidationError(
                {"person": f"{person} is one of the children of this family enquiry."}
            )
    person = _person(person)
    targets = [enquiry, *(other for other in family if other.is_open)]
    already = set(
        EnquiryPerson.objects.filter(enquiry__in=targets, person=person, role=role).values_list(
            "enquiry_id", flat=True
        )
    )
    targets = [target for target in targets if target.pk not in already]
    EnquiryPerson.objects.bulk_create(
        [EnquiryPerson(enquiry=target, person=person, role=role) for target in targets]
    )
    now = now or timezone.now()
    for target in targets:
        if target is not enquiry:
            target.version += 1
        _record(
            target,
            kind=Kind.PERSON_ADDED,
            actor=actor,
            at=now,
            rationale=reason.strip(),
            changes=[[part, "", str(person)]],
            person=person,
            to_value=f"{person} ({part.lower()})",
        )
        _save(target, [])
    return enquiry


@transaction.atomic
def enquiry_remove_person(
    *,
    enquiry: Enquiry,
    actor: User,
    involvement: EnquiryPerson,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """Take off an open enquiry someone named in it in error, and off the family's other open
    enquiries, where they were named in the same part. Never a child of the family (the
    subject, a sibling), and never while an agency holds work about them there (an
    information request naming them, a record about them: `hooks.removal_refusal`). The
    person stays in the register, and in any decided enquiry naming them."""
    _require_role(actor, *TRIAGE_ROLES)
    reason = _require_text("reason", reason, "Say why this person was named in error.")
    if not hooks.removal_checks:
        # Unchecked, a removal could orphan an agency's work: refuse rather than remove.
        raise ImproperlyConfigured(
            "Nothing checks removals for agencies' work: is `sharing` installed?"
        )
    enquiry, family = _lock_family(enquiry, expected_version)
    _require_open(enquiry)
    try:
        involvement = EnquiryPerson.objects.select_related("person", "enquiry").get(
            pk=involvement.pk, enquiry=enquiry
        )
    except EnquiryPerson.DoesNotExist:
        raise ValidationError(
            {"involvement": "That person is not named in this enquiry."}
        ) from None
    person, part = involvement.person, involvement.get_role_display()
    if involvement.role == Role.SUBJECT:
        raise ValidationError(
            {"involvement": f"{person} is the subject of this enquiry and cannot be taken off it."}
        )
    if involvement.role == Role.SIBLING:
        raise ValidationError(
            {
                "involvement": (
                    f"{person} is a child of this family with an enquiry of their own; a "
                    "sibling cannot be taken off."
                )
            }
        )
    links = [
        involvement,
        *EnquiryPerson.objects.filter(
            enquiry__in=[other for other in family if other.is_open],
            person=person,
            role=involvement.role,
        ).select_related("enquiry"),
    ]
    for link in links:
        refusal = hooks.removal_refusal(link.enquiry, person)
        if refusal:
            where = "" if link.enquiry_id == enquiry.pk else f" ({link.enquiry})"
            raise ValidationError(f"{refusal}{where} Nothing was changed.")
    EnquiryPerson.objects.filter(pk__in=[link.pk for link in links]).delete()
    now = now or timezone.now()
    for link in links:
        target = enquiry if link.enquiry_id == enquiry.pk else link.enquiry
        if target is not enquiry:
            target.version += 1
        _record(
            target,
            kind=Kind.PERSON_REMOVED,
            actor=actor,
            at=now,
            rationale=reason,
            changes=[[part, str(person), ""]],
            person=person,
            from_value=f"{person} ({part.lower()})",
        )
        _save(target, [])
    return enquiry


# Adding a child to a family


@transaction.atomic
def family_add_child(
    *,
    enquiry: Enquiry,
    actor: User,
    child: Person | PersonDetails,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
) -> Enquiry:
    """A child of the household found after intake: a new enquiry in the same family, with
    the referral as it was received (the same time of receipt, so the same clock, unrated),
    the other children as siblings both ways, and everyone else in the family's open
    enquiries. Each open enquiry of the family records the new sibling. Returns the new
    enquiry.

    No deadline moves: the new enquiry's is set as at intake, and no other enquiry's rating
    changes, so `hooks.timing_changed` has nothing to announce.
    """
    _require_role(actor, *TRIAGE_ROLES)
    reason = _require_text("reason", reason, "Say why this child is being added.")
    enquiry, family = _lock_family(enquiry, expected_version)
    everyone = [enquiry, *family]
    open_ones = [each for each in everyone if each.is_open]
    if not open_ones:
        raise ValidationError(
            "Every enquiry in this family has been decided: log the concern about this child "
            "as a new enquiry."
        )
    if (
        isinstance(child, Person)
        and EnquiryPerson.objects.filter(enquiry__in=everyone, person=child).exists()
    ):
        raise ValidationError({"child": f"{child} is already named in this family's enquiries."})
    child = _person(child)
    now = now or timezone.now()
    year = timezone.localtime(enquiry.received_at).year
    (number,) = _allocate_references(year=year, count=1)
    new = Enquiry(
        reference=f"MASH-{year}-{number:06d}",
        family_id=enquiry.family_id,
        received_at=enquiry.received_at,
        referrer_name=enquiry.referrer_name,
        referrer_organisation=enquiry.referrer_organisation,
        referrer_type_id=enquiry.referrer_type_id,
        referrer_contact=enquiry.referrer_contact,
        subject=child,
        subject_type=enquiry.subject_type,
        categories=list(enquiry.categories),
        concern=enquiry.concern,
        consent=enquiry.consent,
        consent_reason=enquiry.consent_reason,
        lawful_basis=enquiry.lawful_basis,
        created_by=actor,
        version=2,
    )
    _set_timing(new)
    new.save()
    siblings = list(dict.fromkeys(each.subject_id for each in everyone if each.subject_id))
    others = dict.fromkeys(
        EnquiryPerson.objects.filter(enquiry__in=open_ones)
        .exclude(role__in=[Role.SUBJECT, Role.SIBLING])
        .order_by("id")
        .values_list("person_id", "role")
    )
    EnquiryPerson.objects.bulk_create(
        [
            EnquiryPerson(enquiry=new, person=child, role=Role.SUBJECT),
            *(EnquiryPerson(enquiry=new, person_id=pk, role=Role.SIBLING) for pk in siblings),
            *(EnquiryPerson(enquiry=new, person_id=pk, role=role) for pk, role in others),
            *(EnquiryPerson(enquiry=each, person=child, role=Role.SIBLING) for each in open_ones),
        ]
    )
    EnquiryEvent.objects.create(enquiry=new, version=1, kind=Kind.RECEIVED, actor=actor, at=now)
    added = f"{child} ({new.reference})"
    _record(
        new,
        kind=Kind.CHILD_ADDED,
        actor=actor,
        at=now,
        rationale=reason,
        changes=[[Role.SUBJECT.label, "", str(child)]],
        person=child,
        to_value=added,
    )
    for each in open_ones:
        if each is not enquiry:
            each.version += 1
        _record(
            each,
            kind=Kind.CHILD_ADDED,
            actor=actor,
            at=now,
            rationale=reason,
            changes=[[Role.SIBLING.label, "", str(child)]],
            person=child,
            to_value=added,
        )
        _save(each, [])
    return new


# Correcting the referral


def _referral_values(fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "categories":
            value = sorted(set(value or []))
        elif name != "referrer_type":
            value = (value or "").strip()
        values[name] = value
    return values


def _referral_errors(current: Enquiry, proposed: dict[str, Any]) -> dict[str, str]:
    """Intake's rules, on the referral as the correction would leave it."""
    errors = {}
    if not proposed["referrer_name"]:
        errors["referrer_name"] = "Record who made the referral ('Anonymous' if unknown)."
    if not proposed["concern"]:
        errors["concern"] = "Record the concern as the referrer told it."
    unknown = sorted(set(proposed["categories"]) - set(Enquiry.Concern.values))
    if not proposed["categories"]:
        errors["categories"] = "Choose at least one category of concern."
    elif unknown:
        errors["categories"] = f"Unknown categories of concern: {', '.join(unknown)}."
    referrer_type: ReferrerType = proposed["referrer_type"]
    if referrer_type.pk != current.referrer_type_id and not referrer_type.is_active:
        errors["referrer_type"] = "That referrer type is no longer in use."
    if proposed["consent"] not in Enquiry.Consent.values:
        errors["consent"] = "Say whether consent to share was obtained."
    elif proposed["consent"] != Enquiry.Consent.YES:
        if not proposed["consent_reason"]:
            errors["consent_reason"] = "Record why the hub proceeds without consent to share."
        if error := without_consent_lawful_basis_error(proposed["lawful_basis"]):
            errors["lawful_basis"] = error
    return errors


@transaction.atomic
def referral_correct(
    *,
    enquiry: Enquiry,
    actor: User,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
    **fields: Any,
) -> Enquiry:
    """Correct what the front door recorded of the referral (`fields`: any of
    `REFERRAL_FIELDS`), in any state, by intake's rules: the referral as corrected must be
    one intake would have taken. With consent, no lawful basis is kept. Each enquiry of a
    family is corrected on its own."""
    _require_role(actor, *TRIAGE_ROLES)
    _unknown_fields(fields, REFERRAL_FIELDS)
    reason = _require_text("reason", reason, "Say why the referral is being corrected.")
    enquiry = _lock_for_edit(enquiry, expected_version)
    current = {name: getattr(enquiry, name) for name in REFERRAL_FIELDS}
    proposed = {**current, **_referral_values(fields)}
    if proposed["consent"] == Enquiry.Consent.YES:
        proposed["lawful_basis"] = ""
    errors = _referral_errors(enquiry, proposed)
    if errors:
        raise ValidationError(errors)
    changed = [name for name in REFERRAL_FIELDS if proposed[name] != current[name]]
    if not changed:
        raise ValidationError(NOTHING_CHANGED)
    changes = [
        [
            REFERRAL_FIELDS[name],
            _referral_words(name, current[name]),
            _referral_words(name, proposed[name]),
        ]
        for name in changed
    ]
    for name in changed:
        setattr(enquiry, name, proposed[name])
    _record(
        enquiry,
        kind=Kind.REFERRAL_CORRECTED,
        actor=actor,
        at=now or timezone.now(),
        rationale=reason,
        changes=changes,
    )
    return _save(enquiry, changed)


@dataclass(frozen=True)
class Amendments:
    """The amendments the services would allow this person on this enquiry, for its page."""

    correct: bool
    add_person: bool
    add_child: bool


def amendments_for(user: User, enquiry: Enquiry) -> Amendments | None:
    """None for those who may make none; reads only what the enquiry page has fetched."""
    if not user.has_role(*TRIAGE_ROLES):
        return None
    return Amendments(
        correct=True,
        add_person=enquiry.is_open,
        add_child=any(each.is_open for each in enquiry.family.enquiries.all()),
    )
