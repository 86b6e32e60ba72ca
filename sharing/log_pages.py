"""A page of either log for the auditor, newest first, read from a place in the log.

The access log holds some ten million entries after two years. Counting every entry a filter
matches, and skipping a thousand to reach page 21, each read the entries one by one; a page
here starts at the place in the log where the page before it ended (the "Next" link carries
the time and id of its last entry), so a deep page costs what the first does, and entries
are counted only up to `COUNTED_UP_TO`. The place also bounds the time, so PostgreSQL reads
only the months (the access log's partitions) at or before it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

PAGE_SIZE = 50
COUNTED_UP_TO = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LogPlace:
    """An entry's place in the log's order: its time, then its id."""

    at: datetime
    id: int

    @property
    def token(self) -> str:
        """As a link carries it: microseconds since 1970, then the id."""
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}~{self.id}"

    @classmethod
    def read(cls, token: str | None) -> "LogPlace | None":
        """The place a link's token names; None for anything that is not one."""
        try:
            microseconds, pk = (token or "").split("~")
            return cls(EPOCH + timedelta(microseconds=int(microseconds)), int(pk))
        except (ValueError, OverflowError):
            return None

    def older(self, when: str) -> Q:
        """Entries after this place, newest first; the redundant bound on the time lets
        PostgreSQL start at the place (and leave out later months)."""
        return Q(**{f"{when}__lte": self.at}) & (
            Q(**{f"{when}__lt": self.at}) | Q(**{when: self.at, "pk__lt": self.id})
        )

    def newer(self, when: str) -> Q:
        return Q(**{f"{when}__gte": self.at}) & (
            Q(**{f"{when}__gt": self.at}) | Q(**{when: self.at, "pk__gt": self.id})
        )


@dataclass(frozen=True)
class LogPage:
    """A page of a log: its entries, which page it is, how many entries the filters match
    (counted up to `COUNTED_UP_TO`, and one more to know there are more), and the query
    strings of its "Previous" and "Next" links ("" for none)."""

    object_list: list[Any]
    number: int
    count: int
    previous: str = ""
    next: str = ""

    @property
    def counted_all(self) -> bool:
        return self.count <= COUNTED_UP_TO

    @property
    def counted_up_to(self) -> str:
        return f"{COUNTED_UP_TO:,}"

    @property
    def num_pages(self) -> int | None:
        """None when there are more entries than were counted."""
        return max(1, -(-self.count // PAGE_SIZE)) if self.counted_all else None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous or self.next)


def _page_number(number: str | int | None) -> int:
    try:
        return max(int(number or 1), 1)
    except (TypeError, ValueError):
        return 1


def log_page(
    entries: QuerySet,
    *,
    when: str,
    number: str | int | None,
    after: str | None = None,
    before: str | None = None,
) -> LogPage:
    """A page of `entries` (a log newest first, by `when` then id), in two queries: the count
    up to `COUNTED_UP_TO` and the page. `before` (a `LogPlace.token` from a "Next" link) reads
    the entries older than that place; `after` (from "Previous") those newer; `number` then only
    says which page it is. A `number` alone counts that many pages from the newest."""
    count = entries[: COUNTED_UP_TO + 1].count()
    number = _page_number(number)
    older_than = LogPlace.read(before)
    newer_than = None if older_than else LogPlace.read(after)
    if older_than:
        wanted = list(entries.filter(older_than.older(when))[: PAGE_SIZE + 1])
        has_newer, has_older = True, len(wanted) > PAGE_SIZE
        wanted = wanted[:PAGE_SIZE]
    elif newer_than:
        oldest_first = entries.filter(newer_than.newer(when)).reverse()
        wanted = list(oldest_first[: PAGE_SIZE + 1])[::-1]
        has_newer, has_older = len(wanted) > PAGE_SIZE, True
        wanted = wanted[-PAGE_SIZE:]
    else:
        if (number - 1) * PAGE_SIZE >= count:
            number = max(1, -(-count // PAGE_SIZE))  # past the end, as Paginator.get_page
        start = (number - 1) * PAGE_SIZE
        wanted = list(entries[start : start + PAGE_SIZE + 1])
        has_newer, has_older = start > 0, len(wanted) > PAGE_SIZE
        wanted = wanted[:PAGE_SIZE]
    if not has_newer:
        number = 1
    elif number <= 1:
        number = 2
    previous = following = ""
    if has_newer and wanted:
        first = LogPlace(getattr(wanted[0], when), wanted[0].pk)
        previous = f"after={first.token}&page={number - 1}" if number > 2 else "page=1"
    if has_older and wanted:
        last = LogPlace(getattr(wanted[-1], when), wanted[-1].pk)
        following = f"before={last.token}&page={number + 1}"
    return LogPage(wanted, number, count, previous, following)
