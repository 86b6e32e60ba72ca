"""Benchmark enquiries.worktime against the businesstimedelta package.

Run from the repository root: ``python bench/worktime.py [--pairs N]``. Both libraries get the
same Mon-Fri 09:00-17:00 Europe/London calendar with England-and-Wales bank holidays and the
same random pairs over 2015-2030; their answers are compared before anything is timed.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

import holidays  # noqa: E402 - after the path is set, like the project imports below

from bench.harness import SEED  # noqa: E402 - takes this folder, and its "queue.py", off the path
from enquiries.worktime import (  # noqa: E402
    WorkingCalendar,
    add_working_minutes,
    working_minutes_between,
)

LONDON = ZoneInfo("Europe/London")
FIRST_YEAR, LAST_YEAR = 2015, 2030
LONGEST_ALLOWANCE = 5 * 480
LONGEST_SPAN = 14 * 1440
PAIRS_COMPARED = 10_000


def random_pairs(
    count: int,
) -> tuple[list[tuple[datetime, int]], list[tuple[datetime, datetime]]]:
    """Whole-minute starts anywhere in 2015-2030, allowances up to a week, spans up to 14 days."""
    generator = random.Random(SEED)  # noqa: S311 - repeatable pairs, not secrets
    first = int(datetime(FIRST_YEAR, 1, 1, tzinfo=LONDON).timestamp()) // 60
    last = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=LONDON).timestamp()) // 60
    additions, spans = [], []
    for _ in range(count):
        start_minute = generator.randrange(first, last)
        start = datetime.fromtimestamp(start_minute * 60, LONDON)
        additions.append((start, generator.randint(1, LONGEST_ALLOWANCE)))
        end_minute = start_minute + generator.randint(0, LONGEST_SPAN)
        spans.append((start, datetime.fromtimestamp(end_minute * 60, LONDON)))
    return additions, spans


def ops_per_second(run: Callable[[], object], count: int) -> float:
    gc.collect()
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000, help="random pairs per function")
    pairs = parser.parse_args().pairs
    try:
        import businesstimedelta
        import pytz
    except ImportError:
        print("businesstimedelta is not installed: pip install businesstimedelta", file=sys.stderr)
        return 2

    calendar = WorkingCalendar.standard()
    bank_holidays = holidays.country_holidays(
        "GB", subdiv="ENG", years=range(FIRST_YEAR, LAST_YEAR + 3)
    )
    london = pytz.timezone("Europe/London")
    rule = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=wall_time(9),
                end_time=wall_time(17),
                working_days=[0, 1, 2, 3, 4],
                tz=london,
            ),
            # A plain set is the fastest holiday lookup businesstimedelta can be given.
            businesstimedelta.HolidayRule(set(bank_holidays), tz=london),
        ]
    )

    def theirs_add(start: datetime, minutes: int) -> datetime:
        return start + businesstimedelta.BusinessTimeDelta(
            rule, timedelta=timedelta(minutes=minutes)
        )

    def theirs_between(start: datetime, end: datetime) -> int:
        return int(rule.difference(start, end).timedelta.total_seconds()) // 60

    additions, spans = random_pairs(pairs)

    started = time.perf_counter()
    working_minutes_between(
        calendar,
        datetime(FIRST_YEAR, 1, 1, tzinfo=UTC),
        datetime(LAST_YEAR + 2, 1, 1, tzinfo=UTC),
    )
    warm_up = time.perf_counter() - started
    print(
        f"pairs: {pairs:,} per function, seed {SEED}, starts {FIRST_YEAR}-{LAST_YEAR}, "
        f"allowances 1-{LONGEST_ALLOWANCE} min, spans 0-{LONGEST_SPAN // 1440} days"
    )
    print(
        f"warm-up: mash built {LAST_YEAR + 2 - FIRST_YEAR} year tables in {warm_up * 1000:.1f} ms"
    )

    # Semantics agree on whole-minute starts and end >= start (our pairs are both); compare
    # instants, not datetimes, since the two libraries use different tzinfo classes.
    compared = min(pairs, PAIRS_COMPARED)
    add_mismatches = sum(
        add_working_minutes(calendar, start, minutes).timestamp()
        != theirs_add(start, minutes).timestamp()
        for start, minutes in additions[:compared]
    )
    between_mismatches = sum(
        working_minutes_between(calendar, start, end) != theirs_between(start, end)
        for start, end in spans[:compared]
    )
    print(f"agreement: add_working_minutes {compared:,} compared, {add_mismatches} mismatches")
    print(
        f"agreement: working_minutes_between {compared:,} compared, {between_mismatches} mismatches"
    )

    timings = {
        "add_working_minutes": (
            ops_per_second(
                lambda: [add_working_minutes(calendar, s, m) for s, m in additions], pairs
            ),
            ops_per_second(lambda: [theirs_add(s, m) for s, m in additions], pairs),
        ),
        "working_minutes_between": (
            ops_per_second(
                lambda: [working_minutes_between(calendar, s, e) for s, e in spans], pairs
            ),
            ops_per_second(lambda: [theirs_between(s, e) for s, e in spans], pairs),
        ),
    }
    for name, (ours, theirs) in timings.items():
        print(
            f"{name}: mash {ours:,.0f} ops/s, businesstimedelta {theirs:,.0f} ops/s, "
            f"ratio {ours / theirs:.1f}x"
        )
    return 1 if add_mismatches or between_mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
