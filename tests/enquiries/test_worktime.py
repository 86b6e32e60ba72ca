"""Working-minute arithmetic, checked by hand, against a slow reference, and by its inverse law."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, composite

from enquiries.worktime import (
    ContinuousCalendar,
    SkippedWallTime,
    WorkingCalendar,
    add_working_minutes,
    day_hours,
    subtract_working_minutes,
    wall_time_in,
    working_days_between,
    working_minutes_between,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")

CALENDARS: dict[str, WorkingCalendar | ContinuousCalendar] = {
    "england": WorkingCalendar.standard(),
    "scotland": WorkingCalendar.standard(nation="scotland"),
    "northern_ireland": WorkingCalendar.standard(nation="northern-ireland"),
    "closed_11_june": WorkingCalendar.standard(closures={date(2026, 6, 11)}),
    "split_lunch": WorkingCalendar.standard(hours=("09:00-12:30", "13:30-17:00")),
    "four_day_week": WorkingCalendar.standard(weekdays=range(4)),
    "every_day_nine_to_five": WorkingCalendar.standard(weekdays=range(7), nation=None),
    "round_the_clock": WorkingCalendar.standard(
        hours=("00:00-24:00",), weekdays=range(7), nation=None
    ),
    "sunday_small_hours": WorkingCalendar.standard(
        hours=("00:30-02:30",), weekdays=[6], nation=None
    ),
    "sunday_in_the_gap": WorkingCalendar.standard(
        hours=("01:30-03:00",), weekdays=[6], nation=None
    ),
    "sunday_first_fold": WorkingCalendar.standard(
        hours=("01:15-01:45",), weekdays=[6], nation=None
    ),
    "sunday_out_of_order": WorkingCalendar.standard(
        hours=("01:30-01:45", "02:00-02:10"), weekdays=[6], nation=None
    ),
    "continuous": WorkingCalendar.continuous(),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# UK clock changes in the cases below: in 2026 BST starts Sun 29 Mar (01:00 GMT -> 02:00 BST,
# so 01:00-01:59 never happens) and ends Sun 25 Oct (02:00 BST -> 01:00 GMT, so 01:00-01:59
# happens twice). Wall times in the gap count as GMT, i.e. an hour later in BST.
ADD_CASES = [
    pytest.param("england", "2026-03-27T16:00:00+00:00", 240, "2026-03-30T12:00:00+01:00",
                 id="friday_afternoon_over_bst_start"),
    pytest.param("england", "2026-04-02T15:00:00+01:00", 480, "2026-04-07T15:00:00+01:00",
                 id="good_friday_and_easter_monday_skipped"),
    pytest.param("england", "2026-12-24T16:30:00+00:00", 1440, "2026-12-31T16:30:00+00:00",
                 id="christmas_and_boxing_day_substitute_on_monday_skipped"),
    pytest.param("england", "2026-03-28T10:00:00+00:00", 240, "2026-03-30T13:00:00+01:00",
                 id="saturday_start_waits_for_monday_over_bst_start"),
    pytest.param("england", "2026-03-27T16:00:00+00:00", 60, "2026-03-27T17:00:00+00:00",
                 id="last_hour_of_friday_ends_at_friday_close_not_monday"),
    pytest.param("england", "2026-10-23T16:00:00+01:00", 120, "2026-10-26T10:00:00+00:00",
                 id="friday_afternoon_over_bst_end"),
    pytest.param("england", "2026-06-10T07:30:00+01:00", 30, "2026-06-10T09:30:00+01:00",
                 id="before_opening_starts_at_nine"),
    pytest.param("england", "2026-06-10T18:00:00+01:00", 30, "2026-06-11T09:30:00+01:00",
                 id="after_closing_starts_next_morning"),
    pytest.param("england", "2026-06-10T09:00:00+01:00", 1, "2026-06-10T09:01:00+01:00",
                 id="exactly_at_opening_counts_the_first_minute"),
    pytest.param("england", "2026-06-10T17:00:00+01:00", 1, "2026-06-11T09:01:00+01:00",
                 id="exactly_at_closing_moves_to_next_morning"),
    pytest.param("england", "2026-06-13T22:15:42.500000+01:00", 0, "2026-06-13T22:15:00+01:00",
                 id="zero_minutes_returns_start_floored_even_at_the_weekend"),
    pytest.param("england", "2026-06-13T21:15:00+00:00", 0, "2026-06-13T22:15:00+01:00",
                 id="zero_minutes_from_utc_is_shown_in_london"),
    pytest.param("england", "2026-06-10T10:00:59.999999+01:00", 60, "2026-06-10T11:00:00+01:00",
                 id="seconds_dropped_from_start"),
    pytest.param("england", "2026-06-10T08:00:00+00:00", 60, "2026-06-10T10:00:00+01:00",
                 id="utc_start_gives_london_result"),
    pytest.param("england", "2026-01-14T04:30:00-05:00", 90, "2026-01-14T11:00:00+00:00",
                 id="new_york_offset_start_gives_london_result"),
    pytest.param("england", "2025-12-31T16:00:00+00:00", 120, "2026-01-02T10:00:00+00:00",
                 id="england_works_on_2_january"),
    pytest.param("scotland", "2025-12-31T16:00:00+00:00", 120, "2026-01-05T10:00:00+00:00",
                 id="scotland_closed_on_2_january"),
    pytest.param("scotland", "2025-11-28T16:00:00+00:00", 120, "2025-12-02T10:00:00+00:00",
                 id="scotland_closed_on_st_andrews_day_substitute_monday"),
    pytest.param("england", "2025-11-28T16:00:00+00:00", 120, "2025-12-01T10:00:00+00:00",
                 id="england_open_on_st_andrews_day_substitute_monday"),
    pytest.param("northern_ireland", "2026-03-16T16:00:00+00:00", 120,
                 "2026-03-18T10:00:00+00:00", id="northern_ireland_closed_on_st_patricks_day"),
    pytest.param("england", "2026-03-16T16:00:00+00:00", 120, "2026-03-17T10:00:00+00:00",
                 id="england_open_on_st_patricks_day"),
    pytest.param("england", "2026-12-31T16:00:00+00:00", 120, "2027-01-04T10:00:00+00:00",
                 id="england_over_new_year_into_2027"),
    pytest.param("scotland", "2026-12-31T16:00:00+00:00", 120, "2027-01-05T10:00:00+00:00",
                 id="scotland_over_new_year_skips_2_january_substitute"),
    pytest.param("closed_11_june", "2026-06-10T16:00:00+01:00", 120, "2026-06-12T10:00:00+01:00",
                 id="extra_closure_date_skipped"),
    pytest.param("split_lunch", "2026-06-10T12:00:00+01:00", 30, "2026-06-10T12:30:00+01:00",
                 id="morning_interval_ends_at_lunch"),
    pytest.param("split_lunch", "2026-06-10T12:00:00+01:00", 60, "2026-06-10T14:00:00+01:00",
                 id="lunch_hour_skipped"),
    pytest.param("split_lunch", "2026-06-10T12:45:00+01:00", 15, "2026-06-10T13:45:00+01:00",
                 id="start_during_lunch_waits_for_afternoon"),
    pytest.param("four_day_week", "2026-06-11T16:00:00+01:00", 120, "2026-06-15T10:00:00+01:00",
                 id="weekday_with_no_hours_skipped"),
    pytest.param("round_the_clock", "2026-06-10T23:30:00+01:00", 30, "2026-06-11T00:00:00+01:00",
                 id="close_at_24_00_ends_at_midnight"),
    pytest.param("round_the_clock", "2026-03-29T00:00:00+00:00", 1380,
                 "2026-03-30T00:00:00+01:00", id="wall_clock_day_on_bst_start_has_23_hours"),
    pytest.param("round_the_clock", "2026-10-25T00:00:00+01:00", 1500,
                 "2026-10-26T00:00:00+00:00", id="wall_clock_day_on_bst_end_has_25_hours"),
    pytest.param("sunday_small_hours", "2026-10-25T00:30:00+01:00", 120,
                 "2026-10-25T01:30:00+00:00", id="repeated_hour_on_bst_end_is_worked_twice"),
    pytest.param("sunday_small_hours", "2026-03-29T00:00:00+00:00", 61,
                 "2026-04-05T00:31:00+01:00", id="skipped_hour_on_bst_start_leaves_one_hour"),
    pytest.param("sunday_in_the_gap", "2026-03-29T00:00:00+00:00", 30,
                 "2026-03-29T03:00:00+01:00", id="opening_in_the_spring_gap_maps_forward"),
    pytest.param("sunday_first_fold", "2026-10-25T00:00:00+01:00", 30,
                 "2026-10-25T01:45:00+01:00", id="ambiguous_opening_maps_to_first_occurrence"),
    pytest.param("sunday_out_of_order", "2026-03-29T00:00:00+00:00", 10,
                 "2026-03-29T02:10:00+01:00", id="interval_after_the_gap_is_worked_first"),
    pytest.param("sunday_out_of_order", "2026-03-29T00:00:00+00:00", 11,
                 "2026-03-29T02:31:00+01:00", id="interval_inside_the_gap_is_worked_second"),
    pytest.param("england", "2025-01-01T00:00:00+00:00", 364_320, "2027-12-31T17:00:00+00:00",
                 id="three_whole_years_of_759_working_days"),
    pytest.param("continuous", "2026-03-28T23:00:00+00:00", 240, "2026-03-29T04:00:00+01:00",
                 id="continuous_over_bst_start_counts_real_minutes"),
    pytest.param("continuous", "2026-10-24T23:00:00+01:00", 240, "2026-10-25T02:00:00+00:00",
                 id="continuous_over_bst_end_counts_real_minutes"),
    pytest.param("continuous", "2026-06-13T10:00:30+01:00", 90, "2026-06-13T11:30:00+01:00",
                 id="continuous_counts_the_weekend_and_drops_seconds"),
]  # fmt: skip


@pytest.mark.parametrize(("calendar", "start", "minutes", "expected"), ADD_CASES)
def test_it_adds_working_minutes(calendar: str, start: str, minutes: int, expected: str) -> None:
    result = add_working_minutes(CALENDARS[calendar], at(start), minutes)

    assert result.isoformat() == expected
    assert result.tzinfo is LONDON


BETWEEN_CASES = [
    pytest.param("england", "2026-06-10T10:00:00+01:00", "2026-06-10T15:30:00+01:00", 330,
                 id="within_one_day"),
    pytest.param("england", "2026-03-27T16:00:00+00:00", "2026-03-30T12:00:00+01:00", 240,
                 id="friday_afternoon_to_monday_over_bst_start"),
    pytest.param("england", "2026-10-23T16:00:00+01:00", "2026-10-26T10:00:00+00:00", 120,
                 id="friday_afternoon_to_monday_over_bst_end"),
    pytest.param("england", "2026-06-10T15:00:00+01:00", "2026-06-10T10:00:00+01:00", 0,
                 id="end_before_start_is_zero"),
    pytest.param("england", "2026-06-10T15:00:00+01:00", "2026-06-10T15:00:00+01:00", 0,
                 id="end_equal_to_start_is_zero"),
    pytest.param("england", "2026-06-10T10:00:59+01:00", "2026-06-10T10:30:59.999999+01:00", 30,
                 id="seconds_dropped_from_both_ends"),
    pytest.param("england", "2026-06-10T10:00:10+01:00", "2026-06-10T10:00:50+01:00", 0,
                 id="same_minute_is_zero"),
    pytest.param("england", "2026-06-10T10:00:30+01:00", "2026-06-10T10:01:10+01:00", 1,
                 id="partial_minutes_floor_at_both_ends"),
    pytest.param("england", "2026-06-10T08:00:00+00:00", "2026-06-10T12:00:00+02:00", 120,
                 id="utc_and_other_offsets_are_the_same_instants"),
    pytest.param("england", "2026-06-13T00:00:00+01:00", "2026-06-15T00:00:00+01:00", 0,
                 id="weekend_alone_is_zero"),
    pytest.param("england", "2026-04-02T00:00:00+01:00", "2026-04-08T00:00:00+01:00", 960,
                 id="easter_week_loses_good_friday_and_easter_monday"),
    pytest.param("england", "2026-12-31T16:00:00+00:00", "2027-01-05T10:00:00+00:00", 600,
                 id="england_over_new_year"),
    pytest.param("scotland", "2026-12-31T16:00:00+00:00", "2027-01-05T10:00:00+00:00", 120,
                 id="scotland_over_new_year_loses_2_january_substitute"),
    pytest.param("northern_ireland", "2026-03-16T00:00:00+00:00", "2026-03-21T00:00:00+00:00",
                 1920, id="northern_ireland_week_of_st_patricks_day"),
    pytest.param("england", "2026-03-16T00:00:00+00:00", "2026-03-21T00:00:00+00:00", 2400,
                 id="england_week_of_st_patricks_day"),
    pytest.param("closed_11_june", "2026-06-10T00:00:00+01:00", "2026-06-13T00:00:00+01:00", 960,
                 id="extra_closure_date_counts_nothing"),
    pytest.param("split_lunch", "2026-06-10T00:00:00+01:00", "2026-06-11T00:00:00+01:00", 420,
                 id="split_day_has_seven_hours"),
    pytest.param("round_the_clock", "2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00",
                 1380, id="wall_clock_day_on_bst_start_has_23_hours"),
    pytest.param("round_the_clock", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00",
                 1500, id="wall_clock_day_on_bst_end_has_25_hours"),
    pytest.param("every_day_nine_to_five", "2026-03-29T00:00:00+00:00",
                 "2026-03-30T00:00:00+01:00", 480, id="nine_to_five_keeps_8_hours_on_bst_start"),
    pytest.param("every_day_nine_to_five", "2026-10-25T00:00:00+01:00",
                 "2026-10-26T00:00:00+00:00", 480, id="nine_to_five_keeps_8_hours_on_bst_end"),
    pytest.param("sunday_small_hours", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00",
                 180, id="small_hours_on_bst_end_last_three_real_hours"),
    pytest.param("sunday_small_hours", "2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00",
                 60, id="small_hours_on_bst_start_last_one_real_hour"),
    pytest.param("sunday_out_of_order", "2026-03-29T00:00:00+00:00",
                 "2026-03-30T00:00:00+01:00", 25, id="intervals_reordered_by_the_gap_both_count"),
    pytest.param("england", "2025-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", 364_320,
                 id="three_whole_years_2025_to_2027"),
    pytest.param("continuous", "2026-03-28T23:00:00+00:00", "2026-03-29T04:00:00+01:00", 240,
                 id="continuous_over_bst_start_counts_real_minutes"),
    pytest.param("continuous", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00", 1500,
                 id="continuous_over_bst_end_counts_real_minutes"),
]  # fmt: skip


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), BETWEEN_CASES)
def test_it_counts_working_minutes_between(
    calendar: str, start: str, end: str, expected: int
) -> None:
    assert working_minutes_between(CALENDARS[calendar], at(start), at(end)) == expected


# The earliest start from which `minutes` working minutes pass until `end`: the end of the
# (minutes + 1)-th working minute before it, so out of hours it goes back to the last close.
SUBTRACT_CASES = [
    pytest.param("england", "2026-03-30T12:00:00+01:00", 240, "2026-03-27T16:00:00+00:00",
                 id="monday_back_over_bst_start_to_friday_afternoon"),
    pytest.param("england", "2026-10-26T10:00:00+00:00", 120, "2026-10-23T16:00:00+01:00",
                 id="monday_back_over_bst_end_to_friday_afternoon"),
    pytest.param("england", "2026-03-29T03:00:00+01:00", 0, "2026-03-27T17:00:00+00:00",
                 id="sunday_of_bst_start_zero_minutes_is_fridays_close"),
    pytest.param("england", "2026-03-29T03:00:00+01:00", 60, "2026-03-27T16:00:00+00:00",
                 id="sunday_of_bst_start_one_hour_is_friday_16_00"),
    pytest.param("england", "2026-10-25T01:30:00+00:00", 0, "2026-10-23T17:00:00+01:00",
                 id="second_01_30_of_bst_end_zero_minutes_is_fridays_close"),
    pytest.param("england", "2026-10-25T01:30:00+00:00", 480, "2026-10-22T17:00:00+01:00",
                 id="second_01_30_of_bst_end_a_day_is_thursdays_close"),
    pytest.param("england", "2026-12-25T11:00:00+00:00", 0, "2026-12-24T17:00:00+00:00",
                 id="christmas_day_zero_minutes_is_christmas_eves_close"),
    pytest.param("england", "2026-12-25T11:00:00+00:00", 1440, "2026-12-21T17:00:00+00:00",
                 id="christmas_day_three_days_is_mondays_close"),
    pytest.param("england", "2026-12-29T10:00:00+00:00", 120, "2026-12-24T16:00:00+00:00",
                 id="christmas_and_boxing_day_substitute_on_monday_skipped"),
    pytest.param("england", "2026-04-07T15:00:00+01:00", 480, "2026-04-02T15:00:00+01:00",
                 id="good_friday_and_easter_monday_skipped"),
    pytest.param("england", "2026-11-28T23:30:00+00:00", 240, "2026-11-27T13:00:00+00:00",
                 id="saturday_night_back_into_friday"),
    pytest.param("england", "2026-12-01T08:59:00+00:00", 0, "2026-11-30T17:00:00+00:00",
                 id="a_minute_before_opening_zero_minutes_is_last_close"),
    pytest.param("england", "2026-12-01T08:59:00+00:00", 60, "2026-11-30T16:00:00+00:00",
                 id="a_minute_before_opening_one_hour_is_yesterday_16_00"),
    pytest.param("england", "2026-12-01T09:00:00+00:00", 0, "2026-11-30T17:00:00+00:00",
                 id="at_opening_zero_minutes_is_last_close"),
    pytest.param("england", "2026-12-01T09:00:00+00:00", 1, "2026-11-30T16:59:00+00:00",
                 id="at_opening_one_minute_is_the_last_minute_of_yesterday"),
    pytest.param("england", "2026-12-01T17:00:00+00:00", 0, "2026-12-01T17:00:00+00:00",
                 id="at_closing_zero_minutes_is_closing"),
    pytest.param("england", "2026-12-01T17:00:00+00:00", 60, "2026-12-01T16:00:00+00:00",
                 id="at_closing_one_hour_is_16_00"),
    pytest.param("england", "2026-12-01T17:00:00+00:00", 480, "2026-11-30T17:00:00+00:00",
                 id="at_closing_a_whole_day_goes_back_to_the_close_before_it"),
    pytest.param("england", "2026-06-10T15:30:00+01:00", 330, "2026-06-10T10:00:00+01:00",
                 id="within_one_day"),
    pytest.param("england", "2026-06-10T10:30:59.999999+01:00", 30, "2026-06-10T10:00:00+01:00",
                 id="seconds_dropped_from_end"),
    pytest.param("england", "2026-06-10T10:00:30+01:00", 0, "2026-06-10T10:00:00+01:00",
                 id="zero_minutes_in_hours_is_end_floored"),
    pytest.param("england", "2026-12-02T10:30:00+00:00", 90, "2026-12-01T17:00:00+00:00",
                 id="back_to_opening_goes_on_to_the_close_before_it"),
    pytest.param("england", "2027-01-04T10:00:00+00:00", 120, "2026-12-31T16:00:00+00:00",
                 id="england_back_over_new_year_into_2026"),
    pytest.param("scotland", "2027-01-05T10:00:00+00:00", 120, "2026-12-31T16:00:00+00:00",
                 id="scotland_back_over_new_year_skips_4_january_substitute"),
    pytest.param("england", "2027-12-31T17:00:00+00:00", 364_320, "2024-12-31T17:00:00+00:00",
                 id="three_whole_years_back_to_the_close_before_them"),
    pytest.param("split_lunch", "2026-06-10T14:00:00+01:00", 60, "2026-06-10T12:00:00+01:00",
                 id="lunch_hour_skipped"),
    pytest.param("split_lunch", "2026-06-10T13:45:00+01:00", 15, "2026-06-10T12:30:00+01:00",
                 id="back_to_the_afternoons_opening_goes_on_to_lunch"),
    pytest.param("round_the_clock", "2026-03-30T00:00:00+01:00", 1380,
                 "2026-03-29T00:00:00+00:00", id="wall_clock_day_on_bst_start_has_23_hours"),
    pytest.param("round_the_clock", "2026-10-26T00:00:00+00:00", 1500,
                 "2026-10-25T00:00:00+01:00", id="wall_clock_day_on_bst_end_has_25_hours"),
    pytest.param("sunday_small_hours", "2026-10-25T01:30:00+00:00", 120,
                 "2026-10-18T02:30:00+01:00", id="repeated_hour_on_bst_end_is_worked_twice"),
    pytest.param("continuous", "2026-03-29T04:00:00+01:00", 240, "2026-03-28T23:00:00+00:00",
                 id="continuous_over_bst_start_counts_real_minutes"),
    pytest.param("continuous", "2026-10-25T02:00:00+00:00", 240, "2026-10-24T23:00:00+01:00",
                 id="continuous_over_bst_end_counts_real_minutes"),
    pytest.param("continuous", "2026-06-13T11:30:30+01:00", 0, "2026-06-13T11:30:00+01:00",
                 id="continuous_zero_minutes_is_end_floored_even_at_the_weekend"),
    pytest.param("england", "2000-01-04T10:00:00+00:00", 60, "2000-01-01T00:00:00+00:00",
                 id="back_to_the_first_supported_instant"),
]  # fmt: skip


@pytest.mark.parametrize(("calendar", "end", "minutes", "expected"), SUBTRACT_CASES)
def test_it_subtracts_working_minutes(calendar: str, end: str, minutes: int, expected: str) -> None:
    result = subtract_working_minutes(CALENDARS[calendar], at(end), minutes)

    assert result.isoformat() == expected
    assert result.tzinfo is LONDON
    assert working_minutes_between(CALENDARS[calendar], result, at(end)) == minutes


DAYS_CASES = [
    pytest.param("england", "2026-04-01", "2026-05-01", 20,
                 id="april_2026_england_loses_good_friday_and_easter_monday"),
    pytest.param("scotland", "2026-04-01", "2026-05-01", 21,
                 id="april_2026_scotland_works_easter_monday"),
    pytest.param("england", "2026-12-01", "2027-01-01", 21,
                 id="december_2026_england_loses_christmas_and_boxing_day_substitute"),
    pytest.param("england", "2026-01-01", "2027-01-01", 253, id="all_of_2026_in_england"),
    pytest.param("england", "2025-01-01", "2028-01-01", 759, id="three_whole_years_2025_to_2027"),
    pytest.param("scotland", "2026-11-30", "2026-12-01", 0, id="scotland_st_andrews_day_monday"),
    pytest.param("england", "2026-11-30", "2026-12-01", 1, id="england_st_andrews_day_monday"),
    pytest.param("england", "2026-04-03", "2026-04-04", 0, id="good_friday_alone"),
    pytest.param("england", "2026-04-07", "2026-04-08", 1, id="ordinary_tuesday_alone"),
    pytest.param("england", "2026-04-08", "2026-04-01", 0, id="end_before_start_is_zero"),
    pytest.param("four_day_week", "2026-06-01", "2026-07-01", 18, id="june_2026_four_day_week"),
    pytest.param("closed_11_june", "2026-06-01", "2026-07-01", 21,
                 id="june_2026_with_one_closure"),
    pytest.param("continuous", "2026-06-08", "2026-06-15", 7, id="continuous_counts_every_date"),
]  # fmt: skip


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), DAYS_CASES)
def test_it_counts_working_days_between(calendar: str, start: str, end: str, expected: int) -> None:
    days = working_days_between(
        CALENDARS[calendar], date.fromisoformat(start), date.fromisoformat(end)
    )

    assert days == expected


def test_it_tells_working_days_from_weekends_holidays_and_closures() -> None:
    assert CALENDARS["england"].is_working_day(date(2026, 4, 7))
    assert not CALENDARS["england"].is_working_day(date(2026, 4, 3))
    assert not CALENDARS["england"].is_working_day(date(2026, 4, 4))
    assert CALENDARS["england"].is_working_day(date(2026, 1, 2))
    assert not CALENDARS["scotland"].is_working_day(date(2026, 1, 2))
    assert not CALENDARS["closed_11_june"].is_working_day(date(2026, 6, 11))
    assert CALENDARS["continuous"].is_working_day(date(2026, 12, 25))


def test_it_keeps_the_last_supported_minute_in_reach() -> None:
    england = CALENDARS["england"]
    last_open = at("2100-12-31T09:00:00+00:00")

    assert add_working_minutes(england, last_open, 480).isoformat() == "2100-12-31T17:00:00+00:00"
    assert working_minutes_between(england, last_open, at("2101-01-01T00:00:00+00:00")) == 480
    assert working_days_between(england, date(2100, 12, 1), date(2101, 1, 1)) == 21


def test_it_treats_equal_calendars_as_one_dictionary_key() -> None:
    spelled_out = WorkingCalendar(
        tz="Europe/London",
        week=(((540, 1020),),) * 5 + ((), ()),
        nation="england-and-wales",
    )
    results = {WorkingCalendar.standard(): "standard"}

    assert spelled_out == WorkingCalendar.standard() == WorkingCalendar()
    assert results[spelled_out] == "standard"
    remembered = functools.lru_cache(maxsize=None)(lambda calendar: object())
    assert remembered(spelled_out) is remembered(WorkingCalendar())
    assert WorkingCalendar.continuous() == ContinuousCalendar(tz=LONDON)


def test_it_spells_opening_hours_as_minutes_since_midnight() -> None:
    assert day_hours("09:00-12:30", "13:30-24:00") == ((540, 750), (810, 1440))


def test_it_imports_without_django() -> None:
    probe = (
        "import sys, enquiries.worktime, enquiries.sla; "
        "print(sorted(name for name in sys.modules if name.startswith('django')))"
    )

    completed = subprocess.run(  # noqa: S603 - fixed interpreter and argument list
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout.strip() == "[]"


ENGLAND = CALENDARS["england"]
WEDNESDAY = at("2026-06-10T10:00:00+01:00")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: add_working_minutes(ENGLAND, datetime(2026, 6, 10, 10), 60),  # noqa: DTZ001
            "start must be time-zone aware",
            id="naive_start",
        ),
        pytest.param(
            lambda: working_minutes_between(ENGLAND, WEDNESDAY, datetime(2026, 6, 11)),  # noqa: DTZ001
            "end must be time-zone aware",
            id="naive_end",
        ),
        pytest.param(
            lambda: add_working_minutes(ENGLAND, WEDNESDAY, -1),
            "minutes must be a non-negative integer, got -1",
            id="negative_minutes",
        ),
        pytest.param(
            lambda: add_working_minutes(ENGLAND, WEDNESDAY, 1.5),
            "minutes must be a non-negative integer",
            id="fractional_minutes",
        ),
        pytest.param(
            lambda: WorkingCalendar(week=((),) * 7),
            "no working time",
            id="calendar_without_working_time",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(hours=("09:00-12:30", "12:00-17:00")),
            "overlapping",
            id="overlapping_intervals",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(hours=("17:00-09:00",)),
            "inverted",
            id="inverted_interval",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(hours=("09:00-09:00",)),
            "inverted",
            id="empty_interval",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(hours=("09:00-24:30",)),
            "between 00:00 and 24:00",
            id="close_after_midnight",
        ),
        pytest.param(
            lambda: WorkingCalendar(week=((),) * 6),
            "7 days",
            id="week_of_six_days",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(tz="Europe/Londres"),
            "unknown time zone 'Europe/Londres'",
            id="unknown_time_zone",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(nation="wales"),
            "nation must be one of",
            id="unknown_nation",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(closures={date(1999, 12, 31)}),
            "closure date 1999-12-31 is outside the supported years 2000-2100",
            id="closure_before_supported_years",
        ),
        pytest.param(
            lambda: WorkingCalendar.standard(closures={date(2101, 1, 1)}),
            "closure date 2101-01-01 is outside the supported years",
            id="closure_after_supported_years",
        ),
        pytest.param(
            lambda: add_working_minutes(ENGLAND, at("1999-12-31T23:59:00+00:00"), 1),
            "start 1999-12-31T23:59:00[+]00:00 is outside the supported years 2000-2100",
            id="start_before_supported_years",
        ),
        pytest.param(
            lambda: working_minutes_between(ENGLAND, WEDNESDAY, at("2101-01-01T00:01:00+00:00")),
            "end .* is outside the supported years",
            id="end_after_supported_years",
        ),
        pytest.param(
            lambda: subtract_working_minutes(ENGLAND, datetime(2026, 6, 10, 10), 60),  # noqa: DTZ001
            "end must be time-zone aware",
            id="naive_end_to_subtract_from",
        ),
        pytest.param(
            lambda: subtract_working_minutes(ENGLAND, WEDNESDAY, -1),
            "minutes must be a non-negative integer, got -1",
            id="negative_minutes_to_subtract",
        ),
        pytest.param(
            lambda: subtract_working_minutes(ENGLAND, at("2000-01-04T10:00:00+00:00"), 61),
            "before the supported year 2000",
            id="subtracted_result_before_supported_years",
        ),
        pytest.param(
            lambda: subtract_working_minutes(
                CALENDARS["continuous"], at("2000-01-01T00:30:00+00:00"), 31
            ),
            "before the supported year 2000",
            id="continuous_subtracted_result_before_supported_years",
        ),
        pytest.param(
            lambda: add_working_minutes(ENGLAND, at("2100-12-31T16:00:00+00:00"), 61),
            "after the supported year 2100",
            id="result_after_supported_years",
        ),
        pytest.param(
            lambda: add_working_minutes(CALENDARS["continuous"], WEDNESDAY, 60 * 24 * 365 * 80),
            "after the supported year 2100",
            id="continuous_result_after_supported_years",
        ),
        pytest.param(
            lambda: working_days_between(ENGLAND, date(1999, 12, 31), date(2026, 1, 1)),
            "start_date 1999-12-31 is outside the supported years",
            id="start_date_before_supported_years",
        ),
        pytest.param(
            lambda: working_days_between(ENGLAND, WEDNESDAY, date(2026, 7, 1)),
            "start_date must be a date",
            id="datetime_given_for_a_date",
        ),
    ],
)
def test_it_rejects_bad_input_with_a_clear_message(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- Property tests -------------------------------------------------------------------------

FIRST_MINUTE = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp()) // 60
LAST_MINUTE = int(datetime(2030, 12, 31, tzinfo=UTC).timestamp()) // 60
ZONES = ["Europe/London"] * 5 + ["America/Santiago", "Australia/Lord_Howe", "UTC"]
NATION_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
ONE_DAY = timedelta(days=1)
SLOW_WINDOW = 3 * 1440
INTERESTING_WALL_MINUTES = [0, 30, 60, 90, 120, 150, 180, 540, 750, 810, 1020, 1380, 1410, 1440]


@functools.cache
def reference_bank_holidays(nation: str, year: int) -> frozenset[date]:
    generated = holidays.country_holidays("GB", subdiv=NATION_SUBDIVISIONS[nation], years=year)
    return frozenset(generated)


@functools.cache
def clock_changes(zone_name: str) -> tuple[int, ...]:
    """Epoch minutes near which the zone's offset changes, to aim starts at awkward days."""
    zone = ZoneInfo(zone_name)
    changes = []
    previous = None
    for day in range(FIRST_MINUTE, LAST_MINUTE, 1440):
        offset = datetime.fromtimestamp(day * 60, zone).utcoffset()
        if previous is not None and offset != previous:
            changes.append(day)
        previous = offset
    return tuple(changes) or (FIRST_MINUTE + 1440 * 365,)


