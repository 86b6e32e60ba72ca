"""The GOV.UK date input: day, month and year as three text boxes in a fieldset, with the
Design System's error messages (https://design-system.service.gov.uk/components/date-input/).

Browsers' own date pickers differ from one to the next, are hard to use with a screen reader
and cannot take a date typed as people say it; the GOV.UK pattern can. A form uses
`GovukDateField` where it would use `forms.DateField`; `{{ form.field }}` (or
`{% include "includes/date_input.html" with field=form.field %}`) draws the whole component.
The single ISO form (`start=2026-11-01`) is still read, so links and bookmarks made before keep
working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

HINT = "For example, 27 3 2026"
PARTS = ("day", "month", "year")
# GOV.UK's widths: two characters for the day and month, four for the year.
WIDTHS = {"day": 2, "month": 2, "year": 4}


@dataclass(frozen=True)
class DatePart:
    """One of the three boxes, as the template draws it."""

    name: str  # the input's name: start_day
    id: str
    label: str  # Day, Month, Year
    value: str
    width: int
    error: bool


def _parts_of(value: Any) -> list[str]:
    """Day, month and year as typed (a list from the form's data) or from a date."""
    if isinstance(value, date):
        return [str(value.day), str(value.month), str(value.year)]
    if isinstance(value, str):  # the single ISO form
        try:
            return _parts_of(date.fromisoformat(value))
        except ValueError:
            return ["", "", ""]
    if isinstance(value, list | tuple):
        return [("" if part is None else str(part)) for part in value][:3]
    return ["", "", ""]


class GovukDateInput(forms.MultiWidget):
    """Three text boxes named `<name>_day`, `<name>_month` and `<name>_year`."""

    template_name = "includes/date_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__([forms.TextInput() for _ in PARTS], attrs)
        self.widgets_names = [f"_{part}" for part in PARTS]

    def decompress(self, value: Any) -> list[str]:
        return _parts_of(value)

    def value_from_datadict(self, data, files, name: str) -> Any:
        """The three boxes; else the single ISO value older links carry; else nothing."""
        parts = [data.get(f"{name}_{part}") for part in PARTS]
        if all(part is None for part in parts):
            return data.get(name)
        return ["" if part is None else part for part in parts]

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return name not in data and all(f"{name}_{part}" not in data for part in PARTS)

    def id_for_label(self, id_: str) -> str:
        """The day's box: where a label or an error summary's link should take the reader."""
        return f"{id_}_day" if id_ else ""

    def parts(self, name: str, value: Any, id_: str, errors: frozenset[str]) -> list[DatePart]:
        return [
            DatePart(
                name=f"{name}_{part}",
                id=f"{id_}_{part}",
                label=part.capitalize(),
                value=typed,
                width=WIDTHS[part],
                error=part in errors,
            )
            for part, typed in zip(PARTS, _parts_of(value), strict=True)
        ]

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        """The three boxes alone: a page that draws its own label and errors around them
        (`includes/form_field.html`) still gets the GOV.UK boxes."""
        attrs = self.build_attrs(self.attrs, attrs)
        id_ = attrs.get("id") or name
        errors = frozenset(PARTS) if "--error" in attrs.get("class", "") else frozenset()
        boxes = SimpleNamespace(date_parts=self.parts(name, value, id_, errors), auto_id="")
        return SafeString(
            render_to_string(self.template_name, {"field": boxes, "inputs_only": True})
        )


class GovukDateBoundField(BoundField):
    """A date field that draws the whole GOV.UK component: fieldset, legend, hint, error and
    the three boxes, with only the boxes at fault marked."""

    def __str__(self) -> SafeString:
        return SafeString(render_to_string("includes/date_input.html", {"field": self}))

    __html__ = __str__

    @property
    def date_parts(self) -> list[DatePart]:
        widget = cast(GovukDateInput, self.field.widget)
        id_ = self.auto_id or self.html_name
        return widget.parts(self.html_name, self.value(), id_, self._parts_at_fault())

    def _parts_at_fault(self) -> frozenset[str]:
        if not self.errors:
            return frozenset()
        faults: set[str] = set()
        for error in self.form.errors.as_data().get(self.name, []):
            faults |= set((error.params or {}).get("parts", PARTS))
        return frozenset(faults)


class GovukDateField(forms.Field):
    """A date typed as day, month and year, checked with GOV.UK's messages.

    `name` is how the messages refer to the date ("Date from must include a month", "Enter the
    date from"); it defaults to the label.
    """

    widget = GovukDateInput
    bound_field_class = GovukDateBoundField

    def __init__(self, *, label: str, name: str | None = None, hint: str = HINT, **kwargs) -> None:
        kwargs.setdefault("help_text", hint)
        super().__init__(label=label, **kwargs)
        self.name = name or label

    def _error(self, message: str, code: str, parts=PARTS) -> ValidationError:
        return ValidationError(message, code=code, params={"parts": tuple(parts)})

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        if isinstance(value, str):  # the single ISO form of older links
            if not value.strip():
                return None
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise self._error(f"{self.name} must be a real date", "invalid") from None
        typed = [part.strip() for part in _parts_of(value)]
        if not any(typed):
            return None
        missing = [part for part, text in zip(PARTS, typed, strict=True) if not text]
        if missing:
            raise self._error(
                f"{self.name} must include a {' and '.join(missing)}", "incomplete", missing
            )
        if not all(text.isascii() and text.isdigit() for text in typed):
            raise self._error(f"{self.name} must be a real date", "invalid")
        day, month, year = typed
        if len(year) != 4:
            raise self._error(f"{self.name} must include the year as 4 numbers", "year", ("year",))
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise self._error(f"{self.name} must be a real date", "invalid") from None

    def validate(self, value: date | None) -> None:
        if value is None and self.required:
            raise self._error(f"Enter the {self.name[:1].lower()}{self.name[1:]}", "required")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True
