"""The auditor's filters over the access log and the change log, read from the query string."""

from typing import Any, cast

from django import forms

from agencies.models import Agency
from core.text import FreeTextField
from enquiries.models import Enquiry, Person

from . import audit


class AuditFilterForm(forms.Form):
    log = forms.ChoiceField(choices=audit.LOGS, required=False, widget=forms.HiddenInput)
    user = FreeTextField(label="User", required=False, max_length=150, help_text="Username or name")
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.none(),
        required=False,
        empty_label="Any agency",
        help_text="The user's agency when they acted",
    )
    person = forms.IntegerField(
        label="Person number",
        required=False,
        min_value=1,
        help_text="From a person's link in the log",
    )
    name = FreeTextField(
        label="Person's name",
        required=False,
        max_length=201,
        help_text="First and last name, with the date of birth",
    )
    born = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    record = forms.IntegerField(
        label="Information record", required=False, min_value=1, help_text="Record number"
    )
    enquiry = FreeTextField(
        label="Enquiry", required=False, max_length=32, help_text="Reference, like MASH-2026-000123"
    )
    date_from = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        help_text="Included",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    action = forms.ChoiceField(
        label="Action", choices=[("", "Any action"), *audit.ACTION_CHOICES], required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Agencies no longer active still appear in the logs.
        cast(forms.ModelChoiceField, self.fields["agency"]).queryset = Agency.objects.order_by(
            "name"
        )

    @property
    def shown_log(self) -> str:
        """Which log is shown, whatever else is wrong with the filters."""
        value = self.data.get("log") if self.is_bound else None
        return value if value in dict(audit.LOGS) else audit.ACCESS

    def clean_user(self) -> str:
        return " ".join(self.cleaned_data["user"].split())

    def clean_enquiry(self) -> Enquiry | None:
        reference = self.cleaned_data["enquiry"].strip().upper()
        if not reference:
            return None
        try:
            return Enquiry.objects.only("pk", "reference").get(reference=reference)
        except Enquiry.DoesNotExist:
            raise forms.ValidationError(f"No enquiry has the reference {reference}.") from None

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def _people(self, data: dict) -> tuple[Person, ...]:
        """Who the person filter names: by number, by name and date of birth, or both."""
        if self.errors.keys() & {"person", "name", "born"}:
            return ()
        number, name, born = data.get("person"), data.get("name"), data.get("born")
        if bool(name) != bool(born):
            missing = "born" if name else "name"
            self.add_error(missing, "Give both the person's name and their date of birth.")
            return ()
        if not number and not name:
            return ()
        people = Person.objects.only("pk", "first_name", "last_name").order_by("pk")
        if number:
            people = people.filter(pk=number)
        if name:
            people = people.filter(search_name=name.lower(), date_of_birth=born)
        found = tuple(people)
        if not found:
            said = " and ".join(
                part
                for part in (
                    f"number {number}" if number else "",
                    f"the name {name}, born {born:%d/%m/%Y}" if name else "",
                )
                if part
            )
            self.add_error("person" if number else "name", f"No one in the register has {said}.")
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["people"] = self._people(data)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must be the same as or after the start date.")
        action = data.get("action")
        if action:
            in_changes = action in audit.CHANGE_ACTIONS
            if in_changes != (self.shown_log == audit.CHANGES):
                other = "changes to records" if in_changes else "access to agency information"
                self.add_error("action", f"“{audit.action_label(action)}” is an action of {other}.")
        return data

    def filters(self) -> audit.AuditFilters | None:
        """The filters, or None while they need correcting."""
        if not self.is_bound:
            return audit.AuditFilters()
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return audit.AuditFilters(
            log=self.shown_log,
            user=data["user"],
            agency=data["agency"],
            record_id=data["record"],
            enquiry=data["enquiry"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            action=data["action"],
            people=data["people"],
        )
