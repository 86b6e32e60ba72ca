"""The forms of the merge pages: finding the other record, and confirming or undoing a merge
with a reason. Only the shape of what was typed; `enquiries.merging` decides."""

from django import forms

from core.dates import not_before_earliest
from core.forms import GovukForm
from core.text import FreeTextField


class FindOtherForm(GovukForm):
    """A search of the register for the other record of the same person."""

    error_names = {"first_name": "their first name", "last_name": "their last name"}

    first_name = FreeTextField(label="First name", max_length=100, required=False)
    last_name = FreeTextField(label="Last name", max_length=100, required=False)
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[not_before_earliest],
    )
    approximate_age = forms.IntegerField(
        label="Approximate age",
        required=False,
        min_value=0,
        max_value=120,
        help_text="If the date of birth is not known.",
    )


class ChooseOtherForm(GovukForm):
    error_names = {"other": "the other record's id"}

    other = forms.IntegerField(
        label="Their id in the register",
        min_value=1,
        help_text="The number at the end of their person page's address.",
        error_messages={"required": "Give the id of the other record."},
    )


REASON_WIDGET = forms.Textarea(attrs={"rows": 4})


class MergeForm(GovukForm):
    """The merge, made against the two versions the manager compared."""

    error_names = {"reason": "why these are the same person"}

    other = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    survivor_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    other_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = FreeTextField(
        label="Why are these the same person?",
        widget=REASON_WIDGET,
        error_messages={"required": "Say why these are the same person."},
    )


class UndoMergeForm(GovukForm):
    error_names = {"reason": "why this merge was wrong"}

    reason = FreeTextField(
        label="Why was this merge wrong?",
        widget=REASON_WIDGET,
        error_messages={"required": "Say why this merge was wrong."},
    )