class SlowReference:
    """Decides minute by minute whether a real minute is working, straight from the rules."""

    def __init__(self, calendar: WorkingCalendar | ContinuousCalendar) -> None:
        self.calendar = calendar
        self.spans_by_day: dict[date, list[tuple[int, int]]] = {}

    def wall_time_to_minute(self, day: date, minute_of_day: int) -> int:
        naive = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
        return int(naive.replace(tzinfo=self.calendar.tz).timestamp()) // 60

    def spans(self, day: date) -> list[tuple[int, int]]:
        if day not in self.spans_by_day:
            calendar = self.calendar
            closed = day in calendar.closures or (
                calendar.nation is not None
                and day in reference_bank_holidays(calendar.nation, day.year)
            )
            hours = () if closed else calendar.week[day.weekday()]
            self.spans_by_day[day] = [
                (self.wall_time_to_minute(day, opening), self.wall_time_to_minute(day, closing))
                for opening, closing in hours
            ]
        return self.spans_by_day[day]

    def is_working(self, minute: int) -> bool:
        """The rule: a minute works if the hours of its local day, or of the day either side,
        cover it."""
        if isinstance(self.calendar, ContinuousCalendar):
            return True
        local_day = datetime.fromtimestamp(minute * 60, self.calendar.tz).date()
        return any(
            opening <= minute < closing
            for day in (local_day - ONE_DAY, local_day, local_day + ONE_DAY)
            for opening, closing in self.spans(day)
        )

    def working(self, first: int, count: int) -> list[bool]:
        """`is_working` for `count` minutes from `first`, each still decided by its own local
        day, but only the minutes some day's hours cover: deciding every minute of the window
        one by one was most of what the property tests cost.

        No minute is missed: an offset is under a day, so a minute's local day is within a day
        of its UTC day, and a day whose hours may count for it within two."""
        if isinstance(self.calendar, ContinuousCalendar):
            return [True] * count
        flags = [False] * count
        last = first + count
        day = minute_to_datetime(first).date() - 2 * ONE_DAY
        while day <= minute_to_datetime(last).date() + 2 * ONE_DAY:
            for opening, closing in self.spans(day):
                for minute in range(max(opening, first), min(closing, last)):
                    if not flags[minute - first]:
                        local_day = datetime.fromtimestamp(minute * 60, self.calendar.tz).date()
                        flags[minute - first] = abs((local_day - day).days) <= 1
            day += ONE_DAY
        return flags


