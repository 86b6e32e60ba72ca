"""The hub's clock as data: working calendar and RAG policy, edited by administrators.

One `HubClock` row holds the zone, bank holidays and at-risk threshold; opening hours,
closure days and the allowance of each RAG rating hang off it. Every change bumps
`HubClock.version`, which is how running processes know to rebuild their cached calendar.
"""

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F

from . import worktime

HUB_CLOCK_ID = 1


class Rag(models.TextChoices):
    """The urgency rating of an enquiry; "none" is an enquiry not (yet) rated."""

    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    NONE = "none", "No RAG"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def validate_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            "%(name)s is not a time zone name; use one like Europe/London.", params={"name": name}
        ) from error


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class HubClock(models.Model):
    """The hub's working calendar and RAG policy settings (a single row)."""

    class BankHolidays(models.TextChoices):
        ENGLAND_AND_WALES = "england-and-wales", "England and Wales"
        SCOTLAND = "scotland", "Scotland"
        NORTHERN_IRELAND = "northern-ireland", "Northern Ireland"
        NONE = "none", "None: the hub works on bank holidays"

    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="Opening hours are wall-clock times in this zone.",
    )
    bank_holidays = models.CharField(
        max_length=32,
        choices=BankHolidays.choices,
        default=BankHolidays.ENGLAND_AND_WALES,
        help_text="Whose bank holidays close the hub.",
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        "at risk from (% of allowance)",
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="An open enquiry is at risk once it has used this share of its allowance.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "hub clock"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=HUB_CLOCK_ID), name="hub_clock_single_row"
            ),
            models.CheckConstraint(
                condition=models.Q(at_risk_percent__gte=1, at_risk_percent__lte=100),
                name="hub_clock_at_risk_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return "Working calendar and RAG policy"

    def save(self, *args, **kwargs) -> None:
        self.pk = HUB_CLOCK_ID
        if not self._state.adding:
            self.version = F("version") + 1
        super().save(*args, **kwargs)
        self.refresh_from_db(fields=["version"])

    @staticmethod
    def changed() -> None:
        """Mark the configuration as changed, so every process rebuilds its calendar."""
        HubClock.objects.filter(pk=HUB_CLOCK_ID).update(version=F("version") + 1)


class HubClockPart(models.Model):
    """A row that belongs to the hub clock: saving or deleting it changes the clock."""

    hub_clock = models.ForeignKey(HubClock, on_delete=models.CASCADE, default=HUB_CLOCK_ID)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        HubClock.changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        HubClock.changed()
        return result


class OpeningHours(HubClockPart):
    """One opening interval on a weekday; a weekday may have several, or none (closed)."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    @property
    def interval(self) -> tuple[int, int]:
        """Minutes since local midnight, with a 00:00 close meaning 24:00."""
        closes = _minute_of_day(self.closes) or worktime.MINUTES_PER_DAY
        return _minute_of_day(self.opens), closes

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None:
            opens, closes = self.interval
            if opens >= closes:
                raise ValidationError({"closes": "The hub must close after it opens."})


class ClosureDay(HubClockPart):
    """A date the whole hub is closed beyond the bank holidays (a training day, say)."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%-d %B %Y}"

    def clean(self) -> None:
        if self.date and not worktime.MIN_YEAR <= self.date.year <= worktime.MAX_YEAR:
            raise ValidationError(
                {
                    "date": (
                        f"The clock covers {worktime.MIN_YEAR} to {worktime.MAX_YEAR}; "
                        "choose a date in those years."
                    )
                }
            )


class RagAllowance(HubClockPart):
    """How long a manager's decision may take for a rating, and which clock measures it."""

    class Clock(models.TextChoices):
        WORKING = "working", "Working minutes (hub calendar)"
        CONTINUOUS = "continuous", "Continuous (every minute, 24/7)"

    rating = models.CharField(max_length=8, choices=Rag.choices, unique=True)
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="From receipt to the manager's decision.",
    )
    clock = models.CharField(max_length=16, choices=Clock.choices, default=Clock.WORKING)

    class Meta:
        verbose_name = "RAG allowance"
        ordering = ["minutes", "rating"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1), name="rag_allowance_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}: {self.minutes} minutes"
