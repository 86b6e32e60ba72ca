"""The earliest date the hub takes (docs/api.md "Dates"): no one alive was born before it, no
agency holds a record made before it, and no concern reached the hub before it. Without it a
mistyped year ("0015" for "2015") was saved as the year 15."""

from datetime import date, datetime

from django.core.exceptions import ValidationError

EARLIEST = date(1900, 1, 1)


def not_before_earliest(value: date | datetime | None) -> None:
    """A field validator, for forms and serializers alike (both take Django's error)."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if day < EARLIEST:
        raise ValidationError(
            f"Check the year: the hub takes dates from {EARLIEST.day} {EARLIEST:%B %Y} on.",
            code="too_early",
        )
