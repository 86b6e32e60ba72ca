"""The instants the suite runs at, so no test depends on the hour CI happens to start.

Every test runs at a fixed instant (time-machine, ticking from there), `DEFAULT` unless
`MASH_TEST_INSTANT` names one of `HOSTILE` or gives an ISO time; the tests marked
`any_instant` also run at each instant of `HOSTILE`, the times a wall-clock test breaks:

- a Saturday night, when the hub is closed for the weekend;
- a weekday at 08:59, a minute before opening, and at 17:00, the minute it closes;
- a bank holiday (Christmas Day 2026, a Friday; Boxing Day's substitute is Monday the 28th);
- the two days the clocks change in 2026: 29 March, 01:00 GMT becomes 02:00 BST (3 a.m. on a
  Sunday, an hour after the change), and 25 October, 02:00 BST becomes 01:00 GMT (the second
  01:30 of that night, in GMT).

Child processes a test starts (Celery workers, the demo command) are started at the same
instant through `tests.at_instant`, which reads `OFFSET_VARIABLE`.
"""

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
OFFSET_VARIABLE = "MASH_TEST_CLOCK_OFFSET"
INSTANT_VARIABLE = "MASH_TEST_INSTANT"

DEFAULT = datetime(2026, 12, 2, 10, 30, tzinfo=LONDON)  # a Wednesday morning, the hub open
HOSTILE: dict[str, datetime] = {
    "saturday-night": datetime(2026, 11, 28, 23, 30, tzinfo=LONDON),
    "weekday-0859": datetime(2026, 12, 1, 8, 59, tzinfo=LONDON),
    "weekday-1700": datetime(2026, 12, 1, 17, 0, tzinfo=LONDON),
    "bank-holiday": datetime(2026, 12, 25, 11, 0, tzinfo=LONDON),
    "clocks-forward": datetime(2026, 3, 29, 3, 0, tzinfo=LONDON),
    "clocks-back": datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON),
}


def session_instant() -> datetime:
    """The instant every test starts at, in UTC (a ZoneInfo would make time-machine change the
    process's time zone too)."""
    wanted = os.environ.get(INSTANT_VARIABLE, "").strip()
    return parse(wanted) if wanted else DEFAULT.astimezone(UTC)


def parse(wanted: str) -> datetime:
    """One of `HOSTILE` by name, or an ISO date and time (hub time unless it says), in UTC."""
    if wanted in HOSTILE:
        return HOSTILE[wanted].astimezone(UTC)
    try:
        instant = datetime.fromisoformat(wanted)
    except ValueError:
        raise ValueError(
            f"{wanted!r} is neither one of {', '.join(HOSTILE)} nor an ISO date and time"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=LONDON)
    return instant.astimezone(UTC)
