"""SLA ratings from docs/domain.md §4, with exact minutes and the boundaries spelled out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError
from datetime import datetime

import pytest

from enquiries.sla import Sla, SlaStatus, sla_for
from enquiries.worktime import WorkingCalendar

WORKING = WorkingCalendar.standard()
CONTINUOUS = WorkingCalendar.continuous()
MONDAY_10 = datetime.fromisoformat("2026-06-08T10:00:00+01:00")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def one_working_day(now: str, decided_at: str | None = None) -> Sla:
    """480 working minutes from Monday 8 June 2026 10:00 BST: due Tuesday 10:00."""
    return sla_for(
        calendar=WORKING,
        allowance_minutes=480,
        received_at=MONDAY_10,
        now=at(now),
        decided_at=at(decided_at) if decided_at else None,
    )


def test_it_is_on_time_early_in_the_allowance() -> None:
    assert one_working_day(now="2026-06-08T12:00:00+01:00") == Sla(
        deadline=at("2026-06-09T10:00:00+01:00"),
        allowance=480,
        elapsed=120,
        remaining=360,
        status=SlaStatus.ON_TIME,
    )


def test_it_is_still_on_time_one_minute_before_75_percent() -> None:
    sla = one_working_day(now="2026-06-08T15:59:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (359, 121, SlaStatus.ON_TIME)


def test_it_is_at_risk_at_exactly_75_percent() -> None:
    sla = one_working_day(now="2026-06-08T16:00:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (360, 120, SlaStatus.AT_RISK)


def test_it_does_not_count_the_evening_while_open() -> None:
    sla = one_working_day(now="2026-06-08T23:30:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (420, 60, SlaStatus.AT_RISK)


def test_it_is_at_risk_not_breached_at_the_deadline_itself() -> None:
    sla = one_working_day(now="2026-06-09T10:00:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (480, 0, SlaStatus.AT_RISK)


def test_it_is_breached_one_minute_after_the_deadline() -> None:
    sla = one_working_day(now="2026-06-09T10:01:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (481, -1, SlaStatus.BREACHED)


def test_it_counts_minutes_overdue_as_negative_remaining() -> None:
    sla = one_working_day(now="2026-06-10T10:00:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (960, -480, SlaStatus.BREACHED)


def test_it_is_decided_on_time_when_decided_exactly_at_the_deadline() -> None:
    sla = one_working_day(now="2026-06-20T12:00:00+01:00", decided_at="2026-06-09T10:00:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (480, 0, SlaStatus.DECIDED_ON_TIME)


def test_it_is_decided_late_when_decided_one_minute_after_the_deadline() -> None:
    sla = one_working_day(now="2026-06-09T10:01:00+01:00", decided_at="2026-06-09T10:01:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (481, -1, SlaStatus.DECIDED_LATE)


def test_it_ignores_seconds_so_a_decision_in_the_deadline_minute_is_on_time() -> None:
    sla = one_working_day(now="2026-06-09T12:00:00+01:00", decided_at="2026-06-09T10:00:59+01:00")

    assert (sla.elapsed, sla.status) == (480, SlaStatus.DECIDED_ON_TIME)


def test_it_keeps_a_decision_on_time_when_the_clock_stopped_after_the_deadline() -> None:
    sla = sla_for(
        calendar=WORKING,
        allowance_minutes=420,
        received_at=MONDAY_10,
        now=at("2026-06-09T09:00:00+01:00"),
        decided_at=at("2026-06-08T17:30:00+01:00"),
    )

    assert sla.deadline == at("2026-06-08T17:00:00+01:00")
    assert (sla.elapsed, sla.remaining, sla.status) == (420, 0, SlaStatus.DECIDED_ON_TIME)


def test_it_runs_a_red_rating_round_the_clock_on_the_continuous_calendar() -> None:
    sla = sla_for(
        calendar=CONTINUOUS,
        allowance_minutes=240,
        received_at=at("2026-06-12T16:00:00+01:00"),
        now=at("2026-06-13T09:00:00+01:00"),
    )

    assert sla == Sla(
        deadline=at("2026-06-12T20:00:00+01:00"),
        allowance=240,
        elapsed=1020,
        remaining=-780,
        status=SlaStatus.BREACHED,
    )


def test_it_pauses_the_same_red_rating_overnight_on_the_working_calendar() -> None:
    sla = sla_for(
        calendar=WORKING,
        allowance_minutes=240,
        received_at=at("2026-06-12T16:00:00+01:00"),
        now=at("2026-06-13T09:00:00+01:00"),
    )

    assert sla == Sla(
        deadline=at("2026-06-15T12:00:00+01:00"),
        allowance=240,
        elapsed=60,
        remaining=180,
        status=SlaStatus.ON_TIME,
    )


def test_it_runs_a_red_rating_across_the_bst_start_in_real_minutes() -> None:
    sla = sla_for(
        calendar=CONTINUOUS,
        allowance_minutes=240,
        received_at=at("2026-03-28T23:00:00+00:00"),
        now=at("2026-03-29T03:00:00+01:00"),
    )

    assert sla.deadline.isoformat() == "2026-03-29T04:00:00+01:00"
    assert (sla.elapsed, sla.remaining, sla.status) == (180, 60, SlaStatus.AT_RISK)


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        pytest.param(5, SlaStatus.ON_TIME, id="five_of_seven_is_under_75_percent"),
        pytest.param(6, SlaStatus.AT_RISK, id="six_of_seven_is_over_75_percent"),
        pytest.param(7, SlaStatus.AT_RISK, id="seven_of_seven_is_the_last_allowed_minute"),
        pytest.param(8, SlaStatus.BREACHED, id="eight_of_seven_is_breached"),
    ],
)
def test_it_compares_the_at_risk_threshold_in_whole_numbers(
    elapsed: int, expected: SlaStatus
) -> None:
    received_at = at("2026-06-08T10:00:00+01:00")
    now = at(f"2026-06-08T10:{elapsed:02d}:00+01:00")

    sla = sla_for(calendar=CONTINUOUS, allowance_minutes=7, received_at=received_at, now=now)

    assert (sla.elapsed, sla.status) == (elapsed, expected)


@pytest.mark.parametrize(
    ("percent", "now", "expected"),
    [
        pytest.param(50, "2026-06-08T11:59:00+01:00", SlaStatus.ON_TIME, id="just_under_half"),
        pytest.param(50, "2026-06-08T12:00:00+01:00", SlaStatus.AT_RISK, id="exactly_half"),
        pytest.param(100, "2026-06-08T13:59:00+01:00", SlaStatus.ON_TIME, id="full_minus_one"),
        pytest.param(100, "2026-06-08T14:00:00+01:00", SlaStatus.AT_RISK, id="exactly_full"),
        pytest.param(1, "2026-06-08T10:02:00+01:00", SlaStatus.ON_TIME, id="two_minutes_under_1pc"),
        pytest.param(
            1, "2026-06-08T10:03:00+01:00", SlaStatus.AT_RISK, id="three_minutes_over_1pc"
        ),
    ],
)
def test_it_honours_a_custom_at_risk_percent(percent: int, now: str, expected: SlaStatus) -> None:
    sla = sla_for(
        calendar=CONTINUOUS,
        allowance_minutes=240,
        received_at=MONDAY_10,
        now=at(now),
        at_risk_percent=percent,
    )

    assert sla.status == expected


def test_it_counts_nothing_elapsed_when_now_is_before_receipt() -> None:
    sla = one_working_day(now="2026-06-08T09:00:00+01:00")

    assert (sla.elapsed, sla.remaining, sla.status) == (0, 480, SlaStatus.ON_TIME)


def test_it_stores_statuses_as_their_database_strings() -> None:
    assert [status.value for status in SlaStatus] == [
        "on_time",
        "at_risk",
        "breached",
        "decided_on_time",
        "decided_late",
    ]
    assert SlaStatus.AT_RISK == "at_risk"


def test_it_returns_a_frozen_result() -> None:
    sla = one_working_day(now="2026-06-08T12:00:00+01:00")

    with pytest.raises(FrozenInstanceError):
        sla.elapsed = 0  # type: ignore[misc]


def rate(**overrides: object) -> Callable[[], Sla]:
    arguments: dict[str, object] = {
        "calendar": WORKING,
        "allowance_minutes": 480,
        "received_at": MONDAY_10,
        "now": at("2026-06-08T12:00:00+01:00"),
    }
    arguments.update(overrides)
    return lambda: sla_for(**arguments)  # type: ignore[arg-type]


NAIVE = datetime(2026, 6, 8, 12)  # noqa: DTZ001 - deliberately naive


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(rate(allowance_minutes=0), "allowance_minutes must be a positive integer",
                     id="zero_allowance"),
        pytest.param(rate(allowance_minutes=-60), "allowance_minutes must be a positive integer",
                     id="negative_allowance"),
        pytest.param(rate(allowance_minutes=1.5), "allowance_minutes must be a positive integer",
                     id="fractional_allowance"),
        pytest.param(rate(allowance_minutes=True), "allowance_minutes must be a positive integer",
                     id="boolean_allowance"),
        pytest.param(rate(at_risk_percent=0), "at_risk_percent must be an integer from 1 to 100",
                     id="zero_percent"),
        pytest.param(rate(at_risk_percent=101), "at_risk_percent must be an integer from 1 to 100",
                     id="over_100_percent"),
        pytest.param(rate(decided_at=at("2026-06-08T09:59:00+01:00")),
                     "decided_at .* is before received_at", id="decided_before_received"),
        pytest.param(rate(received_at=NAIVE), "received_at must be time-zone aware",
                     id="naive_received_at"),
        pytest.param(rate(now=NAIVE), "now must be time-zone aware", id="naive_now"),
        pytest.param(rate(decided_at=NAIVE), "decided_at must be time-zone aware",
                     id="naive_decided_at"),
    ],
)  # fmt: skip
def test_it_rejects_bad_input_with_a_clear_message(call: Callable[[], Sla], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
