"""The forms for the hub's lists: outcomes and referrer types."""

from django import forms

from core.text import FreeTextField
from enquiries.models import Outcome

IN_USE = [("active", "In use"), ("retired", "Retired: kept on past enquiries, offered no more")]
YES_NO = [("yes", "Yes"), ("no", "No")]


class ListItemForm(forms.Form):
    """A referrer type: its name and whether it is in use."""

    name = FreeTextField(label="Name", max_length=100, error_messages={"required": "Enter a name."})
    position = forms.IntegerField(
        label="Position in the list",
        min_value=0,
        max_value=999,
        help_text="Where it is offered where people choose one: lower numbers first; the same "
        "number, by name.",
        error_messages={
            "required": "Enter its position in the list, like 0 or 3.",
            "invalid": "Enter its position as a whole number, like 0 or 3.",
            "min_value": "Enter a position of 0 or more.",
            "max_value": "Enter a position of 999 or less.",
        },
    )
    is_active = forms.ChoiceField(
        label="Status",
        choices=IN_USE,
        widget=forms.RadioSelect,
        help_text="Nothing is deleted: past enquiries keep what they were given.",
        error_messages={"required": "Choose whether it is in use or retired."},
    )
    reason = FreeTextField(
        label="Why are you making this change?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The history of hub settings keeps it, with your name.",
        error_messages={"required": "Say why you are making this change."},
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, item=None, **kwargs) -> None:
        if item is not None:
            kwargs["initial"] = {**self.initial_for(item), **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        if item is None:
            del self.fields["is_active"]

    def initial_for(self, item) -> dict:
        return {
            "name": item.name,
            "position": item.position,
            "is_active": "active" if item.is_active else "retired",
        }

    def values(self) -> dict:
        values = {
            "name": self.cleaned_data["name"].strip(),
            "position": self.cleaned_data["position"],
        }
        if "is_active" in self.cleaned_data:
            values["is_active"] = self.cleaned_data["is_active"] == "active"
        return values


class OutcomeForm(ListItemForm):
    name = FreeTextField(
        label="Name", max_length=200, error_messages={"required": "Enter the outcome's name."}
    )
    fits = forms.ChoiceField(
        label="Who can it be recorded for?",
        choices=Outcome.Fits.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who it can be recorded for."},
    )
    leads_to_referral = forms.ChoiceField(
        label="Does it count as leading to referral in the volumes report?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether it counts as leading to referral."},
    )

    field_order = ["name", "fits", "leads_to_referral", "position", "is_active", "reason"]

    def initial_for(self, item) -> dict:
        return {
            **super().initial_for(item),
            "fits": item.fits,
            "leads_to_referral": "yes" if item.leads_to_referral else "no",
        }

    def values(self) -> dict:
        return {
            **super().values(),
            "fits": self.cleaned_data["fits"],
            "leads_to_referral": self.cleaned_data["leads_to_referral"] == "yes",
        }
