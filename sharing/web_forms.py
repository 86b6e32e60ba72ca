"""The shapes of what practitioners and researchers type on the sharing pages. The services
decide whether it is allowed; these only check it is well formed."""

from typing import cast

from django import forms
from django.utils import timezone

from agencies.models import Agency
from core.dates import not_before_earliest
from core.forms import GovukForm
from core.text import FreeTextField
from enquiries.models import Enquiry, Person

from .models import InformationRequest, LawfulBasis, Sensitivity, SharingPolicy
from .services import DEFAULT_QUESTION


class SendRequestsForm(GovukForm):
    error_names = {
        "agencies": "the agencies to ask",
        "question": "the question",
        "people": "the people to ask about",
    }

    agencies = forms.ModelMultipleChoiceField(
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one agency to ask."},
        help_text="The usual agencies are ticked. Agencies already asked about this enquiry "
        "are not listed, nor the agency that runs the hub.",
    )
    question = FreeTextField(
        widget=forms.Textarea(attrs={"rows": 4}), initial=DEFAULT_QUESTION, max_length=4000
    )
    people = forms.ModelMultipleChoiceField(
        queryset=Person.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one person to ask about."},
    )

    def __init__(self, *args, enquiry: Enquiry, **kwargs):
        super().__init__(*args, **kwargs)
        asked = InformationRequest.objects.filter(enquiry=enquiry).values("agency_id")
        agencies = Agency.objects.filter(is_active=True).exclude(pk__in=asked).order_by("name")
        lead = SharingPolicy.current().lead_agency_id
        if lead is not None:
            # Its information is the hub's own: it is never asked (services).
            agencies = agencies.exclude(pk=lead)
        people = Person.objects.filter(involvements__enquiry=enquiry).distinct()
        cast(forms.ModelMultipleChoiceField, self.fields["agencies"]).queryset = agencies
        cast(forms.ModelMultipleChoiceField, self.fields["people"]).queryset = people
        self.fields["agencies"].initial = [a.pk for a in agencies if a.asked_by_default]
        self.fields["people"].initial = [p.pk for p in people]

    def carried(self) -> list[tuple[str, object]]:
        """The valid choices as (name, value) pairs, for the confirmation page's hidden
        fields: its "Send" and "Change" post them back."""
        data = self.cleaned_data
        return [
            *(("agencies", agency.pk) for agency in data["agencies"]),
            ("question", data["question"]),
            *(("people", person.pk) for person in data["people"]),
        ]


class InformationRecordForm(GovukForm):
    error_names = {
        "person": "who the information is about",
        "summary": "the summary",
        "detail": "the information",
        "source_system": "the source system",
        "information_date": "the date the information was recorded",
        "sensitivity": "whether the information is sensitive",
    }

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who the information is about."},
    )
    summary = FreeTextField(
        max_length=200,
        error_messages={"required": "Give a one-line summary."},
        help_text="One line, for example: “Domestic incident at the family home, June 2026”.",
    )
    detail = FreeTextField(
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Give the information itself."},
    )
    source_system = FreeTextField(
        label="Source system",
        max_length=100,
        error_messages={"required": "Say which of your agency's systems it comes from."},
    )
    information_date = forms.DateField(
        label="Date the information was recorded",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[not_before_earliest],
        error_messages={
            "required": "Give the date the information was recorded.",
            "invalid": "Enter a real date, like 2026-06-14.",
        },
    )
    sensitivity = forms.ChoiceField(
        choices=Sensitivity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the information is sensitive."},
        help_text="Sensitive information stays with your agency until you release it.",
    )

    def __init__(self, *args, request: InformationRequest, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["person"]).queryset = Person.objects.filter(
            involvements__enquiry_id=request.enquiry_id
        ).distinct()

    def clean_information_date(self):
        value = self.cleaned_data["information_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return value


class ReleaseRequestForm(GovukForm):
    error_names = {"reason": "why the hub needs it"}

    reason = FreeTextField(
        label="Why the hub needs it",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the hub needs this information."},
    )


class ReleaseForm(GovukForm):
    error_names = {
        "lawful_basis": "the lawful basis",
        "reason": "why it is necessary and proportionate",
        "conditions": "the conditions on its use",
        "password": "your password",
    }

    necessary_and_proportionate = forms.BooleanField(
        label="I am satisfied that releasing this is necessary and proportionate, and that I "
        "have the authority to release it",
        error_messages={"required": "Confirm that releasing this is necessary and proportionate."},
    )
    lawful_basis = forms.ChoiceField(
        label="Lawful basis",
        choices=[("", "Choose the lawful basis"), *LawfulBasis.choices],
        error_messages={"required": "Choose the lawful basis for sharing."},
    )
    reason = FreeTextField(
        label="Why it is necessary and proportionate",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why releasing this is necessary and proportionate."},
    )
    conditions = FreeTextField(
        label="Conditions on its use (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown with the information wherever it appears, for example: “not to be "
        "disclosed to the family”.",
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Releasing sensitive information needs your password again, to confirm it "
        "is you.",
        error_messages={"required": "Enter your password to confirm it is you releasing this."},
    )


class RefuseForm(GovukForm):
    error_names = {"reason": "why your agency will not release it"}

    reason = FreeTextField(
        label="Why your agency will not release it",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why your agency will not release this."},
    )


class AnswerForm(GovukForm):
    """Send the answer or say nothing is held, at the version the practitioner read."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawRequestForm(GovukForm):
    """Withdraw an information request, at the version the researcher read."""

    error_names = {"reason": "why the hub no longer needs it"}

    reason = FreeTextField(
        label="Why the hub no longer needs it",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the hub no longer needs this information."},
        help_text="The agency is told this reason.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
