"""core/keyset.py: the place a "Previous" or "Next" link carries, the page number an old
`?page=N` link asks for, and the page with its links. No database: the queue's and the logs'
pages are walked through in tests/enquiries/test_queue.py and
tests/sharing/test_pages_at_volume.py."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.keyset import (
    KeysetPage,
    microseconds,
    moment,
    optional_moment,
    page_count,
    page_number,
    read_token,
    token,
)

# The queue's place: escalated (or not), deadline, id; the logs': time, id.
QUEUE_FIELDS = (optional_moment, moment, int)
LOG_FIELDS = (moment, int)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_it_spells_a_place_as_microseconds_since_1970_and_ids() -> None:
    # As the queue's and the logs' links spelt them before this module, so those still work.
    assert token(at("2026-12-05T09:30:00+00:00"), 42) == "1796463000000000~42"
    assert token(None, at("2026-12-05T09:30:00.123456+00:00"), 7) == "~1796463000123456~7"
    assert token(at("1970-01-01T01:00:00+01:00"), 1) == "0~1"


@pytest.mark.parametrize(
    "place",
    [
        (None, at("2026-12-05T09:30:00.000001+00:00"), 1),
        (at("2026-03-29T00:59:59.999999+00:00"), at("2026-03-29T02:00:00+01:00"), 12_345_678),
        # Past 2106 a float timestamp loses the last microsecond; the token does not.
        (at("2107-01-26T14:41:11.827287+00:00"), at("2999-12-31T23:59:59.999999+00:00"), 3),
        (None, at("1969-12-31T23:59:59.999999+00:00"), 2),
    ],
)
def test_it_reads_back_the_place_it_wrote(place) -> None:
    assert read_token(token(*place), *QUEUE_FIELDS) == place


def test_it_reads_times_back_in_utc_as_the_same_instant() -> None:
    london_summer = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))

    (read, pk) = read_token(token(london_summer, 9), *LOG_FIELDS)

    assert read == london_summer and read.tzinfo == UTC and pk == 9
    assert microseconds(read) == microseconds(london_summer)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "nonsense",
        "~",
        "~~",  # the deadline is not optional
        "1~2",  # one value short
        "1~2~3~4",  # one too many
        "1~x~3",
        "1.5~2~3",
        "~9999999999999999999999~1",  # past the year 9999
        "~-99999999999999999~1",  # before the year 1
        "~1796463000000000~",
        "~1796463000000000~1e3",
        "%7E1796463000000000%7E1",  # still quoted
    ],
)
def test_a_token_that_is_not_a_place_reads_as_none(text) -> None:
    assert read_token(text, *QUEUE_FIELDS) is None


@pytest.mark.parametrize(
    ("asked", "last", "number"),
    [
        (None, None, 1),
        ("", None, 1),
        ("two", None, 1),
        ("2.5", None, 1),
        ("0", None, 1),
        ("-3", None, 1),
        ("3", None, 3),
        (3, None, 3),
        ("99", None, 99),  # no count to stop at (a log counted only in part)
        ("99", 4, 4),
        ("4", 4, 4),
        ("nonsense", 4, 1),
    ],
)
def test_it_reads_an_old_page_number_as_a_paginator_does(asked, last, number) -> None:
    assert page_number(asked, last=last) == number


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (130, 3)])
def test_an_empty_list_is_one_page(count, pages) -> None:
    assert page_count(count, 50) == pages


def linked(number: int, rows: list[int], *, has_previous: bool, has_next: bool) -> KeysetPage:
    """A page of a list of whole numbers whose place is the number itself."""
    return KeysetPage.linked(
        number=number,
        rows=rows,
        place=str,
        has_previous=has_previous,
        has_next=has_next,
        back="before",
        forward="after",
        count=130,
        num_pages=3,
    )


def test_a_page_links_from_its_first_and_last_rows() -> None:
    page = linked(2, [50, 51, 99], has_previous=True, has_next=True)

    assert (page.number, page.previous, page.next) == (2, "page=1", "after=99&page=3")
    assert linked(3, [100], has_previous=True, has_next=True).previous == "before=100&page=2"
    assert page.has_other_pages
    assert (page.count, page.num_pages) == (130, 3)


def test_the_first_page_has_only_next_and_the_last_only_previous() -> None:
    first = linked(1, [1, 2], has_previous=False, has_next=True)
    last = linked(3, [100, 130], has_previous=True, has_next=False)

    assert (first.previous, first.next) == ("", "after=2&page=2")
    assert (last.previous, last.next) == ("before=100&page=2", "")


def test_a_page_number_a_link_says_is_trusted_only_as_far_as_its_place() -> None:
    # An edited link: nothing before the place, yet page=5; something before it, yet page=1.
    assert linked(5, [1], has_previous=False, has_next=True).number == 1
    assert linked(1, [60], has_previous=True, has_next=True).number == 2


def test_a_page_with_no_rows_has_no_links() -> None:
    # The place a link named is past the end of the list now.
    page = linked(4, [], has_previous=True, has_next=False)

    assert (page.number, page.previous, page.next) == (4, "", "")
    assert not page.has_other_pages


def test_a_pages_links_keep_every_parameter_but_those_they_set():
    from django.http import QueryDict

    from core.keyset import query_without

    asked = QueryDict("q=smith&page=3&after=abc&awaiting=2&rating=red&rating=amber")

    assert query_without(asked, "page", "after", "before") == (
        "q=smith&awaiting=2&rating=red&rating=amber"
    )
    assert query_without(asked, "awaiting") == "q=smith&page=3&after=abc&rating=red&rating=amber"
    assert asked["page"] == "3"  # the request's own is left as it was
