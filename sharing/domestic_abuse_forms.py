"""The forms of the police's domestic-abuse pages (sharing.domestic_abuse_views): HTML input
only; the service decides."""

from django import forms

from core.forms import GovukForm
from core.text import FreeTextField
from enquiries.models import LawfulBasis

from .domestic_abuse import DECISIONS
from .models import DomesticAbuseNotification

Notification = DomesticAbuseNotification


class QueueFilterForm(GovukForm):
    error_names = {"status": "a status", "risk_level": "a risk level"}

    status = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *Notification.Status.choices], required=False
    )
    risk_level = forms.ChoiceField(
        label="Risk level",
        choices=[("", "Any risk level"), *Notification.RiskLevel.choices],
        required=False,
    )


class TriageForm(GovukForm):
    error_names = {
        "risk_level": "the risk level",
        "decision": "whether to refer it to the hub",
        "rationale": "the rationale",
        "lawful_basis": "the lawful basis",
    }

    risk_level = forms.ChoiceField(
        label="Risk level (DASH)",
        choices=Notification.RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the risk level: standard, medium or high."},
    )
    decision = forms.ChoiceField(
        label="Decision",
        choices=list(DECISIONS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to refer it to the hub."},
    )
    rationale = FreeTextField(
        label="Rationale",
        help_text="Required for no further action.",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    lawful_basis = forms.ChoiceField(
        label="Lawful basis for sharing without consent",
        help_text="For a referral without the victim's consent; left empty, the duty to "
        "safeguard children (or adult safeguarding where no child lives there).",
        choices=[("", "The usual basis"), *LawfulBasis.choices],
        required=False,
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class UploadForm(GovukForm):
    error_names = {"file": "the CSV file of notifications"}

    file = forms.FileField(
        label="Notifications (CSV)",
        help_text="One row per person named: police_reference, incident_at, address, summary, "
        "consent, part (victim, alleged_perpetrator or child), first_name, last_name, "
        "date_of_birth.",
        error_messages={"required": "Choose the CSV file of notifications."},
    )