def minute_to_datetime(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


def pair_up(points: list[int]) -> tuple[tuple[int, int], ...]:
    ordered = sorted(points)
    return tuple(zip(ordered[0:-1:2], ordered[1::2], strict=False))


def with_some_hours(
    week: tuple[tuple[tuple[int, int], ...], ...],
) -> tuple[tuple[tuple[int, int], ...], ...]:
    return week if any(week) else (((540, 1020),), *week[1:])


WALL_MINUTES = st.one_of(st.integers(0, 1440), st.sampled_from(INTERESTING_WALL_MINUTES))
DAY_OF_HOURS = st.lists(WALL_MINUTES, max_size=6, unique=True).map(pair_up)
WEEK_OF_HOURS = st.tuples(*[DAY_OF_HOURS] * 7).map(with_some_hours)
# Openings and closings all in the small hours, so that they land in the clock changes.
SMALL_HOURS_DAY = st.lists(st.integers(0, 200), max_size=6, unique=True).map(pair_up)
SMALL_HOURS_WEEK = st.tuples(*[SMALL_HOURS_DAY] * 7).map(with_some_hours)
NATIONS = st.sampled_from([None, *NATION_SUBDIVISIONS])
CLOSURE_OFFSETS = st.lists(st.integers(-1, 6), max_size=3)
STRAY_SECONDS = st.sampled_from([0, 0, 1, 59, 0.999999, 59.999999])
SHOWN_IN = st.sampled_from(["calendar zone", UTC, timezone(timedelta(hours=-5))])


@composite
def scenarios(draw: DrawFn) -> tuple[WorkingCalendar | ContinuousCalendar, int, datetime]:
    """A random calendar and an aware start (with stray seconds) in 2015-2030."""
    zone_name = draw(st.sampled_from(ZONES))
    near_a_clock_change = draw(st.booleans())
    if near_a_clock_change:
        change = draw(st.sampled_from(clock_changes(zone_name)))
        start_minute = change + draw(st.integers(-3 * 1440, 2 * 1440))
    else:
        start_minute = draw(st.integers(FIRST_MINUTE, LAST_MINUTE))
    shown_in = draw(SHOWN_IN)
    shown_in = ZoneInfo(zone_name) if shown_in == "calendar zone" else shown_in
    # Seconds go on in UTC: adding a timedelta to a zoned datetime resets fold to 0, which
    # would move a start in the repeated autumn hour back by an hour.
    start = minute_to_datetime(start_minute) + timedelta(seconds=draw(STRAY_SECONDS))
    start = start.astimezone(shown_in)
    if draw(st.integers(0, 9)) == 0:
        return WorkingCalendar.continuous(tz=zone_name), start_minute, start
    start_day = minute_to_datetime(start_minute).date()
    calendar = WorkingCalendar(
        tz=zone_name,
        week=draw(
            SMALL_HOURS_WEEK if near_a_clock_change and draw(st.booleans()) else WEEK_OF_HOURS
        ),
        nation=draw(NATIONS),
        closures=frozenset(start_day + timedelta(days=days) for days in draw(CLOSURE_OFFSETS)),
    )
    return calendar, start_minute, start


PROPERTY_SETTINGS = settings(
    max_examples=2000,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    window=st.integers(1, SLOW_WINDOW),
    end_choice=st.integers(0, 10**6),
    end_seconds=STRAY_SECONDS,
    wanted=st.integers(0, 10**6),
)
def test_it_agrees_with_a_slow_minute_by_minute_reference(
    scenario: tuple[WorkingCalendar | ContinuousCalendar, int, datetime],
    window: int,
    end_choice: int,
    end_seconds: float,
    wanted: int,
) -> None:
    calendar, start_minute, start = scenario
    reference = SlowReference(calendar)
    working = reference.working(start_minute, window)
    end_offset = end_choice % (window + 61) - 60
    end = minute_to_datetime(start_minute + end_offset) + timedelta(seconds=end_seconds)
    minutes = wanted % (sum(working) + 1)
    minutes_seen = list(accumulate(working))
    finish_minute = start_minute + minutes_seen.index(minutes) + 1 if minutes else start_minute

    assert working_minutes_between(calendar, start, end) == sum(working[: max(end_offset, 0)])
    finish = add_working_minutes(calendar, start, minutes)
    # Instants, not ==: Python calls an aware datetime in the repeated hour unequal to any
    # datetime in another zone (PEP 495), even when both name the same instant.
    assert finish.timestamp() == finish_minute * 60
    assert finish.tzinfo is calendar.tz


@PROPERTY_SETTINGS
@given(scenario=scenarios(), wanted=st.integers(0, 20_000))
def test_it_inverts_adding_minutes_by_counting_them(
    scenario: tuple[WorkingCalendar | ContinuousCalendar, int, datetime], wanted: int
) -> None:
    calendar, _, start = scenario
    if isinstance(calendar, ContinuousCalendar):
        minutes = wanted
    else:
        weekly = sum(closing - opening for day in calendar.week for opening, closing in day)
        minutes = wanted % (8 * weekly + 1)

    finish = add_working_minutes(calendar, start, minutes)

    assert working_minutes_between(calendar, start, finish) == minutes
    if minutes > 0:
        # In UTC because arithmetic on a zoned datetime moves the wall clock, not the instant.
        one_minute_earlier = finish.astimezone(UTC) - timedelta(minutes=1)
        assert working_minutes_between(calendar, start, one_minute_earlier) == minutes - 1


@PROPERTY_SETTINGS
@given(scenario=scenarios(), wanted=st.integers(0, 20_000))
def test_it_subtracts_minutes_as_the_earliest_start_that_counts_them(
    scenario: tuple[WorkingCalendar | ContinuousCalendar, int, datetime], wanted: int
) -> None:
    calendar, _, end = scenario
    if isinstance(calendar, ContinuousCalendar):
        minutes = wanted
    else:
        weekly = sum(closing - opening for day in calendar.week for opening, closing in day)
        minutes = wanted % (8 * weekly + 1)

    start = subtract_working_minutes(calendar, end, minutes)

    assert working_minutes_between(calendar, start, end) == minutes
    # In UTC because arithmetic on a zoned datetime moves the wall clock, not the instant.
    one_minute_earlier = start.astimezone(UTC) - timedelta(minutes=1)
    assert working_minutes_between(calendar, one_minute_earlier, end) == minutes + 1
    assert start.tzinfo is calendar.tz


# --- a time typed on the wall clock ------------------------------------------------------------
# 2026-03-29: 01:00 GMT becomes 02:00 BST (01:00-01:59 never happens).
# 2026-10-25: 02:00 BST becomes 01:00 GMT (01:00-01:59 happens twice, first in BST).


@pytest.mark.parametrize(
    ("typed", "now", "expected"),
    [
        pytest.param("2026-12-02T10:30", "2026-12-02T11:00Z", "2026-12-02T10:30Z", id="winter"),
        pytest.param("2026-07-01T10:30", "2026-07-01T11:00Z", "2026-07-01T09:30Z", id="summer"),
        pytest.param("2026-10-25T00:59", "2026-10-25T03:00Z", "2026-10-24T23:59Z", id="before"),
        pytest.param("2026-10-25T02:00", "2026-10-25T03:00Z", "2026-10-25T02:00Z", id="after"),
        pytest.param(
            "2026-10-25T01:30", "2026-10-25T01:40Z", "2026-10-25T01:30Z", id="twice_past_both"
        ),
        pytest.param(
            "2026-10-25T01:30", "2026-10-25T01:30Z", "2026-10-25T01:30Z", id="twice_at_second"
        ),
        pytest.param(
            "2026-10-25T01:30", "2026-10-25T01:29Z", "2026-10-25T00:30Z", id="twice_second_to_come"
        ),
        pytest.param(
            "2026-10-25T01:30", "2026-10-25T00:40Z", "2026-10-25T00:30Z", id="twice_in_bst_hour"
        ),
        pytest.param(
            "2026-10-25T01:00", "2026-10-26T09:00Z", "2026-10-25T01:00Z", id="twice_days_later"
        ),
        pytest.param("2026-03-29T00:59", "2026-03-29T03:00Z", "2026-03-29T00:59Z", id="gap_edge"),
        pytest.param("2026-03-29T02:00", "2026-03-29T03:00Z", "2026-03-29T01:00Z", id="gap_end"),
    ],
)
def test_a_wall_time_is_the_instant_a_person_means(typed: str, now: str, expected: str) -> None:
    found = wall_time_in(LONDON, datetime.fromisoformat(typed), now=datetime.fromisoformat(now))

    assert found.astimezone(UTC) == datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("2026-03-29T01:00", "02:00"), ("2026-03-29T01:30", "02:30"), ("2026-03-29T01:59", "02:59")],
)
def test_a_wall_time_the_clocks_skipped_names_the_time_they_showed(typed: str, shown: str) -> None:
    with pytest.raises(SkippedWallTime) as skipped:
        wall_time_in(LONDON, datetime.fromisoformat(typed), now=datetime(2026, 4, 1, tzinfo=UTC))

    assert f"{skipped.value.suggestion:%H:%M}" == shown


def test_a_wall_time_with_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        wall_time_in(LONDON, datetime(2026, 12, 2, 10, 30, tzinfo=UTC), now=datetime.now(UTC))
