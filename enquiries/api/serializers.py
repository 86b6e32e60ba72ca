"""The API's shapes. Input serializers check the shape of a request and name things by code;
the services decide. Output serializers read what the selectors fetched, with no queries."""

from datetime import date
from typing import Any

from django.core.validators import EmailValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RefusesUnknownFields
from core.dates import not_before_earliest
from core.text import FreeTextSerializerField

from ..amendments import ADDABLE_ROLE_CHOICES
from ..forms import nhs_number_is_valid
from ..mail import ADDRESS_INVALID, feedback_emails
from ..models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    LawfulBasis,
    Outcome,
    OutgoingEmail,
    Person,
    Rag,
)
from ..selectors import (
    enquiry_sla,
    outcomes,
    person_matches,
    person_register,
    referrer_types,
    triage_staff,
)
from ..services import PersonDetails
from ..sla import SlaStatus

# Output


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    approximate_age = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(
        help_text="Send it back as `expected_person_version` when correcting their details."
    )


class InvolvementSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="This part's id: what `people/{id}/remove/` takes.")
    role = serializers.ChoiceField(choices=EnquiryPerson.Role.choices)
    person = PersonSerializer()


class EventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EnquiryEvent.Kind.choices)
    at = serializers.DateTimeField()
    actor = UserSerializer()
    from_value = serializers.CharField()
    to_value = serializers.CharField()
    rationale = serializers.CharField()
    version = serializers.IntegerField(help_text="The enquiry's version this change made.")
    person = serializers.IntegerField(
        source="person_id", allow_null=True, help_text="Whom an amendment was about, if anyone."
    )
    changes = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(allow_blank=True)),
        help_text="An amendment's changes, each [what, before, after] in words.",
    )


class SlaSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[status.value for status in SlaStatus])
    deadline = serializers.DateTimeField()
    allowance_minutes = serializers.IntegerField(source="allowance")
    elapsed_minutes = serializers.IntegerField(source="elapsed")
    remaining_minutes = serializers.IntegerField(
        source="remaining", help_text="Working minutes left; negative once overdue."
    )


class EnquiryRowSerializer(serializers.Serializer):
    """An enquiry as a list shows it. Its clock status is arithmetic on the clock in force,
    which the view reads once and passes in the context as `clock` and `now`."""

    reference = serializers.CharField()
    family_reference = serializers.CharField(source="family.reference")
    received_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=Enquiry.State.choices)
    rating = serializers.ChoiceField(choices=Rag.choices)
    subject = PersonSerializer(
        allow_null=True, help_text="Null on enquiries imported from a system that sent no people."
    )
    subject_type = serializers.ChoiceField(
        choices=Enquiry.SubjectType.choices, allow_blank=True, help_text="Empty when imported."
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Enquiry.Concern.choices)
    )
    referrer_type = serializers.CharField(source="referrer_type.code")
    assignee = UserSerializer(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    escalation_acknowledged_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a manager acknowledged the escalation; null until one does, and again "
        "after it is escalated anew.",
    )
    escalation_acknowledged_by = UserSerializer(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(source="outcome.code", allow_null=True)
    version = serializers.IntegerField(
        help_text="Send it back as `expected_version` with any change you make."
    )
    imported_at = serializers.DateTimeField(
        allow_null=True, help_text="When it came from the hub's previous system, if it did."
    )
    sla = serializers.SerializerMethodField()

    @extend_schema_field(SlaSerializer)
    def get_sla(self, enquiry: Enquiry) -> dict:
        sla = enquiry_sla(enquiry, clock=self.context["clock"], now=self.context["now"])
        return SlaSerializer(sla).data


class FeedbackEmailSerializer(serializers.Serializer):
    """Feedback the hub sent by email, and whether it went."""

    to_address = serializers.EmailField()
    status = serializers.ChoiceField(
        choices=OutgoingEmail.Status.choices,
        help_text="queued (waiting, or retrying after a failure), sent, or failed (given up).",
    )
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(help_text="Why the last attempt failed, if it did.")
    queued_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)


