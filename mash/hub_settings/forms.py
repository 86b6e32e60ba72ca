"""The hub's timing settings as forms: each validates what was typed, in the users' words, and
turns it into the settings it proposes (enquiries.clock_settings, sharing.policy_settings)."""

from collections.abc import Callable
from dataclasses import replace
from datetime import date as Date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from agencies.models import Agency
from core.widgets import GovukDateField
from enquiries import worktime
from enquiries.clock_settings import (
    RATINGS,
    ClockSettings,
    EscalationSettings,
    day_as_text,
    escalation_managers,
)
from enquiries.models import HubClock, Rag, RagAllowance, Weekday, validate_time_zone
from sharing.policy_settings import PolicySettings


class SettingsForm(forms.Form):
    """A settings form posts the version it started from, so a save can tell whether
    someone else changed the settings in between; `proposed` turns what was typed into the
    settings it proposes, from the settings as they are."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say why, for the history of the hub's settings: a new rota, a training day.",
    )

    proposed: Callable[[Any], Any]

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()


def _minutes(label: str, *, maximum: int = 60 * 24 * 365) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=maximum,
        error_messages={
            "required": f"Enter {label.lower()}",
            "invalid": f"{label} must be a whole number of minutes, like 240",
            "min_value": f"{label} must be at least 1 minute",
            "max_value": f"{label} must be at most {maximum} minutes",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )


def _percent(label: str, what: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=100,
        error_messages={
            "required": f"Enter {what}",
            "invalid": f"{what.capitalize()} must be a whole number, like 75",
            "min_value": f"{what.capitalize()} must be between 1 and 100",
            "max_value": f"{what.capitalize()} must be between 1 and 100",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )


def parse_day(text: str) -> worktime.DayHours:
    """'09:00-12:30, 13:30-17:00' as intervals; empty is a closed day."""
    spans = [span.strip() for span in text.replace(";", ",").split(",") if span.strip()]
    intervals = []
    for span in spans:
        opens, closes = worktime.day_hours(span.replace(" to ", "-"))[0]
        if opens >= closes:
            raise ValueError(f"{span} closes before it opens")
        intervals.append((opens, closes))
    intervals.sort()
    for (_, first_closes), (second_opens, _) in zip(intervals, intervals[1:], strict=False):
        if second_opens < first_closes:
            raise ValueError("the times overlap")
    return tuple(intervals)


class OpeningHoursForm(SettingsForm):
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="Opening hours are wall-clock times in this zone, like Europe/London.",
        error_messages={"required": "Enter the time zone, like Europe/London"},
    )
    field_order = ["time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for weekday in Weekday:
            self.fields[self.day_field(weekday)] = forms.CharField(
                label=weekday.label,
                required=False,
                max_length=100,
                help_text="For example, 09:00-17:00. Leave it empty if the hub is closed that "
                "day. Separate two spells with a comma: 09:00-12:30, 13:30-17:00.",
            )
        self.order_fields([*(self.day_field(day) for day in Weekday), "time_zone"])

    @staticmethod
    def day_field(weekday: Weekday) -> str:
        return weekday.name.lower()

    @staticmethod
    def initial_for(current: ClockSettings) -> dict:
        return {
            "version": current.version,
            "time_zone": current.time_zone,
            **{
                OpeningHoursForm.day_field(weekday): day_as_text(current.week[weekday])
                for weekday in Weekday
            },
        }

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        try:
            validate_time_zone(name)
        except ValidationError as error:
            raise ValidationError(
                f"{name} is not a time zone; enter one like Europe/London"
            ) from error
        return name

    def clean(self):
        cleaned = super().clean()
        for weekday in Weekday:
            name = self.day_field(weekday)
            if name not in cleaned:
                continue
            try:
                cleaned[name] = parse_day(cleaned[name])
            except ValueError as error:
                self.add_error(
                    name,
                    f"Enter {weekday.label}'s opening hours like 09:00-17:00 ({error})",
                )
        if not self.errors and not any(cleaned[self.day_field(day)] for day in Weekday):
            self.add_error(self.day_field(Weekday.MONDAY), "Enter the hours of at least one day")
        return cleaned

    def proposed(self, current: ClockSettings) -> ClockSettings:
        data = self.cleaned_data
        return replace(
            current,
            version=data["version"],
            time_zone=data["time_zone"],
            week=tuple(data[self.day_field(day)] for day in Weekday),
        )


class ClosureDayForm(SettingsForm):
    date = GovukDateField(label="Date the hub is closed", hint="For example, 27 3 2027")
    closure_reason = forms.CharField(
        label="What the hub is closed for (optional)",
        required=False,
        max_length=200,
        help_text="For example, a training day.",
    )
    field_order = ["date", "closure_reason"]

    def clean_date(self) -> Date:
        day = self.cleaned_data["date"]
        if not worktime.MIN_YEAR <= day.year <= worktime.MAX_YEAR:
            raise ValidationError(f"Enter a date from {worktime.MIN_YEAR} to {worktime.MAX_YEAR}")
        return day

    def proposed(self, current: ClockSettings) -> ClockSettings:
        data = self.cleaned_data
        return replace(current, version=data["version"]).with_closure(
            data["date"], data["closure_reason"].strip()
        )


class RemoveClosureForm(SettingsForm):
    date = forms.DateField(widget=forms.HiddenInput)

    def proposed(self, current: ClockSettings) -> ClockSettings:
        data = self.cleaned_data
        return replace(current, version=data["version"]).without_closure(data["date"])


class BankHolidaysForm(SettingsForm):
    bank_holidays = forms.ChoiceField(
        label="Whose bank holidays close the hub",
        choices=HubClock.BankHolidays.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whose bank holidays close the hub"},
    )
    field_order = ["bank_holidays"]

    def proposed(self, current: ClockSettings) -> ClockSettings:
        data = self.cleaned_data
        return replace(current, version=data["version"], bank_holidays=data["bank_holidays"])


class AllowancesForm(SettingsForm):
    at_risk_percent = _percent("At risk from (% of the allowance)", "the at-risk share")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for rating in RATINGS:
            label = Rag(rating).label
            self.fields[f"{rating}_minutes"] = _minutes(f"{label} allowance in minutes")
            self.fields[f"{rating}_clock"] = forms.ChoiceField(
                label=f"{label}: which clock counts it",
                choices=RagAllowance.Clock.choices,
                widget=forms.RadioSelect,
                error_messages={"required": f"Select which clock counts the {label} allowance"},
            )
        self.order_fields(
            [
                *(f"{rating}_{part}" for rating in RATINGS for part in ("minutes", "clock")),
                "at_risk_percent",
            ]
        )

    @staticmethod
    def initial_for(current: ClockSettings) -> dict:
        initial: dict = {"version": current.version, "at_risk_percent": current.at_risk_percent}
        for rating, (minutes, clock) in current.allowances.items():
            initial[f"{rating}_minutes"], initial[f"{rating}_clock"] = minutes, clock
        return initial

    def proposed(self, current: ClockSettings) -> ClockSettings:
        data = self.cleaned_data
        return replace(
            current,
            version=data["version"],
            at_risk_percent=data["at_risk_percent"],
            allowances={
                rating: (data[f"{rating}_minutes"], data[f"{rating}_clock"]) for rating in RATINGS
            },
        )


class EscalationForm(SettingsForm):
    repeat_minutes = _minutes("Send it again after (minutes)", maximum=60 * 24)
    field_order = ["repeat_minutes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.managers = list(escalation_managers())
        for manager in self.managers:
            name = manager.get_full_name() or manager.username
            self.fields[f"manager_{manager.pk}"] = forms.IntegerField(
                label=name,
                required=False,
                min_value=1,
                max_value=len(self.managers),
                error_messages={
                    "invalid": f"{name}'s place must be a number, like 1",
                    "min_value": f"{name}'s place must be from 1 to {len(self.managers)}",
                    "max_value": f"{name}'s place must be from 1 to {len(self.managers)}",
                },
                widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
            )

    def manager_fields(self) -> list[forms.BoundField]:
        return [self[f"manager_{manager.pk}"] for manager in self.managers]

    @staticmethod
    def initial_for(current: EscalationSettings) -> dict:
        return {
            "version": current.version,
            "repeat_minutes": current.repeat_minutes,
            **{f"manager_{pk}": position for position, pk in enumerate(current.managers, start=1)},
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        places: dict[int, str] = {}
        for manager in self.managers:
            name = f"manager_{manager.pk}"
            place = cleaned.get(name)
            if place is None:
                continue
            if place in places:
                self.add_error(name, f"Give each manager a different place; {place} is taken")
            places[place] = name
        return cleaned

    def proposed(self, current: EscalationSettings) -> EscalationSettings:
        data = self.cleaned_data
        placed = sorted(
            (data[f"manager_{manager.pk}"], manager.pk)
            for manager in self.managers
            if data.get(f"manager_{manager.pk}") is not None
        )
        return EscalationSettings(
            version=data["version"],
            repeat_minutes=data["repeat_minutes"],
            managers=tuple(pk for _, pk in placed),
        )


class SharingPolicyForm(SettingsForm):
    request_due_percent = _percent(
        "Information requests are due at (% of the enquiry's allowance)",
        "the share of the allowance",
    )
    chase_interval_minutes = _minutes("Chase an overdue request again after (minutes)")
    lead_agency = forms.ModelChoiceField(
        label="The agency that runs the hub",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="None",
        help_text="Its information is the hub's own, so it is never sent an information request.",
        error_messages={"invalid_choice": "Select an active agency, or None"},
    )
    field_order = ["request_due_percent", "chase_interval_minutes", "lead_agency"]

    @staticmethod
    def initial_for(current: PolicySettings) -> dict:
        return {
            "version": current.version,
            "request_due_percent": current.request_due_percent,
            "chase_interval_minutes": current.chase_interval_minutes,
            "lead_agency": current.lead_agency,
        }

    def proposed(self, current: PolicySettings) -> PolicySettings:
        data = self.cleaned_data
        agency = data["lead_agency"]
        return PolicySettings(
            version=data["version"],
            request_due_percent=data["request_due_percent"],
            chase_interval_minutes=data["chase_interval_minutes"],
            lead_agency=agency.pk if agency else None,
        )
