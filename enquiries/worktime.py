"""Working-minute arithmetic for SLA clocks, with no Django in sight.

A calendar says which real instants are working time. Each opening interval is written in
local wall-clock time and turned into real instants day by day, so a 09:00-17:00 day keeps
its eight hours on the days the clocks change. Wall times are converted the way ``zoneinfo``
does with ``fold=0``: a time inside a spring-forward gap maps forward (01:30 on the day
British Summer Time starts is 02:30 BST) and an ambiguous time maps to its first occurrence.
The working instants are the union of those real intervals; an interval that the gap turns
inside out counts for nothing.

Conventions:

* Everything is in whole minutes: seconds and microseconds are dropped from every input
  (floored to the UTC-epoch minute, which is the local minute in any zone of the supported
  years) before anything is computed.
* ``add_working_minutes(calendar, start, 0)`` returns ``start`` floored to the minute, even
  outside working hours; for ``n > 0`` the result is the END of the n-th working minute, so
  Friday 16:00 plus 60 minutes is Friday 17:00, not Monday 09:00.
* ``subtract_working_minutes(calendar, end, n)`` returns the EARLIEST start from which exactly
  ``n`` working minutes pass until ``end``: the end of the (n+1)-th working minute before
  ``end``. One minute earlier would count one more. So Monday 10:00 minus 60 minutes is
  Friday 17:00 (not Monday 09:00), and an ``end`` out of hours minus 0 minutes is the close of
  the last working minute before it (Friday 17:00 for a Sunday).
* Opening hours are minutes since local midnight; 1440 closes the day at 24:00.
* Only instants from local midnight starting 1 January ``MIN_YEAR`` up to and including
  local midnight ending 31 December ``MAX_YEAR`` are supported; anything else is a
  ``ValueError``, as is every other kind of bad input.

Each calendar lazily builds, per year, its working intervals as integer UTC-epoch minutes
with a running total, so every call is a handful of ``bisect`` look-ups.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2100
MINUTES_PER_DAY: Final = 1440

Nation = Literal["england-and-wales", "scotland", "northern-ireland"]
NATION_SUBDIVISIONS: Final[dict[str, str]] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}
LONDON: Final = ZoneInfo("Europe/London")

Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
Week = tuple[DayHours, ...]


def day_hours(*spans: str) -> DayHours:
    """Spell a day's opening hours as ``"09:00-12:30"`` strings; ``"24:00"`` closes at midnight."""
    return tuple(_parse_span(span) for span in spans)


def _parse_span(span: str) -> Interval:
    opening, separator, closing = span.partition("-")
    if not separator:
        raise ValueError(f"opening hours {span!r} must look like '09:00-17:00'")
    return _parse_wall_minute(opening), _parse_wall_minute(closing)


def _parse_wall_minute(text: str) -> int:
    hours, separator, minutes = text.strip().partition(":")
    if not (separator and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"time of day {text!r} must look like 'HH:MM'")
    minute_of_day = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or minute_of_day > MINUTES_PER_DAY:
        raise ValueError(f"time of day {text!r} must be between 00:00 and 24:00")
    return minute_of_day


OFFICE_HOURS: Final[Week] = (day_hours("09:00-17:00"),) * 5 + ((), ())


@cache
def _bank_holidays(nation: str, year: int) -> frozenset[date]:
    """Bank holidays are generated once per nation and year and shared by every calendar."""
    subdivision = NATION_SUBDIVISIONS[nation]
    generated = holidays.country_holidays("GB", subdiv=subdivision, years=year)
    return frozenset(day for day in generated if day.year == year)


def _epoch_minute_of_wall_time(zone: tzinfo, day: date, minute_of_day: int) -> int:
    """Resolve a wall-clock minute with fold=0, so gaps map forward and folds to the first."""
    if minute_of_day == MINUTES_PER_DAY:
        day += timedelta(days=1)
        minute_of_day = 0
    hour, minute = divmod(minute_of_day, 60)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return int(local.timestamp()) // 60


