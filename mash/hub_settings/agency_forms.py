"""The agency form of the hub settings pages, with GOV.UK's specific messages."""

from django import forms

from agencies.models import Agency
from core.text import FreeTextField

YES_NO = [("yes", "Yes"), ("no", "No")]
ACTIVE = [("active", "Active"), ("inactive", "Inactive: it keeps its history")]


class AgencyForm(forms.Form):
    name = FreeTextField(
        label="Name", max_length=200, error_messages={"required": "Enter the agency's name."}
    )
    kind = forms.ChoiceField(
        label="Kind of agency",
        choices=[("", "Choose a kind"), *Agency.Kind.choices],
        error_messages={"required": "Choose what kind of agency it is."},
    )
    participation = forms.ChoiceField(
        label="How it takes part",
        choices=Agency.Participation.choices,
        widget=forms.RadioSelect,
        help_text="In the room, some days, or from its own office.",
        error_messages={"required": "Choose how the agency takes part."},
    )
    asked_by_default = forms.ChoiceField(
        label="Is it asked for information about every enquiry?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether it is asked about every enquiry."},
    )
    is_active = forms.ChoiceField(
        label="Status",
        choices=ACTIVE,
        widget=forms.RadioSelect,
        help_text="Deactivating it deactivates its people's accounts. Agencies are never "
        "deleted: they keep their records and history.",
        error_messages={"required": "Choose whether the agency is active."},
    )
    reason = FreeTextField(
        label="Why are you making this change?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The history of hub settings keeps it, with your name.",
        error_messages={"required": "Say why you are making this change."},
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, agency: Agency | None = None, **kwargs) -> None:
        self.agency = agency
        if agency is not None:
            kwargs["initial"] = {
                **kwargs.get("initial", {}),
                "name": agency.name,
                "kind": agency.kind,
                "participation": agency.participation,
                "asked_by_default": "yes" if agency.asked_by_default else "no",
                "is_active": "active" if agency.is_active else "inactive",
            }
        super().__init__(*args, **kwargs)
        if agency is None:
            del self.fields["is_active"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Agency.objects.filter(name__iexact=name)
        if self.agency is not None:
            others = others.exclude(pk=self.agency.pk)
        if others.exists():
            raise forms.ValidationError(f"There is already an agency called {name}.")
        return name

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "kind": data["kind"],
            "participation": data["participation"],
            "asked_by_default": data["asked_by_default"] == "yes",
        }
        if "is_active" in data:
            values["is_active"] = data["is_active"] == "active"
        return values
