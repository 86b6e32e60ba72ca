from datetime import timedelta
from typing import Any, cast

from core.forms import GovukForm
from core.widgets import HINT, GovukDateField

from .periods import Period, last_full_month

MAX_PERIOD_DAYS = 366 * 10
LAST_DAY_HINT = f"The last day of the period, included. {HINT}"


def _date_field(label: str, name: str, hint: str) -> GovukDateField:
    return GovukDateField(label=label, name=name, hint=hint, required=False)


class ReportPeriodForm(GovukForm):
    """The period a report covers, as people say it: from one day to another, both included.
    Left empty it is the report's default (the last full month, or today for the backlog);
    the compared period defaults to the one before."""

    start = _date_field("Date from", "Date from", HINT)
    to = _date_field("Date to", "Date to", LAST_DAY_HINT)
    compare_start = _date_field("Compare with, date from", "Compared date from", HINT)
    compare_to = _date_field("Compare with, date to", "Compared date to", LAST_DAY_HINT)

    def __init__(self, *args, compares: bool = False, default: Period | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.compares = compares
        self.default = default or last_full_month()
        self.initial = {"start": self.default.start, "to": self.default.last_day}
        if compares:
            before = self.default.before()
            self.initial |= {"compare_start": before.start, "compare_to": before.last_day}
        else:
            del self.fields["compare_start"], self.fields["compare_to"]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        self._period = self._check("start", "to", default=self.default)
        if self._period and self.compares:
            self._compared_with = self._check(
                "compare_start", "compare_to", default=self._period.before()
            )
        return data

    def _check(self, start_name: str, to_name: str, *, default: Period) -> Period | None:
        start, to = self.cleaned_data.get(start_name), self.cleaned_data.get(to_name)
        if start_name in self.errors or to_name in self.errors:
            return None
        if start is None and to is None:
            return default
        if start is None:
            self.add_error(start_name, f"Enter the {self._named(start_name).lower()}")
            return None
        if to is None:
            self.add_error(to_name, f"Enter the {self._named(to_name).lower()}")
            return None
        if to < start:
            self.add_error(
                to_name,
                f"{self._named(to_name)} must be the same as or after the "
                f"{self._named(start_name).lower()}",
            )
            return None
        if (to - start).days >= MAX_PERIOD_DAYS:
            self.add_error(to_name, "A report covers at most ten years.")
            return None
        return Period(start, to + timedelta(days=1))

    def _named(self, name: str) -> str:
        """How error messages name the date: "Date from"."""
        return cast(GovukDateField, self.fields[name]).name

    @property
    def period(self) -> Period:
        """The period asked for; the default one until the form is valid."""
        return getattr(self, "_period", None) or self.default

    @property
    def compared_with(self) -> Period | None:
        if not self.compares:
            return None
        return getattr(self, "_compared_with", None) or self.period.before()

    def query(self) -> dict[str, str]:
        """The period as a query string for links: the dates in force, filled in."""
        values = {"start": self.period.start, "to": self.period.last_day}
        compared = self.compared_with
        if compared is not None:
            values |= {"compare_start": compared.start, "compare_to": compared.last_day}
        return {name: value.isoformat() for name, value in values.items()}
