"""The forms of onward referrals: the shape of what was typed; `referrals` decides."""

from typing import cast

from django import forms

from core.forms import GovukForm
from core.text import FreeTextField

from .forms import HubTimeField, VersionedForm
from .models import OnwardReferral
from .referrals import destinations_for


class ReferOnForm(VersionedForm):
    error_names = {
        "destination": "where the enquiry was referred",
        "team": "the team or authority",
        "method": "how the referral was sent",
        "sent_at": "the time it was sent",
        "note": "the note",
    }

    destination = forms.ChoiceField(
        label="Referred to",
        choices=(),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose where the enquiry was referred."},
    )
    team = forms.CharField(
        label="Team or authority",
        max_length=200,
        required=False,
        help_text="Required for another local authority or other: the name they go by.",
    )
    method = forms.ChoiceField(
        label="How it was sent",
        choices=OnwardReferral.Method.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the referral was sent."},
    )
    sent_at = HubTimeField(
        label="Sent at", required=False, help_text="Leave blank for now; give the time if earlier."
    )
    note = FreeTextField(
        label="Note for the hub (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who you spoke to, a reference they gave: it stays in the hub.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A child is not referred to adult social care, nor an adult to early help.
        cast(forms.ChoiceField, self.fields["destination"]).choices = destinations_for(
            self.enquiry.subject_type
        )


class ReferralAnswerForm(GovukForm):
    """What the receiving team said, against the version of the referral the user read."""

    error_names = {
        "answer": "whether the referral was accepted or returned",
        "answered_by_name": "the name of who answered",
        "answered_at": "the time they answered",
        "returned_reason": "why it was returned",
    }

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    answer = forms.ChoiceField(
        label="The receiving team's answer",
        choices=[("accepted", "Accepted"), ("returned", "Returned to the hub")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the referral was accepted or returned."},
    )
    answered_by_name = forms.CharField(
        label="Who answered (optional)", max_length=200, required=False
    )
    answered_at = HubTimeField(label="When", required=False, help_text="Leave blank for now.")
    returned_reason = FreeTextField(
        label="Why it was returned",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required if it was returned.",
    )

    def __init__(self, *args, referral: OnwardReferral, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("expected_version", referral.version)
        super().__init__(*args, **kwargs)
        self.referral = referral

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("answer") == "returned" and not cleaned.get("returned_reason"):
            self.add_error("returned_reason", "Say why the receiving team returned the referral.")
        return cleaned
