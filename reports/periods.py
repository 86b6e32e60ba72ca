"""Report periods: local dates in the hub's time zone, start included, end excluded."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts: {self.start} to {self.end}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start, self.zone)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end, self.zone)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def is_whole_months(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def label(self) -> str:
        """How people say it: "1 October 2025 to 31 March 2026" (both days included)."""
        if self.last_day == self.start:
            return long_date(self.start)
        return f"{long_date(self.start)} to {long_date(self.last_day)}"

    def before(self) -> "Period":
        """The period of the same length just before: the previous months for whole months."""
        if self.is_whole_months:
            months = _month_index(self.end) - _month_index(self.start)
            return Period(_month_start(_month_index(self.start) - months), self.start)
        return Period(self.start - (self.end - self.start), self.start)


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def last_full_month(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    return Period(_month_start(_month_index(this_month) - 1), this_month)


def month_so_far(today: date | None = None) -> Period:
    """From the first of this month up to and including today."""
    today = today or timezone.localdate()
    return Period(today.replace(day=1), today + timedelta(days=1))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)