class EnquirySerializer(EnquiryRowSerializer):
    """One enquiry in full: people, history, its family and the decision."""

    referrer_name = serializers.CharField()
    referrer_organisation = serializers.CharField()
    referrer_contact = serializers.CharField()
    concern = serializers.CharField()
    consent = serializers.ChoiceField(
        choices=Enquiry.Consent.choices, allow_blank=True, help_text="Empty when imported."
    )
    consent_reason = serializers.CharField()
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        allow_blank=True,
        help_text="The law the hub shares under without consent; empty with consent, and on "
        "older records.",
    )
    rating_rationale = serializers.CharField()
    decided_by = UserSerializer(allow_null=True)
    decision_rationale = serializers.CharField()
    feedback_at = serializers.DateTimeField(allow_null=True)
    feedback_method = serializers.CharField()
    feedback_text = serializers.CharField()
    feedback_emails = serializers.SerializerMethodField()
    created_by = UserSerializer()
    created_at = serializers.DateTimeField()
    sibling_references = serializers.SerializerMethodField()
    people = InvolvementSerializer(source="involvements.all", many=True)
    history = EventSerializer(source="events.all", many=True)

    @extend_schema_field(FeedbackEmailSerializer(many=True))
    def get_feedback_emails(self, enquiry: Enquiry) -> list[dict]:
        # Read with the enquiry (`enquiry_for_page`): no query of its own.
        return [FeedbackEmailSerializer(email).data for email in feedback_emails(enquiry)]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_sibling_references(self, enquiry: Enquiry) -> list[str]:
        return [e.reference for e in enquiry.family.enquiries.all() if e.pk != enquiry.pk]


class IntakeResultSerializer(serializers.Serializer):
    """What intake made: a family of one or more enquiries, one for each subject."""

    family_reference = serializers.CharField()
    enquiries = EnquirySerializer(many=True)


class ReferrerTypeSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()


class OutcomeSerializer(ReferrerTypeSerializer):
    leads_to_referral = serializers.BooleanField()
    fits = serializers.ChoiceField(
        choices=Outcome.Fits.choices,
        help_text="Whether a decision on a child, an adult at risk or either may record it.",
    )


class PersonMatchSerializer(serializers.Serializer):
    person = PersonSerializer()
    similarity = serializers.FloatField(help_text="How alike the names are, from 0 to 1.")
    reasons = serializers.ListField(child=serializers.CharField())


# Input


class PersonMatchQuerySerializer(serializers.Serializer):
    first_name = FreeTextSerializerField(max_length=100)
    last_name = FreeTextSerializerField(max_length=100)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[not_before_earliest]
    )
    approximate_age = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=120,
        help_text="If the date of birth is not known; weighed against candidates' ages.",
    )
    nhs_number = FreeTextSerializerField(required=False, allow_blank=True, max_length=12)

    def validate_nhs_number(self, value: str) -> str:
        return _nhs_number(value)


def _nhs_number(value: str) -> str:
    number = "".join(value.split())
    if number and not nhs_number_is_valid(number):
        raise serializers.ValidationError("Enter a 10-digit NHS number, like 943 476 5919.")
    return number


class PersonInputSerializer(RefusesUnknownFields, serializers.Serializer):
    """Someone already in the register (by `id`), or someone new.

    Someone new is checked against the register first, as on the intake page: if anyone
    there may be the same person, the request is refused with their ids, so the client either
    names one of them by `id` or confirms with `confirmed_new` that this is someone else.
    """

    id = serializers.PrimaryKeyRelatedField(
        queryset=person_register(),
        required=False,
        help_text="An existing person's id (see /api/v1/people/matches/); the rest is ignored.",
    )
    first_name = FreeTextSerializerField(max_length=100, required=False)
    last_name = FreeTextSerializerField(max_length=100, required=False)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[not_before_earliest]
    )
    approximate_age = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120
    )
    address = FreeTextSerializerField(required=False, allow_blank=True, max_length=500)
    nhs_number = FreeTextSerializerField(required=False, allow_blank=True, max_length=12)
    confirmed_new = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True once you have checked the register and this is someone new.",
    )

    def validate_nhs_number(self, value: str) -> str:
        return _nhs_number(value)

    def validate_date_of_birth(self, value: date | None) -> date | None:
        if value and value > timezone.localdate():
            raise serializers.ValidationError("A date of birth cannot be in the future.")
        return value

    def validate(self, attrs: dict):
        if "id" in attrs:
            return attrs["id"]
        missing = {
            field: "Give the person's name, or the id of someone in the register."
            for field in ("first_name", "last_name")
            if not attrs.get(field, "").strip()
        }
        if missing:
            raise serializers.ValidationError(missing)
        details = PersonDetails(
            first_name=attrs["first_name"].strip(),
            last_name=attrs["last_name"].strip(),
            date_of_birth=attrs.get("date_of_birth"),
            approximate_age=attrs.get("approximate_age"),
            address=attrs.get("address", "").strip(),
            nhs_number=attrs.get("nhs_number", ""),
        )
        # A repeat of an intake already logged (its Idempotency-Key used) would match the
        # people that intake added; the service answers it with what it logged.
        if not attrs["confirmed_new"] and not self.context.get("repeat_intake"):
            _refuse_possible_duplicates(details, checks=self.context.get("register_checks"))
        return details


