"""The forms of the amendments after intake: the shape of what was typed; `amendments`
decides. Each is made against the version of the enquiry the user read (`VersionedForm`)."""

from typing import cast

from django import forms
from django.db.models import Q
from django.utils import timezone

from core.text import FreeTextField

from .amendments import PERSON_FIELDS
from .forms import IntakeForm, InvolvedPersonForm, PersonForm, VersionedForm
from .models import Person
from .selectors import referrer_types


def reason_field(label: str, required: str) -> FreeTextField:
    return FreeTextField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="It is kept in the enquiry's history with what changed.",
        error_messages={"required": required},
    )


class PersonCorrectForm(VersionedForm, PersonForm):
    """A person's details as recorded, to be corrected."""

    keep_old_name_as_previous = forms.BooleanField(
        label="Keep the old name as a previous name",
        required=False,
        help_text=(
            "Tick if they were really known by the old name (before a marriage, say), so "
            "searches still find them. Leave it unticked when correcting a mistake."
        ),
    )
    expected_person_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    error_names = {**PersonForm.error_names, "reason": "why these details are being corrected"}
    reason = reason_field(
        "Why these details are being corrected", "Say why these details are being corrected."
    )

    def __init__(self, *args, person: Person, **kwargs) -> None:
        initial = kwargs.setdefault("initial", {})
        for name in PERSON_FIELDS:
            initial.setdefault(name, getattr(person, name))
        initial.setdefault("expected_person_version", person.version)
        super().__init__(*args, today=timezone.localdate(), **kwargs)
        del self.fields["existing"]  # the person is known: no register choice


class AddPersonForm(VersionedForm, InvolvedPersonForm):
    """Someone to name in the enquiry with their part, checked against the register first."""

    reason = reason_field("Why this person is being added", "Say why this person is being added.")


class AddChildForm(VersionedForm, PersonForm):
    """A child of the household to add to the family, checked against the register first."""

    reason = reason_field("Why this child is being added", "Say why this child is being added.")


class RemovePersonForm(VersionedForm):
    reason = reason_field(
        "Why this person was named in error", "Say why this person was named in error."
    )


# The referral's fields as intake asks them.
REFERRAL_FIELDS = [
    "referrer_name",
    "referrer_organisation",
    "referrer_type",
    "referrer_contact",
    "categories",
    "concern",
    "consent",
    "consent_reason",
    "lawful_basis",
]


class ReferralCorrectForm(VersionedForm):
    """The referral as recorded, to be corrected. A retired referrer type stays on offer to
    the enquiry that already names it."""

    referrer_name = IntakeForm.base_fields["referrer_name"]
    referrer_organisation = IntakeForm.base_fields["referrer_organisation"]
    referrer_type = IntakeForm.base_fields["referrer_type"]
    referrer_contact = IntakeForm.base_fields["referrer_contact"]
    categories = IntakeForm.base_fields["categories"]
    concern = IntakeForm.base_fields["concern"]
    consent = IntakeForm.base_fields["consent"]
    consent_reason = IntakeForm.base_fields["consent_reason"]
    lawful_basis = IntakeForm.base_fields["lawful_basis"]
    reason = reason_field(
        "Why the referral is being corrected", "Say why the referral is being corrected."
    )
    error_names = {**IntakeForm.error_names, "reason": "why the referral is being corrected"}

    def __init__(self, *args, **kwargs) -> None:
        enquiry = kwargs["enquiry"]
        initial = kwargs.setdefault("initial", {})
        for name in REFERRAL_FIELDS:
            initial.setdefault(name, getattr(enquiry, name))
        initial["referrer_type"] = enquiry.referrer_type_id
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["referrer_type"]
        ).queryset = referrer_types().filter(Q(is_active=True) | Q(pk=enquiry.referrer_type_id))
