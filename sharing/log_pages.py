"""A page of either log for the auditor, newest first, read from a place in the log.

The access log holds some ten million entries after two years. Counting every entry a filter
matches, and skipping a thousand to reach page 21, each read the entries one by one; a page
here starts at the place in the log where the page before it ended (the "Next" link carries
the time and id of its last entry), so a deep page costs what the first does, and entries
are counted only up to `COUNTED_UP_TO`. The place also bounds the time, so PostgreSQL reads
only the months (the access log's partitions) at or before it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core import keyset

PAGE_SIZE = 50
COUNTED_UP_TO = 1_000


@dataclass(frozen=True)
class LogPlace:
    """An entry's place in the log's order: its time, then its id."""

    at: datetime
    id: int

    @property
    def token(self) -> str:
        """As a link carries it: microseconds since 1970, then the id."""
        return keyset.token(self.at, self.id)

    @classmethod
    def read(cls, token: str | None) -> "LogPlace | None":
        """The place a link's token names; None for anything that is not one."""
        values = keyset.read_token(token, keyset.moment, int)
        return None if values is None else cls(*values)

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


@dataclass(frozen=True, kw_only=True)
class LogPage(keyset.KeysetPage):
    """A page of a log: its entries besides what every page read by places has. The entries
    the filters match are counted up to `COUNTED_UP_TO`, and one more to know there are more;
    past that, the page does not know how many pages there are."""

    object_list: list[Any]

    @property
    def counted_all(self) -> bool:
        return self.count <= COUNTED_UP_TO

    @property
    def counted_up_to(self) -> str:
        return f"{COUNTED_UP_TO:,}"


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
    number = keyset.page_number(number)
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
        # Past the last page counted, the last one, as Paginator.get_page.
        number = keyset.page_number(number, last=keyset.page_count(count, PAGE_SIZE))
        start = (number - 1) * PAGE_SIZE
        wanted = list(entries[start : start + PAGE_SIZE + 1])
        has_newer, has_older = start > 0, len(wanted) > PAGE_SIZE
        wanted = wanted[:PAGE_SIZE]
    return LogPage.linked(
        number=number,
        rows=wanted,
        place=lambda entry: LogPlace(getattr(entry, when), entry.pk).token,
        has_previous=has_newer,
        has_next=has_older,
        back="after",
        forward="before",
        count=count,
        num_pages=keyset.page_count(count, PAGE_SIZE) if count <= COUNTED_UP_TO else None,
        object_list=wanted,
    )
