"""Pure SLA arithmetic for an enquiry (docs/domain.md §4), kept apart from Django so it is easy
to test.

The caller picks the calendar that matches the rating: a working calendar for ratings whose
clock stops outside office hours, a continuous one for ratings whose clock never stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from enquiries.worktime import Calendar, add_working_minutes, working_minutes_between


class SlaStatus(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    DECIDED_ON_TIME = "decided_on_time"
    DECIDED_LATE = "decided_late"


@dataclass(frozen=True)
class Sla:
    """Where an enquiry stands against its allowance; ``remaining`` is negative once overdue."""

    deadline: datetime
    allowance: int
    elapsed: int
    remaining: int
    status: SlaStatus


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got naive {moment.isoformat()}")


def sla_for(
    *,
    calendar: Calendar,
    allowance_minutes: int,
    received_at: datetime,
    now: datetime,
    decided_at: datetime | None = None,
    at_risk_percent: int = 75,
) -> Sla:
    """Rate an enquiry's SLA at ``now``, or as it was settled by its decision.

    A decision ending exactly as the last allowed minute ends is on time; a minute later is
    late. An open enquiry is at risk from ``at_risk_percent`` of its allowance (compared in
    whole integers, so 75% of 240 is exactly minute 180) and breached once past it. A ``now``
    before ``received_at`` simply means no time has elapsed yet.
    """
    if isinstance(allowance_minutes, bool) or not isinstance(allowance_minutes, int):
        raise ValueError(f"allowance_minutes must be a positive integer, got {allowance_minutes!r}")
    if allowance_minutes <= 0:
        raise ValueError(f"allowance_minutes must be a positive integer, got {allowance_minutes!r}")
    if (
        isinstance(at_risk_percent, bool)
        or not isinstance(at_risk_percent, int)
        or not 1 <= at_risk_percent <= 100
    ):
        raise ValueError(
            f"at_risk_percent must be an integer from 1 to 100, got {at_risk_percent!r}"
        )
    _require_aware(received_at, "received_at")
    _require_aware(now, "now")
    if decided_at is not None:
        _require_aware(decided_at, "decided_at")
        if decided_at < received_at:
            raise ValueError(
                f"decided_at {decided_at.isoformat()} is before received_at "
                f"{received_at.isoformat()}"
            )

    deadline = add_working_minutes(calendar, received_at, allowance_minutes)
    settled_at = decided_at if decided_at is not None else now
    elapsed = working_minutes_between(calendar, received_at, settled_at)
    remaining = allowance_minutes - elapsed
    if decided_at is not None:
        status = SlaStatus.DECIDED_ON_TIME if remaining >= 0 else SlaStatus.DECIDED_LATE
    elif remaining < 0:
        status = SlaStatus.BREACHED
    elif elapsed * 100 >= allowance_minutes * at_risk_percent:
        status = SlaStatus.AT_RISK
    else:
        status = SlaStatus.ON_TIME
    return Sla(
        deadline=deadline,
        allowance=allowance_minutes,
        elapsed=elapsed,
        remaining=remaining,
        status=status,
    )