def _refuse_possible_duplicates(details: PersonDetails, *, checks: list | None) -> None:
    """Refuse someone new who may be in the register already. Each check is added to
    `checks` (what was typed, and who it found), for the view to log: a check shows the
    details of the people it finds."""
    typed: dict[str, Any] = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "date_of_birth": details.date_of_birth,
        "nhs_number": details.nhs_number,
        "approximate_age": details.approximate_age,
    }
    matches = person_matches(**typed, today=timezone.localdate())
    if checks is not None:
        checks.append((typed, [match.person.pk for match in matches]))
    if matches:
        found = "; ".join(
            f"id {match.person.pk}: {match.person} ({', '.join(match.reasons).lower()})"
            for match in matches
        )
        raise serializers.ValidationError(
            {
                "confirmed_new": (
                    f"This may be someone already in the register: {found}. Give the id of "
                    "the one it is, or set confirmed_new to true if it is someone else."
                )
            }
        )


class InvolvedPersonInputSerializer(PersonInputSerializer):
    """Someone else in the enquiry (a parent, an alleged perpetrator...) and their part."""

    role = serializers.ChoiceField(
        choices=[
            (role.value, role.label)
            for role in EnquiryPerson.Role
            if role != EnquiryPerson.Role.SUBJECT
        ]
    )

    def validate(self, attrs: dict):
        return super().validate(attrs), attrs["role"]


class IntakeSerializer(RefusesUnknownFields, serializers.Serializer):
    """A concern at the front door: one enquiry for each subject, together as a family."""

    required_by_service = ("referrer_name", "subjects", "concern", "categories")

    received_at = serializers.DateTimeField(
        validators=[not_before_earliest],
        help_text="When the concern reached the hub; a time without an offset is UK time.",
    )
    referrer_name = FreeTextSerializerField(
        max_length=200, allow_blank=True, help_text="'Anonymous' if they gave none."
    )
    referrer_organisation = FreeTextSerializerField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    referrer_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=referrer_types(),
        help_text="A code from /api/v1/referrer-types/.",
        error_messages={"does_not_exist": "There is no referrer type with the code {value}."},
    )
    referrer_contact = FreeTextSerializerField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    subject_type = serializers.ChoiceField(choices=Enquiry.SubjectType.choices)
    # With many=True, max_length goes to the list serializer, which the stubs do not know.
    subjects = PersonInputSerializer(  # type: ignore[call-arg]
        many=True, max_length=12, help_text="The children (or adult) the concern is about."
    )
    others = InvolvedPersonInputSerializer(  # type: ignore[call-arg]
        many=True, max_length=20, required=False, default=list
    )
    concern = FreeTextSerializerField(allow_blank=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Enquiry.Concern.choices),
        max_length=len(Enquiry.Concern),
    )
    consent = serializers.ChoiceField(choices=Enquiry.Consent.choices)
    consent_reason = FreeTextSerializerField(required=False, allow_blank=True, default="")
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required without consent: the law the hub shares under. Not recorded with "
        "consent.",
    )

    def validate(self, attrs: dict) -> dict:
        """Someone from the register named twice would be in the enquiry twice."""
        seen: set[Person] = set()
        named = [("subjects", p) for p in attrs["subjects"]]
        named += [("others", p) for p, _role in attrs["others"]]
        for field, person in named:
            if not isinstance(person, Person):
                continue
            if person in seen:
                raise serializers.ValidationError(
                    {field: f"Name each person once: {person} (id {person.pk}) is named twice."}
                )
            seen.add(person)
        return attrs


class VersionedSerializer(RefusesUnknownFields, serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text=(
            "The enquiry's `version` when you read it. If it has changed since, nothing is "
            "saved and the answer is 409 with what changed."
        ),
    )


class RateSerializer(VersionedSerializer):
    required_by_service = ("rationale",)

    rating = serializers.ChoiceField(choices=Rag.choices)
    rationale = FreeTextSerializerField(
        allow_blank=True, error_messages={"required": "Give the reason for this rating."}
    )


class TransitionSerializer(VersionedSerializer):
    to_state = serializers.ChoiceField(
        choices=Enquiry.State.choices,
        help_text=(
            "received → screening; screening → researching or awaiting decision; researching "
            "→ screening or awaiting decision; awaiting decision → researching. Deciding and "
            "closing have their own actions."
        ),
    )


class AssignSerializer(VersionedSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=triage_staff(),
        allow_null=True,
        help_text="A researcher's or manager's user id; null to unassign.",
        error_messages={
            "does_not_exist": "Enquiries go to researchers or managers: none has the id {pk_value}."
        },
    )


class EscalateSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    reason = FreeTextSerializerField(
        allow_blank=True,
        error_messages={"required": "Say why the child or adult needs protection now."},
    )


class AcknowledgeEscalationSerializer(RefusesUnknownFields, serializers.Serializer):
    note = FreeTextSerializerField(
        required=False,
        allow_blank=True,
        default="",
        help_text="What the manager is doing about it, for the history.",
    )


class DecideSerializer(VersionedSerializer):
    required_by_service = ("rationale",)

    outcome = serializers.SlugRelatedField(
        slug_field="code",
        queryset=outcomes(),
        help_text="A code from /api/v1/outcomes/.",
        error_messages={"does_not_exist": "There is no outcome with the code {value}."},
    )
    rationale = FreeTextSerializerField(
        allow_blank=True, error_messages={"required": "Give the reason for this decision."}
    )
    decided_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[not_before_earliest],
        help_text="Leave out for now.",
    )


class FeedbackSerializer(VersionedSerializer):
    required_by_service = ("method", "text")

    method = FreeTextSerializerField(
        max_length=100, allow_blank=True, help_text="Telephone, email, letter..."
    )
    text = FreeTextSerializerField(
        allow_blank=True,
        help_text=(
            "The outcome and next steps only: never information from the agencies that the "
            "referrer may not see."
        ),
    )
    sent_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[not_before_earliest],
        help_text="Leave out for now.",
    )
    email_to = FreeTextSerializerField(
        required=False,
        allow_blank=True,
        max_length=254,
        validators=[EmailValidator(message=ADDRESS_INVALID)],
        help_text=(
            "The hub sends the text by email to this address as the feedback is recorded, "
            "with a footer giving the hub and the reference (`method` must then be `Email`); "
            "see `feedback_emails` for whether it went."
        ),
    )


# Amendments after intake (docs/domain.md section 4.8)


class AmendmentSerializer(VersionedSerializer):
    required_by_service = ("reason",)

    reason = FreeTextSerializerField(
        allow_blank=True, help_text="Why: kept in the enquiry's history with what changed."
    )


class PersonCorrectSerializer(AmendmentSerializer):
    """Only the details sent change; sending nothing different is refused."""

    first_name = FreeTextSerializerField(max_length=100, required=False)
    last_name = FreeTextSerializerField(max_length=100, required=False)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[not_before_earliest]
    )
    approximate_age = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120
    )
    address = FreeTextSerializerField(required=False, allow_blank=True, max_length=500)
    nhs_number = FreeTextSerializerField(required=False, allow_blank=True, max_length=12)
    keep_old_name_as_previous = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "True if they were really known by the old name, which people search then still "
            "finds; leave it out when correcting a mistake."
        ),
    )
    expected_person_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            "The person's `version` when you read it; if their details were corrected since "
            "(from any enquiry), nothing is saved and the answer is 409."
        ),
    )

    def validate_nhs_number(self, value: str) -> str:
        return _nhs_number(value)


class AddPersonSerializer(AmendmentSerializer):
    person = PersonInputSerializer(
        help_text="Someone in the register by `id`, or someone new (checked against the "
        "register first: confirm with `confirmed_new`)."
    )
    role = serializers.ChoiceField(
        choices=ADDABLE_ROLE_CHOICES,
        help_text="Their part; a child of the family is added through `children/`.",
    )


class AddChildSerializer(AmendmentSerializer):
    child = PersonInputSerializer(
        help_text="Someone in the register by `id`, or someone new (checked against the "
        "register first: confirm with `confirmed_new`)."
    )


class RemovePersonSerializer(AmendmentSerializer):
    pass


class ReferralCorrectSerializer(AmendmentSerializer):
    """Only the fields sent change; the referral as corrected must pass intake's rules."""

    referrer_name = FreeTextSerializerField(max_length=200, required=False, allow_blank=True)
    referrer_organisation = FreeTextSerializerField(
        max_length=200, required=False, allow_blank=True
    )
    referrer_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=referrer_types(),
        required=False,
        help_text="A code from /api/v1/referrer-types/.",
        error_messages={"does_not_exist": "There is no referrer type with the code {value}."},
    )
    referrer_contact = FreeTextSerializerField(max_length=200, required=False, allow_blank=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Enquiry.Concern.choices),
        max_length=len(Enquiry.Concern),
        required=False,
    )
    concern = FreeTextSerializerField(required=False, allow_blank=True)
    consent = serializers.ChoiceField(choices=Enquiry.Consent.choices, required=False)
    consent_reason = FreeTextSerializerField(required=False, allow_blank=True)
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        required=False,
        allow_blank=True,
        help_text="Required without consent; dropped with consent.",
    )
