"""Beat's schedules through the nights the clocks change: every minute stays every minute."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from mash.celery import app


def runs(entry: str, start: datetime, hours: int) -> int:
    """How many times beat would send `entry` in `hours` from `start`, asked every second."""
    schedule = settings.CELERY_BEAT_SCHEDULE[entry]["schedule"]
    schedule.app = app
    last_run = start - timedelta(seconds=1)
    sent = 0
    moment = start
    while moment < start + timedelta(hours=hours):
        with time_machine.travel(moment, tick=False):
            due, _ = schedule.is_due(last_run)
            if due:
                sent += 1
                last_run = moment
        moment += timedelta(seconds=1)
    return sent


@pytest.mark.parametrize(
    "start",
    [
        # 01:00 GMT becomes 02:00 BST at 01:00 UTC
        datetime(2026, 3, 29, 0, 0, 5, tzinfo=UTC),
        # 02:00 BST becomes 01:00 GMT at 01:00 UTC: 01:00-02:00 comes twice
        datetime(2026, 10, 25, 0, 0, 5, tzinfo=UTC),
    ],
    ids=["clocks-forward", "clocks-back"],
)
def test_the_scan_repeats_and_catch_up_run_every_minute_and_the_chaser_every_five_across_a_change(
    start,
):
    assert runs("scan-sla", start, hours=2) == 120
    assert runs("repeat-escalations", start, hours=2) == 120
    assert runs("recompute-stale-deadlines", start, hours=2) == 120
    assert runs("watch-background", start, hours=2) == 120
    assert runs("chase-information-requests", start, hours=2) == 24
    assert runs("verify-access-log", start, hours=2) == 2
    assert runs("keep-decisions-by-day", start, hours=2) == 2


def test_the_access_log_months_are_made_once_a_night():
    assert runs("add-access-log-months", datetime(2026, 3, 29, 0, 0, 5, tzinfo=UTC), hours=4) == 1
