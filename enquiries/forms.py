import uuid
from datetime import date, datetime
from typing import cast

from django import forms
from django.core.validators import EmailValidator
from django.forms.fields import BaseTemporalField
from django.utils import timezone

from agencies.models import User
from core.dates import not_before_earliest
from core.forms import GovukForm
from core.text import FreeTextField

from . import mail
from .models import Enquiry, EnquiryPerson, LawfulBasis, Outcome, Person, Rag, ReferrerType
from .selectors import person_register, triage_staff
from .services import TRANSITIONS, PersonDetails
from .worktime import SkippedWallTime, wall_time_in

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


class MinuteInput(forms.DateTimeInput):
    """A browser date-and-time picker, to the minute, in the hub's time zone."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class HubTimeField(forms.DateTimeField):
    """A time to the minute as the hub's clocks showed it.

    Django refuses a time in the hour the clocks go back ("may be ambiguous"), so at 01:30 on
    that night the intake page could not log a concern at the time it offers. This takes the
    occurrence the person means (`worktime.wall_time_in`) and says plainly what a time the
    clocks skipped should be.
    """

    widget = MinuteInput
    default_validators = [not_before_earliest]
    default_error_messages = {
        "skipped": "There was no {time} on {day}: the clocks went forward an hour. Did you mean "
        "{suggestion}?",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(input_formats=DATETIME_INPUT_FORMATS, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else self._in_hub_zone(value)
        return self._in_hub_zone(BaseTemporalField.to_python(self, value))

    def _in_hub_zone(self, wall_time: datetime) -> datetime:
        try:
            return wall_time_in(
                timezone.get_current_timezone(), wall_time.replace(second=0), now=timezone.now()
            )
        except SkippedWallTime as skipped:
            raise forms.ValidationError(
                self.error_messages["skipped"].format(
                    time=f"{wall_time:%H:%M}",
                    day=f"{wall_time.day} {wall_time:%B %Y}",
                    suggestion=f"{skipped.suggestion:%H:%M}",
                ),
                code="skipped",
            ) from None


def nhs_number_is_valid(number: str) -> bool:
    """The NHS number's modulus 11 check digit, so a mistyped digit is caught at the door."""
    if len(number) != 10 or not number.isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(number[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    return check != 10 and (check % 11) == int(number[9])


class PersonForm(GovukForm):
    """One person named at intake; `existing` says which register entry they are, if any."""

    NEW = "new"

    first_name = FreeTextField(label="First name", max_length=100)
    last_name = FreeTextField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[not_before_earliest],
    )
    approximate_age = forms.IntegerField(
        label="Approximate age",
        required=False,
        min_value=0,
        max_value=120,
        help_text="If the date of birth is not known.",
    )
    address = FreeTextField(label="Address", required=False, max_length=500)
    nhs_number = FreeTextField(label="NHS number", required=False, max_length=12)
    existing = FreeTextField(required=False, widget=forms.HiddenInput, max_length=20)

    error_names = {"first_name": "their first name", "last_name": "their last name"}

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.matches: list = []

    def clean_nhs_number(self) -> str:
        number = "".join(self.cleaned_data["nhs_number"].split())
        if number and not nhs_number_is_valid(number):
            raise forms.ValidationError("Enter a 10-digit NHS number, like 943 476 5919.")
        return number

    def clean_date_of_birth(self) -> date | None:
        born = self.cleaned_data["date_of_birth"]
        if born and born > self.today:
            raise forms.ValidationError("A date of birth cannot be in the future.")
        return born

    def clean_existing(self) -> Person | str:
        choice = self.cleaned_data["existing"]
        if choice in ("", self.NEW):
            return choice
        try:
            return person_register().get(pk=int(choice))
        except (ValueError, Person.DoesNotExist):
            raise forms.ValidationError(
                "Choose one of the people listed, or 'someone new'."
            ) from None

    @property
    def undecided(self) -> bool:
        """Still to say whether this is someone already in the register."""
        return self.cleaned_data.get("existing") == ""

    def person(self) -> Person | PersonDetails:
        """The register entry chosen, or the details of someone new."""
        existing = self.cleaned_data["existing"]
        if isinstance(existing, Person):
            return existing
        data = self.cleaned_data
        return PersonDetails(
            first_name=data["first_name"].strip(),
            last_name=data["last_name"].strip(),
            date_of_birth=data["date_of_birth"],
            approximate_age=data["approximate_age"],
            address=data["address"].strip(),
            nhs_number=data["nhs_number"],
        )


class InvolvedPersonForm(PersonForm):
    """Someone else in the enquiry: a parent, household member, alleged perpetrator..."""

    ROLES = [
        (role.value, role.label)
        for role in EnquiryPerson.Role
        if role not in (EnquiryPerson.Role.SUBJECT, EnquiryPerson.Role.SIBLING)
    ]

    role = forms.ChoiceField(label="Part in the enquiry", choices=[("", "Choose")] + ROLES)

    field_order = ["role"]
    error_names = {**PersonForm.error_names, "role": "their part in the enquiry"}


class PeopleFormSet(forms.BaseFormSet):
    """Rows left blank are ignored, whichever row they are."""

    default_error_messages = {
        "too_few_forms": "Name at least one child or adult the concern is about.",
        "too_many_forms": "That is more people than one intake can take; log the rest next.",
    }

    def __init__(self, *args, today: date, **kwargs) -> None:
        kwargs["form_kwargs"] = {"today": today, "empty_permitted": True}
        super().__init__(*args, **kwargs)

    def filled(self) -> list[PersonForm]:
        return [form for form in self.forms if form.has_changed() and form.is_valid()]


# The most people one intake takes, as the API (rows left blank do not count).
# formset_factory makes a subclass of `formset`, which the stubs type as the base class.
SubjectFormSet = cast(
    type[PeopleFormSet],
    forms.formset_factory(
        PersonForm,
        formset=PeopleFormSet,
        extra=1,
        min_num=1,
        validate_min=True,
        max_num=12,
        validate_max=True,
    ),
)
InvolvedFormSet = cast(
    type[PeopleFormSet],
    forms.formset_factory(
        InvolvedPersonForm, formset=PeopleFormSet, extra=2, max_num=20, validate_max=True
    ),
)


def new_intake_key() -> str:
    return uuid.uuid4().hex


class IntakeForm(GovukForm):
    """What the front door records about a concern (docs/domain.md section 4)."""

    received_at = HubTimeField(
        label="Received",
        help_text="When the concern reached the hub; earlier than now if logged late.",
    )
    referrer_name = FreeTextField(
        label="Referrer's name", max_length=200, help_text="'Anonymous' if they gave none."
    )
    referrer_organisation = FreeTextField(label="Organisation", max_length=200, required=False)
    referrer_type = forms.ModelChoiceField(
        label="Type of referrer", queryset=ReferrerType.objects.none(), empty_label="Choose"
    )
    referrer_contact = FreeTextField(
        label="How to reach them for feedback",
        max_length=200,
        required=False,
        help_text="Telephone or email.",
    )
    subject_type = forms.ChoiceField(
        label="The concern is about",
        choices=Enquiry.SubjectType.choices,
        widget=forms.RadioSelect,
    )
    categories = forms.MultipleChoiceField(
        label="Categories of concern",
        choices=Enquiry.Concern.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one category of concern."},
    )
    concern = FreeTextField(
        label="The concern, as the referrer told it",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Record the concern as the referrer told it."},
    )
    consent = forms.ChoiceField(
        label="Was consent to share obtained?",
        choices=Enquiry.Consent.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether consent to share was obtained."},
    )
    consent_reason = FreeTextField(
        label="Why the hub proceeds without consent",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lawful_basis = forms.ChoiceField(
        label="Lawful basis for sharing without consent",
        choices=LawfulBasis.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Without consent, the law the hub shares under. Not recorded with consent.",
    )
    # A fresh one each time the blank form is shown, kept as rows are added: the same form
    # sent twice (a double click, a resend) logs its enquiries once.
    idempotency_key = FreeTextField(
        widget=forms.HiddenInput, required=False, max_length=200, initial=new_intake_key
    )

    error_names = {
        "received_at": "the time the concern was received",
        "referrer_name": "the referrer's name",
        "referrer_organisation": "the referrer's organisation",
        "referrer_type": "the type of referrer",
        "referrer_contact": "how to reach the referrer",
        "subject_type": "who the concern is about",
        "categories": "the categories of concern",
        "concern": "the concern",
        "consent": "whether consent to share was obtained",
        "consent_reason": "why the hub proceeds without consent",
        "lawful_basis": "the lawful basis for sharing without consent",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        referrer_type = cast(forms.ModelChoiceField, self.fields["referrer_type"])
        referrer_type.queryset = ReferrerType.objects.filter(is_active=True)

    def clean(self) -> dict:
        data = super().clean() or {}
        if (
            data.get("consent") in (Enquiry.Consent.NO, Enquiry.Consent.NOT_SOUGHT)
            and not (data.get("consent_reason") or "").strip()
        ):
            self.add_error(
                "consent_reason", "Record why the hub proceeds without consent to share."
            )
        if (
            data.get("consent") in (Enquiry.Consent.NO, Enquiry.Consent.NOT_SOUGHT)
            and not data.get("lawful_basis")
            and "lawful_basis" not in self.errors
        ):
            self.add_error("lawful_basis", "Choose the lawful basis for sharing without consent.")
        return data


class VersionedForm(GovukForm):
    """An edit made against the version of the enquiry the user read."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, enquiry: Enquiry, user: User, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("expected_version", enquiry.version)
        super().__init__(*args, **kwargs)
        self.enquiry, self.user = enquiry, user


class RateForm(VersionedForm):
    error_names = {"rating": "the RAG rating", "rationale": "the reason for this rating"}

    rating = forms.ChoiceField(label="RAG rating", choices=Rag.choices, widget=forms.RadioSelect)
    rationale = FreeTextField(
        label="Why this rating",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Give the reason for this rating."},
    )


class MoveForm(VersionedForm):
    error_names = {"to_state": "where to move the enquiry"}

    to_state = forms.ChoiceField(label="Move to", choices=(), widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to_state"]).choices = [
            (state, Enquiry.State(state).label)
            for state in Enquiry.State.values
            if state in TRANSITIONS.get(self.enquiry.state, ())
        ]


class AssignForm(VersionedForm):
    error_names = {"assignee": "who to assign it to"}

    assignee = forms.ModelChoiceField(
        label="Assign to", queryset=User.objects.none(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = triage_staff()


class EscalateForm(VersionedForm):
    error_names = {"reason": "why the child or adult needs protection now"}

    reason = FreeTextField(
        label="Why the child or adult needs protection now",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why the child or adult needs protection now."},
    )


class AcknowledgeEscalationForm(VersionedForm):
    """A manager taking an escalation on. Like the escalation it needs no version, so the
    button on a notification, which has none, acknowledges too."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    error_names = {"note": "the note"}
    note = FreeTextField(
        label="Note for the history (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you are doing about it, such as whom you have called.",
    )


class DecideForm(VersionedForm):
    error_names = {
        "outcome": "the outcome",
        "rationale": "the rationale",
        "decided_at": "the time of the decision",
    }

    outcome = forms.ModelChoiceField(
        label="Outcome",
        queryset=Outcome.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the outcome."},
    )
    rationale = FreeTextField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Give the reason for this decision."},
    )
    decided_at = HubTimeField(
        label="Decided at",
        required=False,
        help_text="Leave blank for now; give the time if the decision was made earlier.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the outcomes that fit the subject (docs/domain.md section 6): a child is not
        # referred to adult social care.
        cast(forms.ModelChoiceField, self.fields["outcome"]).queryset = Outcome.objects.filter(
            is_active=True
        ).fitting(self.enquiry.subject_type)


class FeedbackForm(VersionedForm):
    METHODS = [
        ("Telephone", "Telephone"),
        (mail.EMAIL_METHOD, "Email, sent by the hub now"),
        ("Secure email", "Secure email"),
        ("Letter", "Letter"),
        ("In person", "In person"),
    ]

    method = forms.ChoiceField(
        label="How the referrer was told", choices=[("", "Choose"), *METHODS]
    )
    error_names = {
        "method": "how the referrer was told",
        "email_to": "the referrer's email address",
        "sent_at": "the time they were told",
        "text": "what they were told",
    }
    email_to = FreeTextField(
        label="The referrer's email address",
        required=False,
        max_length=254,
        validators=[EmailValidator(message=mail.ADDRESS_INVALID)],
        widget=forms.EmailInput,
        help_text=(
            "For email only: the hub sends what they were told to this address as you save, "
            "with the enquiry's reference and nothing else."
        ),
    )
    sent_at = HubTimeField(
        label="When",
        required=False,
        help_text="Leave blank for now.",
    )
    text = FreeTextField(
        label="What they were told",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "The outcome and next steps only: never information from the agencies that the "
            "referrer may not see."
        ),
        error_messages={"required": "Record what the referrer was told."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email_to"].initial = mail.referrer_email(self.enquiry.referrer_contact)

    def clean(self):
        data = super().clean()
        if data.get("method") != mail.EMAIL_METHOD:
            # The address is prefilled; only feedback by email goes to it.
            self.errors.pop("email_to", None)
            data["email_to"] = ""
        elif not data.get("email_to") and "email_to" not in self.errors:
            self.add_error("email_to", mail.ADDRESS_REQUIRED)
        return data
