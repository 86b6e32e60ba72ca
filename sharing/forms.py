"""The form the auditor's filters (`sharing.filters.AuditFilter`, which declares each of them)
are checked with: the checks that take more than one filter."""

from typing import Any

from core.forms import GovukForm
from enquiries.models import Person

from . import audit


class AuditFilterForm(GovukForm):
    """A person by name and date of birth together, dates in order, and an action of the log
    shown."""

    error_names = {
        "user": "a user",
        "agency": "an agency",
        "person": "the person number",
        "name": "the person's name",
        "born": "the date of birth",
        "record": "the information record number",
        "enquiry": "the enquiry reference",
        "date_from": "the from date",
        "date_to": "the to date",
        "action": "an action",
    }

    @property
    def shown_log(self) -> str:
        """Which log is shown, whatever else is wrong with the filters."""
        return audit.shown_log(self.data if self.is_bound else None)

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
