"""What a practitioner types to correct or withdraw their agency's record (sharing.revisions
decides whether it may be done)."""

from typing import cast

from django import forms

from core.forms import GovukForm
from core.text import FreeTextField
from enquiries.models import Person

from .firewall import ShownRecord
from .models import Sensitivity
from .web_forms import InformationRecordForm


def reason_help(record: ShownRecord, doing: str) -> str:
    """Whether the reason is required, and why: it is once someone outside the agency has
    read the record, and then the hub is told it."""
    if record.first_read_at is not None:
        return (
            f"Required: someone outside {record.agency_name} has read this record, so the hub "
            f"is told that you are {doing} it, and your reason. Do not repeat what the record "
            "says."
        )
    return (
        f"Optional: nobody outside {record.agency_name} has read this record yet, so nobody "
        "is told."
    )


class RevisionForm(GovukForm):
    reason = FreeTextField(label="Why", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    doing = ""
    error_names = {
        "reason": "the reason",
        "person": "who the information is about",
        "summary": "the summary",
        "detail": "the information",
        "source_system": "the source system",
        "information_date": "the date the information was recorded",
        "sensitivity": "whether the information is sensitive",
        "conditions": "the conditions on its use",
    }

    def __init__(self, *args, record: ShownRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = reason_help(record, self.doing)
        self.fields["reason"].label = f"Why you are {self.doing} it"
        self.fields["expected_version"].initial = record.version


class RecordWithdrawalForm(RevisionForm):
    doing = "withdrawing"


class RecordCorrectionForm(RevisionForm):
    """The whole record as it should be, with the fields of a new record, its conditions and
    why."""

    doing = "correcting"

    person = InformationRecordForm.base_fields["person"]
    summary = InformationRecordForm.base_fields["summary"]
    detail = InformationRecordForm.base_fields["detail"]
    source_system = InformationRecordForm.base_fields["source_system"]
    information_date = InformationRecordForm.base_fields["information_date"]
    sensitivity = forms.ChoiceField(
        choices=Sensitivity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the information is sensitive."},
        help_text="Marked sensitive, the content is hidden from the hub from now on unless "
        "your agency releases it. Non-sensitive content is visible to the hub at once.",
    )
    conditions = FreeTextField(
        label="Conditions on its use (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown with the information wherever the hub reads it.",
    )

    field_order = [
        "person",
        "summary",
        "detail",
        "source_system",
        "information_date",
        "sensitivity",
        "conditions",
        "reason",
    ]

    def __init__(self, *args, record: ShownRecord, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "person": record.person_id,
                "summary": record.summary,
                "detail": record.detail,
                "source_system": record.source_system,
                "information_date": record.information_date,
                "sensitivity": record.sensitivity,
                "conditions": record.conditions,
            },
        )
        super().__init__(*args, record=record, **kwargs)
        cast(forms.ModelChoiceField, self.fields["person"]).queryset = Person.objects.filter(
            involvements__enquiry_id=record.enquiry_id
        ).distinct()
