"""Pages read from a place in a list (keyset pagination), not counted out from its first row.

Page N of a list read by OFFSET reads and throws away the N - 1 pages before it, so a deep
page of the triage queue or of ten million access-log entries cost more the longer the list.
A page read by keyset starts where the page before it ended: its "Next" link carries that
place (the values of the list's order columns in its last row, as a token) and its "Previous"
link the place where it starts, and the list's index is read from there. Each list says how
its order compares places (`enquiries.selectors.QueuePlace`, `sharing.log_pages.LogPlace`);
this module holds what they share: the token a link carries and reading it back, the number
an old `?page=N` link asks for, and the page with its links.

A token that is not one (garbled, cut short, edited by hand) reads as no place at all, so the
link shows the list's first page rather than an error. Tokens are not signed: a place only
says where to start reading a list its reader may page through anyway.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from django.http import QueryDict

SEPARATOR = "~"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)

Value = datetime | int | None


def microseconds(moment: datetime) -> int:
    """Whole microseconds since 1970, exactly (a float timestamp loses the last one after
    2106)."""
    return (moment - EPOCH) // ONE_MICROSECOND


def moment(text: str) -> datetime:
    """A time from `microseconds`."""
    return EPOCH + int(text) * ONE_MICROSECOND


def optional_moment(text: str) -> datetime | None:
    """A time from `microseconds`, or None from nothing."""
    return moment(text) if text else None


def token(*values: Value) -> str:
    """A place as a link carries it: its values in the list's order, joined by "~", a time as
    its `microseconds` and None as nothing (so "~1733400000000000~42")."""
    return SEPARATOR.join(
        "" if value is None else str(microseconds(value) if isinstance(value, datetime) else value)
        for value in values
    )


def read_token(text: str | None, *fields: Callable[[str], Value]) -> tuple[Any, ...] | None:
    """The values of a `token`, each read by its field's reader in turn (`moment`,
    `optional_moment`, `int`); None for anything that is not such a token: missing, with
    more or fewer values, or a value its reader refuses or that is out of range."""
    parts = (text or "").split(SEPARATOR)
    if len(parts) != len(fields):
        return None
    try:
        return tuple(read(part) for read, part in zip(fields, parts, strict=True))
    except (ValueError, OverflowError):
        return None


def page_number(asked: str | int | None, *, last: int | None = None) -> int:
    """The page a `?page=` asks for, read as `Paginator.get_page` reads it: the first for
    anything that is not a whole number or is below 1, and `last` (when it is known) for
    anything past it."""
    try:
        number = max(int(asked or 1), 1)
    except (TypeError, ValueError):
        return 1
    return number if last is None else min(number, last)


def page_count(count: int, size: int) -> int:
    """How many pages of `size` hold `count` rows; an empty list is one empty page."""
    return max(1, -(-count // size))


@dataclass(frozen=True, kw_only=True)
class KeysetPage:
    """A page of a list read by places: how many rows the list holds, which page this is and
    of how many (None when the list was not counted to its end), and the query strings of
    its "Previous" and "Next" links ("" for none)."""

    count: int
    number: int
    num_pages: int | None
    previous: str = ""
    next: str = ""

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous or self.next)

    @classmethod
    def linked(
        cls,
        *,
        number: int,
        rows: Sequence[Any],
        place: Callable[[Any], str],
        has_previous: bool,
        has_next: bool,
        back: str,
        forward: str,
        **page: Any,
    ) -> Self:
        """The page with its links, which start from the place (`place(row)`, a token) of its
        first row and of its last (a page with no rows has none); `back` and `forward` are the
        list's parameters that read the rows before a place and after it.

        A link's `page=` only says which page it leads to, so it is trusted no further than
        the place allows: a page with nothing before it is page 1, one with something before
        it at least page 2. "Previous" to page 1 is plain `page=1`, the list's own first page.
        """
        if not has_previous:
            number = 1
        elif number <= 1:
            number = 2
        previous = following = ""
        if has_previous and rows:
            previous = f"{back}={place(rows[0])}&page={number - 1}" if number > 2 else "page=1"
        if has_next and rows:
            following = f"{forward}={place(rows[-1])}&page={number + 1}"
        return cls(number=number, previous=previous, next=following, **page)


def query_without(query: "QueryDict", *names: str) -> str:
    """`query` (a request's GET) as its page's links carry it, without the parameters each
    link sets itself: a list's place ("page", "after", "before"), or another list's."""
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()