@lru_cache(maxsize=256)
def _year_starts(zone: tzinfo) -> tuple[int, ...]:
    """Epoch minute of local midnight on 1 January for every supported year and the one after."""
    return tuple(
        _epoch_minute_of_wall_time(zone, date(year, 1, 1), 0)
        for year in range(MIN_YEAR, MAX_YEAR + 2)
    )


@lru_cache(maxsize=4096)
def _local_midnights(zone: tzinfo, year: int) -> tuple[int, ...]:
    """Epoch minute of each local midnight in a year and the next New Year, shared by zone.

    A day exactly 1440 minutes long has had no clock change (no zone changes twice in a day),
    so its wall times are plain offsets from its midnight; only the odd days need converting.
    """
    first_day = date(year, 1, 1)
    day_count = (date(year + 1, 1, 1) - first_day).days
    return tuple(
        _epoch_minute_of_wall_time(zone, first_day + timedelta(days=index), 0)
        for index in range(day_count + 1)
    )


def _check_supported_year(year: int, what: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{what} is outside the supported years {MIN_YEAR}-{MAX_YEAR}")


def _epoch_minute(year_starts: tuple[int, ...], moment: datetime, name: str) -> int:
    """Floor an aware datetime to its UTC-epoch minute, refusing what the tables cannot answer."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got naive {moment.isoformat()}")
    minute = int(moment.timestamp()) // 60
    if not year_starts[0] <= minute <= year_starts[-1]:
        raise ValueError(
            f"{name} {moment.isoformat()} is outside the supported years {MIN_YEAR}-{MAX_YEAR}"
        )
    return minute


def _year_index(year_starts: tuple[int, ...], minute: int) -> int:
    """Index of the local year holding ``minute``; the very last instant belongs to MAX_YEAR."""
    index = bisect_right(year_starts, minute) - 1
    return min(index, MAX_YEAR - MIN_YEAR)


def _check_minutes(minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError(f"minutes must be a non-negative integer, got {minutes!r}")


def _check_date(value: date, name: str) -> int:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date (not a datetime), got {value!r}")
    last_supported = date(MAX_YEAR + 1, 1, 1)
    if not date(MIN_YEAR, 1, 1) <= value <= last_supported:
        raise ValueError(
            f"{name} {value.isoformat()} is outside the supported years {MIN_YEAR}-{MAX_YEAR}"
        )
    return value.toordinal()


class _YearTable:
    """One local year of working time: merged intervals and the minutes before each."""

    __slots__ = ("starts", "ends", "minutes_before", "total", "working_days")

    def __init__(self, intervals: list[Interval], working_days: list[int]) -> None:
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]
        running = 0
        self.minutes_before = [0]
        for start, end in intervals:
            running += end - start
            self.minutes_before.append(running)
        self.total = running
        self.working_days = working_days

    def minutes_until(self, minute: int) -> int:
        """Working minutes from the start of this year up to (not including) ``minute``."""
        index = bisect_right(self.starts, minute)
        if index == 0:
            return 0
        unfinished = self.ends[index - 1] - minute
        if unfinished > 0:
            return self.minutes_before[index] - unfinished
        return self.minutes_before[index]

    def end_of_working_minute(self, ordinal: int) -> int:
        """Epoch minute at which this year's ``ordinal``-th working minute (1-based) ends."""
        index = bisect_left(self.minutes_before, ordinal) - 1
        return self.starts[index] + ordinal - self.minutes_before[index]


def _merge(intervals: list[Interval], lower: int, upper: int) -> list[Interval]:
    """Union of intervals clipped to one year, so bisecting never meets overlaps."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        start, end = max(start, lower), min(end, upper)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            previous_start, previous_end = merged[-1]
            merged[-1] = (previous_start, max(previous_end, end))
        else:
            merged.append((start, end))
    return merged


def _normalise_week(week: Iterable[Iterable[Interval]]) -> Week:
    days = tuple(
        tuple(sorted((int(opening), int(closing)) for opening, closing in day)) for day in week
    )
    if len(days) != 7:
        raise ValueError(f"week must give opening hours for 7 days (Monday first), got {len(days)}")
    for weekday, day in enumerate(days):
        for opening, closing in day:
            if not 0 <= opening < closing <= MINUTES_PER_DAY:
                raise ValueError(
                    f"opening interval ({opening}, {closing}) on weekday {weekday} is inverted or "
                    f"out of bounds: need 0 <= open < close <= {MINUTES_PER_DAY}"
                )
        for (_, earlier_close), (later_open, _) in zip(day, day[1:], strict=False):
            if later_open < earlier_close:
                raise ValueError(f"opening intervals on weekday {weekday} are overlapping: {day}")
    if not any(days):
        raise ValueError("calendar has no working time: every weekday is closed")
    return days


def resolve_zone(tz: tzinfo | str) -> tzinfo:
    """Only zones that honour ``fold`` (not pytz, say) resolve wall times as documented."""
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {tz!r}") from error
    if not isinstance(tz, ZoneInfo | timezone):
        raise ValueError(f"tz must be a ZoneInfo, a datetime.timezone or a zone name, got {tz!r}")
    return tz


@dataclass(frozen=True)
class WorkingCalendar:
    """Opening hours, bank holidays and closures; hashable so it can key caches.

    ``week`` holds seven days, Monday first, each a tuple of ``(open, close)`` minutes since
    local midnight with ``0 <= open < close <= 1440`` (1440 is 24:00). ``nation`` picks the
    UK bank holidays from the ``holidays`` package, or ``None`` for none. ``tz`` may be
    given as a zone name. A working day is one whose weekday has opening hours and which is
    no bank holiday or closure.
    """

    tz: tzinfo = LONDON
    week: Week = OFFICE_HOURS
    nation: Nation | None = "england-and-wales"
    closures: frozenset[date] = frozenset()
    _years: list[_YearTable | None] = field(
        default_factory=lambda: [None] * (MAX_YEAR - MIN_YEAR + 1),
        init=False,
        repr=False,
        compare=False,
        hash=False,
    )
    _year_starts: tuple[int, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", resolve_zone(self.tz))
        object.__setattr__(self, "_year_starts", _year_starts(self.tz))
        object.__setattr__(self, "week", _normalise_week(self.week))
        if self.nation is not None and self.nation not in NATION_SUBDIVISIONS:
            raise ValueError(
                f"nation must be one of {sorted(NATION_SUBDIVISIONS)} or None, got {self.nation!r}"
            )
        closures = frozenset(self.closures)
        for closure in closures:
            if isinstance(closure, datetime) or not isinstance(closure, date):
                raise ValueError(f"closure {closure!r} must be a date")
            _check_supported_year(closure.year, f"closure date {closure.isoformat()}")
        object.__setattr__(self, "closures", closures)

    @classmethod
    def standard(
        cls,
        *,
        tz: tzinfo | str = LONDON,
        hours: Iterable[str] = ("09:00-17:00",),
        weekdays: Iterable[int] = range(5),
        nation: Nation | None = "england-and-wales",
        closures: Iterable[date] = (),
    ) -> WorkingCalendar:
        """The same hours on chosen weekdays (0 is Monday): the usual shape of an office."""
        same_hours = day_hours(*hours)
        open_days = set(weekdays)
        week = tuple(same_hours if weekday in open_days else () for weekday in range(7))
        return cls(tz=resolve_zone(tz), week=week, nation=nation, closures=frozenset(closures))

    @staticmethod
    def continuous(tz: tzinfo | str = LONDON) -> ContinuousCalendar:
        """Every real minute counts: for ratings whose clock never stops."""
        return ContinuousCalendar(tz=resolve_zone(tz))

    def is_working_day(self, day: date) -> bool:
        """A working day has opening hours on its weekday and is no holiday or closure."""
        _check_date(day, "day")
        return bool(self.week[day.weekday()]) and day not in self._closed_days(day.year)

    def _closed_days(self, year: int) -> frozenset[date]:
        if self.nation is None:
            return self.closures
        return _bank_holidays(self.nation, year) | self.closures

    def _table(self, year_index: int) -> _YearTable:
        table = self._years[year_index]
        if table is None:
            table = self._build_year(MIN_YEAR + year_index)
            self._years[year_index] = table
        return table

    def _build_year(self, year: int) -> _YearTable:
        closed = {day.toordinal() for day in self._closed_days(year)}
        midnights = _local_midnights(self.tz, year)
        first_ordinal = date(year, 1, 1).toordinal()
        intervals: list[Interval] = []
        working_days: list[int] = []
        for index, midnight in enumerate(midnights[:-1]):
            ordinal = first_ordinal + index
            hours = self.week[(ordinal - 1) % 7]  # ordinal 1 (1 January of year 1) is a Monday
            if not hours or ordinal in closed:
                continue
            working_days.append(ordinal)
            if midnights[index + 1] - midnight == MINUTES_PER_DAY:
                intervals.extend(
                    (midnight + opening, midnight + closing) for opening, closing in hours
                )
            else:
                day = date.fromordinal(ordinal)
                intervals.extend(
                    (
                        _epoch_minute_of_wall_time(self.tz, day, opening),
                        _epoch_minute_of_wall_time(self.tz, day, closing),
                    )
                    for opening, closing in hours
                )
        return _YearTable(_merge(intervals, midnights[0], midnights[-1]), working_days)

    def _add(self, start: int, minutes: int) -> int:
        year_index = _year_index(self._year_starts, start)
        table = self._table(year_index)
        target = table.minutes_until(start) + minutes
        while target > table.total:
            target -= table.total
            year_index += 1
            if year_index > MAX_YEAR - MIN_YEAR:
                raise ValueError(f"the result would fall after the supported year {MAX_YEAR}")
            table = self._table(year_index)
        return table.end_of_working_minute(target)

    def _subtract(self, end: int, minutes: int) -> int:
        year_index = _year_index(self._year_starts, end)
        table = self._table(year_index)
        # The start is the end of this year's `ordinal`-th working minute.
        ordinal = table.minutes_until(end) - minutes
        while ordinal <= 0:
            if year_index == 0:
                if ordinal == 0:
                    return self._year_starts[0]
                raise ValueError(f"the result would fall before the supported year {MIN_YEAR}")
            year_index -= 1
            table = self._table(year_index)
            ordinal += table.total
        return table.end_of_working_minute(ordinal)

    def _between(self, start: int, end: int) -> int:
        first_index = _year_index(self._year_starts, start)
        last_index = _year_index(self._year_starts, end)
        first = self._table(first_index)
        if first_index == last_index:
            return first.minutes_until(end) - first.minutes_until(start)
        total = first.total - first.minutes_until(start)
        for year_index in range(first_index + 1, last_index):
            total += self._table(year_index).total
        return total + self._table(last_index).minutes_until(end)

    def _working_days(self, start: int, end: int) -> int:
        total = 0
        first_year = date.fromordinal(start).year
        last_year = date.fromordinal(end - 1).year
        for year in range(first_year, last_year + 1):
            days = self._table(year - MIN_YEAR).working_days
            total += bisect_left(days, end) - bisect_left(days, start)
        return total


@dataclass(frozen=True)
class ContinuousCalendar:
    """A clock that never stops (24/7, no holidays): working time is plain elapsed time."""

    tz: tzinfo = LONDON
    _year_starts: tuple[int, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", resolve_zone(self.tz))
        object.__setattr__(self, "_year_starts", _year_starts(self.tz))

    def is_working_day(self, day: date) -> bool:
        """Every day is a working day when the clock never stops."""
        _check_date(day, "day")
        return True

    def _add(self, start: int, minutes: int) -> int:
        end = start + minutes
        if end > self._year_starts[-1]:
            raise ValueError(f"the result would fall after the supported year {MAX_YEAR}")
        return end

    def _subtract(self, end: int, minutes: int) -> int:
        start = end - minutes
        if start < self._year_starts[0]:
            raise ValueError(f"the result would fall before the supported year {MIN_YEAR}")
        return start

    def _between(self, start: int, end: int) -> int:
        return end - start

    def _working_days(self, start: int, end: int) -> int:
        return end - start


Calendar = WorkingCalendar | ContinuousCalendar


def add_working_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    """The earliest instant at which ``minutes`` working minutes have passed since ``start``."""
    _check_minutes(minutes)
    zone = calendar.tz
    begin = _epoch_minute(calendar._year_starts, start, "start")
    if minutes == 0:
        return datetime.fromtimestamp(begin * 60, zone)
    return datetime.fromtimestamp(calendar._add(begin, minutes) * 60, zone)


def subtract_working_minutes(calendar: Calendar, end: datetime, minutes: int) -> datetime:
    """The earliest start from which exactly ``minutes`` working minutes pass until ``end``.

    The inverse of counting: ``working_minutes_between(calendar, result, end) == minutes``,
    and from a minute earlier it is one more. When ``end`` is out of hours (or at opening
    time), no working minute passes between the last close and ``end``, so the result goes
    back to that close: Sunday 03:00 minus 0 minutes is Friday 17:00, minus 60 is Friday
    16:00. A result before the supported years is the first supported instant if it still
    counts ``minutes``, otherwise a ``ValueError``.
    """
    _check_minutes(minutes)
    finish = _epoch_minute(calendar._year_starts, end, "end")
    return datetime.fromtimestamp(calendar._subtract(finish, minutes) * 60, calendar.tz)


def working_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Working minutes in ``[start, end)``; zero when ``end`` is not after ``start``."""
    begin = _epoch_minute(calendar._year_starts, start, "start")
    finish = _epoch_minute(calendar._year_starts, end, "end")
    if finish <= begin:
        return 0
    return calendar._between(begin, finish)


def working_days_between(calendar: Calendar, start_date: date, end_date: date) -> int:
    """Working days in ``[start_date, end_date)``; zero when ``end_date`` is not after it."""
    start = _check_date(start_date, "start_date")
    end = _check_date(end_date, "end_date")
    if end <= start:
        return 0
    return calendar._working_days(start, end)


class SkippedWallTime(ValueError):
    """A wall-clock time that did not happen: the clocks went forward over it."""

    def __init__(self, wall_time: datetime, suggestion: datetime) -> None:
        super().__init__(f"{wall_time:%H:%M} on {wall_time:%Y-%m-%d} did not happen")
        self.wall_time = wall_time
        self.suggestion = suggestion  # the same time on the clock after the change


def wall_time_in(zone: tzinfo, wall_time: datetime, *, now: datetime) -> datetime:
    """The instant a person means by a wall-clock time they typed (naive) in the hub's zone.

    In the hour the clocks go back every time happens twice: it means the later one if that
    has already happened (at 01:40 GMT, "01:30" is ten minutes ago), else the earlier (at
    01:20 GMT, "01:30" is 01:30 BST, fifty minutes ago). A time in the hour the clocks go
    forward never happened: ``SkippedWallTime``, with the time the clock showed instead.
    """
    if wall_time.tzinfo is not None:
        raise ValueError("wall_time must be naive: a time as a clock on the wall shows it")
    earlier, later = wall_time.replace(tzinfo=zone, fold=0), wall_time.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    shown = earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if shown != wall_time:
        raise SkippedWallTime(wall_time, suggestion=shown)
    return later if later <= now else earlier
