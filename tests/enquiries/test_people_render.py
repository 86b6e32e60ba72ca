"""The person page writes its chronology's times and enquiry links without the `date` filter
or a `reverse()` a line: the same text as those, either side of a clock change."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from enquiries.people import day_date_and_time, links_by_reference


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # the last minute of GMT
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # the first of BST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 8, 5, tzinfo=UTC),
    ],
)
def test_a_chronology_time_reads_as_the_date_filter_writes_it(moment):
    zone = timezone.get_current_timezone()
    for step in range(0, 7 * 24, 13):
        at = moment + timedelta(hours=step)
        assert day_date_and_time(at, zone) == date_format(
            timezone.localtime(at, zone), "D j M Y, H:i"
        )


def test_an_enquiry_link_is_the_enquiry_s_address():
    before, after = links_by_reference()
    for reference in ("MASH-2026-000123", "MASH-2019-999999"):
        assert f"{before}{reference}{after}" == reverse("enquiry-detail", args=[reference])
