"""Reads about enquiries and the hub's clock, shaped for the pages that show them."""

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from math import ceil
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role, User
from core import keyset

from .clock import ClockInForce, clock_in_force
from .mail import feedback_email_annotations
from .models import (
    HUB_CLOCK_ID,
    ClosureDay,
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    HubClock,
    IntakeKey,
    Notification,
    OpenEnquiryName,
    Outcome,
    Person,
    Rag,
    ReferrerType,
)
from .referrals import referral_refusal
from .services import TRANSITIONS
from .sla import Sla, SlaStatus
from .visibility import only_visible
from .worktime import WorkingCalendar, add_working_minutes, working_minutes_between


def hub_clock_settings(*, today: date) -> HubClock:
    """The clock's configuration with its hours, allowances and coming closures (4 queries)."""
    return HubClock.objects.prefetch_related(
        "openinghours_set",
        "ragallowance_set",
        Prefetch(
            "closureday_set",
            queryset=ClosureDay.objects.filter(date__gte=today),
            to_attr="coming_closures",
        ),
    ).get(pk=HUB_CLOCK_ID)


@dataclass(frozen=True)
class QueueFilters:
    """What a list of enquiries is narrowed to; every field optional. The pages and the API
    read them from the query string through `enquiries.filters.EnquiryFilter`."""

    rating: str = ""
    state: str = ""
    assignee_id: int | None = None
    mine: bool = False
    at_risk: bool = False
    breached: bool = False
    escalated: bool = False
    # "yes": escalations a manager has acknowledged; "no": those nobody has yet.
    acknowledged: str = ""
    unassigned: bool = False
    search: str = ""


# The order of the `enquiry_open_queue` index, so a page is read from it and no sort is needed.
QUEUE_ORDER = (F("escalated_at").desc(nulls_last=True), "deadline", "id")


def open_enquiries() -> QuerySet[Enquiry]:
    """The triage queue before its filters: open enquiries, escalations first, then by least
    time left.

    Nothing is joined here: `queue_rows` reads a page's rows with their subject and assignee.
    """
    return Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).order_by(*QUEUE_ORDER)


def enquiry_queue(*, user: User, filters: QueueFilters, now: datetime) -> QuerySet[Enquiry]:
    """The triage queue narrowed to `filters`, in the database."""
    return narrowed(open_enquiries(), user=user, filters=filters, now=now, open_only=True)


def enquiry_list() -> QuerySet[Enquiry]:
    """Enquiries in every state, newest first, with what a list row shows (for the API)."""
    return Enquiry.objects.select_related(
        "family", "subject", "referrer_type", "assignee", "outcome", "escalation_acknowledged_by"
    ).order_by("-received_at", "-id")


# The answers of the `acknowledged` filter, for escalations.
ACKNOWLEDGED_YES, ACKNOWLEDGED_NO = "yes", "no"


def narrowed(
    queryset: QuerySet[Enquiry],
    *,
    user: User,
    filters: QueueFilters,
    now: datetime,
    open_only: bool = False,
) -> QuerySet[Enquiry]:
    """At risk is for open enquiries only; breached also takes in those decided late.
    `open_only`: the queryset holds open enquiries only (the queue), whose names a search
    then reads from `OpenEnquiryName`."""
    if filters.rating:
        queryset = queryset.filter(rating=filters.rating)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.assignee_id:
        queryset = queryset.filter(assignee_id=filters.assignee_id)
    if filters.mine:
        queryset = queryset.filter(assignee=user)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    if filters.escalated:
        queryset = queryset.filter(escalated_at__isnull=False)
    if filters.acknowledged in (ACKNOWLEDGED_YES, ACKNOWLEDGED_NO):
        queryset = queryset.filter(
            escalated_at__isnull=False,
            escalation_acknowledged_at__isnull=filters.acknowledged == ACKNOWLEDGED_NO,
        )
    if filters.breached:
        breached = Q(state__in=Enquiry.OPEN_STATES, breached_from__lte=now)
        # Open enquiries are never decided late: the queue's count then reads
        # `enquiry_open_by_breach` alone.
        queryset = queryset.filter(breached if open_only else breached | Q(decided_on_time=False))
    if filters.at_risk:
        queryset = queryset.filter(
            state__in=Enquiry.OPEN_STATES, at_risk_from__lte=now, breached_from__gt=now
        )
    if filters.search:
        queryset = queryset.filter(_searched(filters.search.strip(), open_only=open_only))
    return queryset


def _searched(term: str, *, open_only: bool) -> Q:
    """Enquiries with `term` as their reference, or anyone named in them (their subject
    included) whose full name holds it, whatever its case."""
    if open_only and connection.vendor == "postgresql":
        # The open enquiries' names have a trigram index of their own (`OpenEnquiryName`), and
        # their references one in capitals (migration 0026), so the search costs what the
        # open queue holds, not the register: looked up one by one, the open enquiries'
        # people took 134 ms at 1,000,000 (bench/queue.py). Each half a subquery hashed
        # once: beside an OR neither can become a join.
        names = OpenEnquiryName.objects.filter(search_name__contains=term.lower())
        references = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES, reference__iexact=term)
        return Q(pk__in=references.values("pk")) | Q(pk__in=names.values("enquiry_id"))
    # EXISTS rather than a join, which would need DISTINCT.
    named = EnquiryPerson.objects.filter(enquiry=OuterRef("pk"))
    if open_only:
        # SQLite (the demo's few hundred): the open enquiries' people one by one.
        name = Person.objects.filter(pk=OuterRef("person_id")).values("search_name")[:1]
        named = named.annotate(name=Subquery(name)).filter(name__contains=term.lower())
    else:
        # Any enquiry (the API's list): the few people of that name, by the trigram index.
        named = named.filter(person__search_name__contains=term.lower())
    return Q(reference__iexact=term) | Q(Exists(named))


def triage_staff() -> QuerySet[User]:
    """People who can be given enquiries, for the assignee filter."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.RESEARCHER, Role.MANAGER])
        .distinct()
        .order_by("first_name", "last_name")
    )


def triage_staff_choices() -> list[tuple[int, str]]:
    """`triage_staff()` as (id, name) for a select: one query and no model instances."""
    staff = triage_staff().values_list("pk", "first_name", "last_name", "username")
    return [(pk, user_name(first, last, username)) for pk, first, last, username in staff]


@dataclass(frozen=True)
class QueueRow:
    """One line of the triage queue, its text worked out here, once, rather than by model
    methods and template filters in every cell (bench/queue.py)."""

    reference: str
    url: str
    escalated: bool
    subject: str
    rating: str
    rating_label: str
    state_label: str
    assignee: str  # empty when nobody is assigned
    deadline: str
    time_left: str
    sla: Sla
    # An agency has answered and the reader has not yet read that notification.
    new_information: bool = False
    # "breached", "at_risk" or "": the tag beside the time left (`urgency`).
    urgency: str = ""
    # For the countdown script: its rating's clock never stops, and the minutes left at
    # which it turns at risk.
    continuous: bool = False
    at_risk_when_left: int = 0


def duration(minutes: int) -> str:
    """Whole minutes as the countdown words them: "45 min", "3 h 05 min"."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def time_left(sla: Sla) -> str:
    """The countdown in the rating's minutes (working or continuous), as pages show it.

    Once no minute is left the decision is due and the wording says overdue, never "0 min
    left": an enquiry due on Friday at 17:00 has no minute left all weekend. static/js/
    countdown.js words it the same way.
    """
    if sla.remaining > 0:
        return f"{duration(sla.remaining)} left"
    if sla.remaining == 0:
        return "Overdue"
    return f"Overdue by {duration(-sla.remaining)}"


def urgency(sla: Sla) -> str:
    """The tag beside the time left: "breached" as soon as the time left says overdue, so the
    two never disagree; "at_risk" from the hub's at-risk share of the allowance."""
    if sla.status not in (SlaStatus.ON_TIME, SlaStatus.AT_RISK, SlaStatus.BREACHED):
        return ""
    if sla.remaining <= 0:
        return "breached"
    return "at_risk" if sla.status == SlaStatus.AT_RISK else ""


def at_risk_when_left(clock: ClockInForce, rating: str) -> int:
    """The minutes left at which an enquiry with this rating turns at risk (`sla_for`)."""
    allowance = clock.allowances[rating].minutes
    return allowance - ceil(allowance * clock.at_risk_percent / 100)


# How far ahead the countdown script knows the hub's hours: past a Christmas closure.
COUNTDOWN_DAYS = 14
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class HubHours:
    """What static/js/countdown.js needs to recount time left each minute without asking the
    server: when the page was counted, and the hub's opening periods from then on, as
    UTC-epoch minutes "start-end start-end"."""

    counted_at: int  # milliseconds since the epoch
    open_periods: str
    known_until: int  # epoch minute: past it the script stops recounting
    zone: str
    # "Clock paused: the hub opens Monday 09:00" while the hub is closed, else "".
    paused: str


def _floor_minute(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // 60 * 60, UTC)


def opening_periods(
    hub: WorkingCalendar, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The hub's opening periods from `start` (the one it is in, if open) to `end`, cut at
    `end`: each the longest run of working minutes, found with the calendar's own counting."""
    minute = timedelta(minutes=1)
    periods: list[tuple[datetime, datetime]] = []
    cursor = _floor_minute(start)
    while cursor < end:
        opening = add_working_minutes(hub, cursor, 1) - minute
        if opening >= end:
            break
        longest = int((end - opening) / minute)
        if working_minutes_between(hub, opening, end) == longest:
            periods.append((opening, end))
            break
        # Open for `low` minutes from the opening, not for `high`.
        low, high = 1, longest
        while high - low > 1:
            middle = (low + high) // 2
            if working_minutes_between(hub, opening, opening + middle * minute) == middle:
                low = middle
            else:
                high = middle
        cursor = opening + low * minute
        periods.append((opening, cursor))
    return periods


def opens_wording(opening: datetime, *, now: datetime, zone: tzinfo) -> str:
    """When the hub opens, in its own zone: "today 09:00", "tomorrow 09:00", "Monday 09:00",
    or with the date from a week away ("Monday 4 January 09:00")."""
    local = opening.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    time = f"{local.hour:02d}:{local.minute:02d}"
    if days == 0:
        return f"today {time}"
    if days == 1:
        return f"tomorrow {time}"
    weekday = WEEKDAY_NAMES[local.weekday()]
    if days < 7:
        return f"{weekday} {time}"
    return f"{weekday} {local.day} {MONTH_NAMES[local.month - 1]} {time}"


# The last minute's opening periods and the clock they were worked out on: every page in
# that minute shows the same (`hub_hours`).
_periods_of_the_minute: tuple[ClockInForce, datetime, list[tuple[datetime, datetime]]] | None = None


def _opening_periods_from(clock: ClockInForce, start: datetime, horizon: datetime):
    """`opening_periods` from the minute `start` to `horizon`, worked out once a minute per
    clock rather than on every page (a few hundred calendar sums each: bench/queue.py)."""
    global _periods_of_the_minute
    known = _periods_of_the_minute
    if known is not None and known[0] is clock and known[1] == start:
        return known[2]
    periods = opening_periods(clock.calendar, start, horizon)
    _periods_of_the_minute = (clock, start, periods)
    return periods


def hub_hours(clock: ClockInForce, *, now: datetime) -> HubHours:
    """The hub's hours for the countdown, and whether its clock is paused now."""
    hub = clock.calendar
    start = _floor_minute(now)
    horizon = start + timedelta(days=COUNTDOWN_DAYS)
    periods = _opening_periods_from(clock, start, horizon)
    paused = ""
    if not periods or periods[0][0] > start:
        paused = (
            f"Clock paused: the hub opens {opens_wording(periods[0][0], now=now, zone=hub.tz)}"
            if periods
            else "Clock paused"
        )
    return HubHours(
        counted_at=int(now.timestamp() * 1000),
        open_periods=" ".join(
            f"{int(opening.timestamp()) // 60}-{int(closing.timestamp()) // 60}"
            for opening, closing in periods
        ),
        known_until=int(horizon.timestamp()) // 60,
        zone=str(hub.tz),
        paused=paused,
    )


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_and_time(moment: datetime, zone: tzinfo) -> str:
    """`moment` as the `date:"D j M H:i"` filter shows it in English ("Fri 27 Mar 17:00"),
    at a fraction of the filter's cost."""
    local = moment.astimezone(zone)
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def user_name(first_name: str, last_name: str, username: str) -> str:
    """What `str(user)` gives, from the columns alone."""
    return f"{first_name} {last_name}".strip() or username


QUEUE_COLUMNS = (
    "id",
    "reference",
    "received_at",
    "state",
    "rating",
    "deadline",
    "escalated_at",
    "subject__first_name",
    "subject__last_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
)
RATING_LABELS = dict(Rag.choices)
STATE_LABELS = dict(Enquiry.State.choices)


QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class QueuePlace:
    """An enquiry's place in the queue's order (`QUEUE_ORDER`): where a page ends, for its
    "Next" link, or starts, for its "Previous" one. A deep page is then read from the
    `enquiry_open_queue` index at that place, rather than counted out from the first
    (OFFSET), which grew with the queue (bench/queue.py)."""

    escalated_at: datetime | None
    deadline: datetime
    id: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "QueuePlace":
        return cls(row["escalated_at"], row["deadline"], row["id"])

    @property
    def token(self) -> str:
        """For a link: "escalated~deadline~id", the times in microseconds since the epoch."""
        return keyset.token(self.escalated_at, self.deadline, self.id)

    @classmethod
    def read(cls, token: str | None) -> "QueuePlace | None":
        """The place a link's token names; None for anything that is not one."""
        values = keyset.read_token(token, keyset.optional_moment, keyset.moment, int)
        return None if values is None else cls(*values)

    @property
    def sort_key(self) -> tuple:
        """In the queue's order, for places compared in Python."""
        escalated = self.escalated_at
        return (
            escalated is None,
            -keyset.microseconds(escalated) if escalated else 0,
            self.deadline,
            self.id,
        )

    def after(self) -> Q:
        """The enquiries after this place in the queue's order. The redundant bound on the
        deadline lets PostgreSQL start its index scan at the place."""
        later = Q(deadline__gt=self.deadline) | Q(deadline=self.deadline, pk__gt=self.id)
        if self.escalated_at is None:
            return Q(escalated_at__isnull=True, deadline__gte=self.deadline) & later
        return (
            Q(escalated_at__lt=self.escalated_at)
            | Q(escalated_at__isnull=True)
            | (Q(escalated_at=self.escalated_at, deadline__gte=self.deadline) & later)
        )

    def before(self) -> Q:
        """The enquiries before this place in the queue's order."""
        earlier = Q(deadline__lt=self.deadline) | Q(deadline=self.deadline, pk__lt=self.id)
        if self.escalated_at is None:
            return Q(escalated_at__isnull=False) | (
                Q(escalated_at__isnull=True, deadline__lte=self.deadline) & earlier
            )
        return Q(escalated_at__gt=self.escalated_at) | (
            Q(escalated_at=self.escalated_at, deadline__lte=self.deadline) & earlier
        )


# The queue's order backwards, to read the page before a place.
QUEUE_ORDER_BACKWARDS = (F("escalated_at").asc(nulls_first=True), "-deadline", "-id")


def queue_page(
    queue: QuerySet[Enquiry],
    *,
    searched: bool,
    now: datetime,
    number: str | int | None,
    after: str | None = None,
    before: str | None = None,
    reader: User | None = None,
    clock: ClockInForce | None = None,
) -> tuple[keyset.KeysetPage, list[QueueRow]]:
    """A page of the triage queue (`open_enquiries`, narrowed by its filters) and its rows,
    in the same three queries whatever the page and filters: the count (or the search's
    places), the clock's version and the page's rows.

    `after` or `before` is a `QueuePlace.token` from a "Next" or "Previous" link, and
    `number` then only says which page that is; a `number` alone (`?page=3`, as links were
    before) counts that many pages from the first.
    """
    size = QUEUE_PAGE_SIZE
    forward_from = QueuePlace.read(after)
    backward_from = None if forward_from else QueuePlace.read(before)
    wanted: QuerySet[Enquiry] | list[int]
    if searched:
        # The search is the costly part, and it matches open enquiries only: run it once for
        # their places rather than once to count them and again for the page.
        places = [
            QueuePlace(escalated_at, deadline, pk)
            for pk, escalated_at, deadline in queue.values_list("pk", "escalated_at", "deadline")
        ]
        count = len(places)
    else:
        count = queue.count()
    num_pages = keyset.page_count(count, size)
    number = keyset.page_number(number, last=num_pages)
    if searched:
        keys = [place.sort_key for place in places]
        if forward_from:
            start = bisect_right(keys, forward_from.sort_key)
        elif backward_from:
            start = max(bisect_left(keys, backward_from.sort_key) - size, 0)
        else:
            start = (number - 1) * size
        wanted = [place.id for place in places[start : start + size + 1]]
        has_previous = start > 0
    elif forward_from:
        wanted = queue.filter(forward_from.after())[: size + 1]
        has_previous = True
    elif backward_from:
        wanted = queue.filter(backward_from.before()).order_by(*QUEUE_ORDER_BACKWARDS)[: size + 1]
    else:
        wanted = queue[(number - 1) * size : number * size + 1]
        has_previous = number > 1
    values = _queue_values(wanted, reader=reader)
    if backward_from and not searched:
        # Read backwards from the place: one more than a page means more before it.
        has_previous = len(values) > size
        values = values[-size:]
        has_next = True
    else:
        has_next = len(values) > size
        values = values[:size]
    page = keyset.KeysetPage.linked(
        number=number,
        rows=values,
        place=lambda row: QueuePlace.of(row).token,
        has_previous=has_previous,
        has_next=has_next,
        back="before",
        forward="after",
        count=count,
        num_pages=num_pages,
    )
    return page, _rows_of(values, now=now, clock=clock)


def queue_rows(
    page: QuerySet[Enquiry] | list[int],
    *,
    now: datetime,
    reader: User | None = None,
    clock: ClockInForce | None = None,
) -> list[QueueRow]:
    """A page of `enquiry_queue` as its table shows it: one query, then arithmetic and
    formatting only. `page` is a slice of `enquiry_queue` or a list of ids."""
    return _rows_of(_queue_values(page, reader=reader), now=now, clock=clock)


def _queue_values(page: QuerySet[Enquiry] | list[int], *, reader: User | None) -> list[dict]:
    """The columns of a page of the queue, in its order.

    A deferred join: the page's ids come from the queue's index alone, then only those rows
    are read and joined to their subject and assignee (joining first made PostgreSQL join
    every open enquiry to sort them for a deep page). Plain values, not model instances,
    which cost more to build than the rest of the row.
    """
    # A queryset is a subquery here, which the stubs do not allow for.
    rows_wanted = Enquiry.objects.filter(pk__in=page)  # type: ignore[misc]
    columns: tuple[str, ...] = QUEUE_COLUMNS
    if reader is not None:
        # "New information" for `reader`: an agency's answer they have not read yet, in the
        # same query as the rest of the row.
        # The enquiry as a range of one, not an equality: PostgreSQL then looks each of the
        # page's enquiries up in `notification_unread_answer` rather than hashing every
        # unread answer the reader has, a cost that grew with the history.
        rows_wanted = rows_wanted.annotate(
            new_information=Exists(
                Notification.objects.filter(
                    recipient=reader,
                    enquiry_id__gte=OuterRef("pk"),
                    enquiry_id__lte=OuterRef("pk"),
                    kind=Notification.Kind.INFORMATION_ANSWERED,
                    read_at__isnull=True,
                )
            )
        )
        columns = (*columns, "new_information")
    return list(rows_wanted.order_by(*QUEUE_ORDER).values(*columns))


def _rows_of(
    enquiries: list[dict], *, now: datetime, clock: ClockInForce | None = None
) -> list[QueueRow]:
    clock = clock or clock_in_force()
    zone = timezone.get_current_timezone()
    # Links differ only by the reference, which needs no quoting: one reverse() a page.
    placeholder = "REFERENCE"
    url_start, url_end = reverse("enquiry-detail", args=[placeholder]).split(placeholder)
    rows = []
    for enquiry in enquiries:
        reference, rating = enquiry["reference"], enquiry["rating"]
        # The queue holds open enquiries only, so each is counted now, never as decided.
        sla = clock.sla(rating=rating, received_at=enquiry["received_at"], now=now)
        assignee = ""
        if enquiry["assignee__username"] is not None:
            assignee = user_name(
                enquiry["assignee__first_name"],
                enquiry["assignee__last_name"],
                enquiry["assignee__username"],
            )
        rows.append(
            QueueRow(
                reference=reference,
                url=f"{url_start}{reference}{url_end}",
                escalated=enquiry["escalated_at"] is not None,
                # As str(person); imported enquiries may have no subject.
                subject=Enquiry.NO_SUBJECT
                if enquiry["subject__first_name"] is None
                else f"{enquiry['subject__first_name']} {enquiry['subject__last_name']}",
                rating=rating,
                rating_label=RATING_LABELS[rating],
                state_label=STATE_LABELS[enquiry["state"]],
                assignee=assignee,
                deadline=day_and_time(enquiry["deadline"], zone),
                time_left=time_left(sla),
                sla=sla,
                new_information=bool(enquiry.get("new_information")),
                urgency=urgency(sla),
                continuous=clock.allowances[rating].continuous,
                at_risk_when_left=at_risk_when_left(clock, rating),
            )
        )
    return rows


def enquiry_sla(enquiry: Enquiry, *, clock: ClockInForce, now: datetime) -> Sla:
    """An open enquiry counted now on the clock in force; a decided one as its decision
    settled it, so a later change of policy does not rewrite whether it was on time."""
    if enquiry.decided_at is None or enquiry.elapsed_minutes is None:
        return clock.sla(rating=enquiry.rating, received_at=enquiry.received_at, now=now)
    return Sla(
        deadline=enquiry.deadline,
        allowance=enquiry.allowance_minutes,
        elapsed=enquiry.elapsed_minutes,
        remaining=enquiry.allowance_minutes - enquiry.elapsed_minutes,
        status=SlaStatus.DECIDED_ON_TIME if enquiry.decided_on_time else SlaStatus.DECIDED_LATE,
    )


def referrer_types() -> QuerySet[ReferrerType]:
    """Every referrer type, retired ones too: old enquiries still name them."""
    return ReferrerType.objects.order_by("name")


def outcomes() -> QuerySet[Outcome]:
    """Every outcome, retired ones too: old decisions still name them."""
    return Outcome.objects.order_by("name")


def person_register() -> QuerySet[Person]:
    """Everyone in the hub's person register, to name an existing person at intake or after:
    a record merged into another is named by its survivor (docs/domain.md section 4.7)."""
    return Person.objects.filter(merged_into__isnull=True)


# pg_trgm's default threshold: names sharing fewer trigrams are not worth a look.
SIMILAR_NAME = 0.3
# Alike enough to show with nothing else in common ("Katie O'Neill" and "Katie Oneill").
VERY_SIMILAR_NAME = 0.6


@dataclass(frozen=True)
class PersonMatch:
    """Someone already in the register who may be the person being added, and why."""

    person: Person
    similarity: float
    reasons: tuple[str, ...]


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity()` in Python, so SQLite finds what PostgreSQL finds."""

    def trigrams(text: str) -> set[str]:
        grams: set[str] = set()
        for word in re.findall(r"[^\W_]+", text.lower()):
            padded = f"  {word} "
            grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
        return grams

    left, right = trigrams(a), trigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def years_before(today: date, years: int) -> date:
    """The same day `years` years earlier (29 February gives the 28th)."""
    year = today.year - years
    return today.replace(year=year, day=min(today.day, calendar.monthrange(year, today.month)[1]))


# An age and a date of birth agree if the age is within a year of the date's, two ages within
# two years (both are guesses); more than five years apart, they are two people.
AGE_FITS_DATE = 1
AGE_FITS_AGE = 2
AGE_CONFLICTS = 5


def _birth(
    person: Person, *, date_of_birth: date | None, approximate_age: int | None, today: date
) -> tuple[bool, bool, str]:
    """Whether what was typed about someone's birth agrees or conflicts with `person`'s, and
    the reason to show when it agrees. A typed date of birth wins over a typed age."""
    if date_of_birth and person.date_of_birth:
        same = person.date_of_birth == date_of_birth
        return same, not same, "Same date of birth"
    if date_of_birth and person.approximate_age is not None:
        apart = abs(_age_on(date_of_birth, today) - person.approximate_age)
        return (
            apart <= AGE_FITS_DATE,
            apart > AGE_CONFLICTS,
            f"Approximate age {person.approximate_age} fits",
        )
    if approximate_age is not None and person.date_of_birth:
        apart = abs(_age_on(person.date_of_birth, today) - approximate_age)
        return (
            apart <= AGE_FITS_DATE,
            apart > AGE_CONFLICTS,
            f"Date of birth fits approximate age {approximate_age}",
        )
    if approximate_age is not None and person.approximate_age is not None:
        apart = abs(person.approximate_age - approximate_age)
        return (
            apart <= AGE_FITS_AGE,
            apart > AGE_CONFLICTS,
            f"Approximate age {person.approximate_age} fits",
        )
    return False, False, ""


def _match(
    person: Person,
    *,
    full_name: str,
    similarity: float,
    date_of_birth: date | None,
    nhs_number: str,
    today: date,
    approximate_age: int | None = None,
) -> PersonMatch | None:
    """The reasons `person` may be the one described, or None if they are too weak."""
    reasons = []
    same_nhs_number = bool(nhs_number) and person.nhs_number == nhs_number
    if same_nhs_number:
        reasons.append("Same NHS number")
    if person.search_name == full_name:
        similarity = 1.0
        reasons.append("Same name")
    elif similarity >= SIMILAR_NAME:
        reasons.append(f"Similar name ({similarity:.0%} alike)")
    birth_agrees, birth_conflicts, reason = _birth(
        person, date_of_birth=date_of_birth, approximate_age=approximate_age, today=today
    )
    if birth_agrees:
        reasons.append(reason)
    alike = similarity >= VERY_SIMILAR_NAME or (similarity >= SIMILAR_NAME and birth_agrees)
    if same_nhs_number or (alike and not birth_conflicts):
        return PersonMatch(person, similarity, tuple(reasons))
    return None


def intake_key_used(*, user: User, key: str) -> bool:
    """Whether `user` already logged an intake sent with `key`: a repeat of it (a double
    click, a retry) skips the register check, whose matches would be the people the first
    one added, and goes to the service, which answers with what the first one logged."""
    return bool(key) and IntakeKey.objects.filter(created_by=user, key=key).exists()


def person_matches(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None = None,
    nhs_number: str = "",
    approximate_age: int | None = None,
    today: date,
    limit: int = 5,
) -> list[PersonMatch]:
    """People in the register who may be the person about to be added, best first.

    A shared NHS number always counts; otherwise the name must be very alike, or alike with a
    date of birth or approximate age that agrees, and a different date of birth, or an age
    more than five years off, rules a person out. People merged into someone else are not
    candidates: their survivor is. On PostgreSQL names are compared by trigrams on the indexed
    `search_name`, so "Jon Smyth" finds "John Smith" among millions; SQLite, which has no
    trigrams, narrows by initials, surname, NHS number or date of birth and applies the same
    trigram measure.
    """
    full_name = " ".join(f"{first_name} {last_name}".lower().split())
    nhs_number = nhs_number.strip()
    if not full_name and not nhs_number:
        return []
    by_identity = Q(nhs_number=nhs_number) if nhs_number else Q(pk__in=[])
    if connection.vendor == "postgresql":
        by_name = Q(search_name__trigram_similar=full_name)
        if date_of_birth:
            by_name &= (
                Q(date_of_birth=date_of_birth)
                | Q(date_of_birth__isnull=True)
                | Q(similarity__gte=VERY_SIMILAR_NAME)
            )
        elif approximate_age is not None:
            # Born in the years the age fits (a day either side: `_match` decides exactly).
            youngest = max(approximate_age - AGE_FITS_DATE, 0)
            oldest = approximate_age + AGE_FITS_DATE + 1
            by_name &= (
                Q(
                    date_of_birth__gte=years_before(today, oldest),
                    date_of_birth__lte=years_before(today, youngest),
                )
                | Q(
                    approximate_age__gte=approximate_age - AGE_FITS_AGE,
                    approximate_age__lte=approximate_age + AGE_FITS_AGE,
                )
                | Q(similarity__gte=VERY_SIMILAR_NAME)
            )
        else:
            by_name &= Q(similarity__gte=VERY_SIMILAR_NAME)
        candidates: QuerySet[Person] = (
            Person.objects.annotate(similarity=TrigramSimilarity("search_name", full_name))
            .filter(by_name | by_identity, merged_into__isnull=True)
            .order_by("-similarity", "pk")[: limit * 10]
        )
    else:
        first, last = first_name.strip(), last_name.strip()
        by_name = Q(last_name__iexact=last)
        if first and last:
            by_name |= Q(first_name__istartswith=first[0], last_name__istartswith=last[0])
        if date_of_birth:
            by_name |= Q(date_of_birth=date_of_birth)
        candidates = Person.objects.filter(
            by_name | by_identity, merged_into__isnull=True
        ).order_by("-pk")[: limit * 400]

    matches = []
    for person in candidates:
        similarity = getattr(person, "similarity", None)
        if similarity is None:
            similarity = trigram_similarity(full_name, person.search_name)
        match = _match(
            person,
            full_name=full_name,
            similarity=similarity,
            date_of_birth=date_of_birth,
            nhs_number=nhs_number,
            approximate_age=approximate_age,
            today=today,
        )
        if match:
            matches.append(match)
    matches.sort(key=lambda match: (-len(match.reasons), -match.similarity, match.person.pk))
    return matches[:limit]


def enquiry_for_page(*, reference: str, viewer: User, with_feedback_email: bool = False) -> Enquiry:
    """One enquiry with everything its page shows, in a fixed number of queries, if `viewer`
    may see it (else DoesNotExist, as fast as for a reference nobody has). Its family holds
    only the enquiries `viewer` may see.

    Its feedback email is read with it only `with_feedback_email` (the API's, which reads
    nothing else); for the page, `mail.feedback_emails` reads it in a query of its own, which
    costs less than building the seven subqueries of its annotations into this one
    (bench/queue.py, enquiry page).

    The four people it names (who logged, holds, decided and acknowledged it) come in one
    query of their own by primary key, not as four more joins: at 1,000,000 enquiries,
    PostgreSQL took 5 ms to plan the nine-table join (0.2 ms to run it), and takes 0.5 ms
    for the five tables left and 0.1 ms for the people."""
    family = only_visible(Enquiry.objects.select_related("subject"), viewer)
    enquiries = only_visible(Enquiry.objects.all(), viewer)
    if with_feedback_email:
        enquiries = enquiries.annotate(**feedback_email_annotations())
    enquiry = (
        enquiries.select_related("family", "subject", "referrer_type", "outcome")
        .prefetch_related(
            Prefetch(
                "involvements",
                queryset=EnquiryPerson.objects.select_related("person").order_by("role", "id"),
            ),
            Prefetch("events", queryset=EnquiryEvent.objects.select_related("actor")),
            Prefetch("family__enquiries", queryset=family.order_by("reference")),
        )
        .get(reference=reference)
    )
    _read_people_named(enquiry)
    return enquiry


def _read_people_named(enquiry: Enquiry) -> None:
    """Fill in the enquiry's links to staff from one query by primary key (who logged it is
    never empty, so the query always runs: the page's count is the same whoever holds it)."""
    links = ("created_by", "assignee", "decided_by", "escalation_acknowledged_by")
    people = User.objects.in_bulk({getattr(enquiry, f"{link}_id") for link in links} - {None})
    for link in links:
        setattr(enquiry, link, people.get(getattr(enquiry, f"{link}_id")))


RE_REFERRAL_MONTHS = 12


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier (29 February gives the 28th)."""
    local = timezone.localtime(moment)
    month_index = local.year * 12 + local.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def earlier_decisions_on_subject(enquiry: Enquiry, *, viewer: User) -> QuerySet[Enquiry]:
    """The subject's other enquiries decided in the 12 months before this one arrived: any
    makes this a re-referral (docs/domain.md section 7). An imported enquiry with no subject has
    none: its subject is unknown, not shared with the other imports. Only those `viewer` may
    see: to anyone else this is not a re-referral."""
    return (
        only_visible(Enquiry.objects.all(), viewer)
        .filter(
            # With no subject, a query that finds nothing, rather than none: the page runs
            # the same queries whatever the enquiry (tests/enquiries/test_pages.py).
            subject_id__isnull=False,
            subject_id=enquiry.subject_id,
            decided_at__gte=months_before(enquiry.received_at, RE_REFERRAL_MONTHS),
            decided_at__lt=enquiry.received_at,
        )
        .exclude(pk=enquiry.pk)
    )


@dataclass(frozen=True)
class RelatedEnquiry:
    """Another enquiry about someone in this one, and who they were in it."""

    enquiry: Enquiry
    people: tuple[str, ...]


def enquiries_about_the_same_people(
    enquiry: Enquiry, *, viewer: User, limit: int = 20
) -> list[RelatedEnquiry]:
    """Every other enquiry (outside this family) naming anyone named here, newest first, of
    those `viewer` may see.

    One query whatever the enquiry: the people named in those enquiries who are named here,
    with their enquiry, for the newest `limit` such enquiries (a subquery). A list of ids,
    or a prefetch, would cost no query when there were none, and another when there were.

    The people named here are those already read with the enquiry (`enquiry_for_page`), as
    a list of ids rather than a subquery used twice: at 1,000,000 enquiries PostgreSQL
    planned the query in 2.5 ms with the subquery, 1 ms with the list. With nobody named,
    the subquery, so that the query still runs and finds nothing.
    """
    named_here = [link.person_id for link in enquiry.involvements.all()]
    people_here = Q(
        person_id__in=named_here
        or EnquiryPerson.objects.filter(enquiry=enquiry).values("person_id")
    )
    naming_them = EnquiryPerson.objects.filter(people_here, enquiry=OuterRef("pk"))
    others = (
        only_visible(Enquiry.objects.all(), viewer)
        .filter(Exists(naming_them))
        .exclude(family_id=enquiry.family_id)
        .order_by("-received_at", "-id")
        .values("pk")[:limit]
    )
    shared = (
        EnquiryPerson.objects.filter(people_here, enquiry_id__in=others)
        .select_related("person", "enquiry__subject", "enquiry__outcome")
        .order_by("-enquiry__received_at", "-enquiry_id", "id")
    )
    related: dict[int, tuple[Enquiry, list[str]]] = {}
    for link in shared:
        _, people = related.setdefault(link.enquiry_id, (link.enquiry, []))
        people.append(f"{link.person} ({link.get_role_display().lower()})")
    return [RelatedEnquiry(other, tuple(people)) for other, people in related.values()]


@dataclass(frozen=True)
class Action:
    """Something the signed-in person may do to an enquiry now."""

    name: str
    label: str
    url_name: str
    warning: bool = False


def actions_for(user: User, enquiry: Enquiry) -> list[Action]:
    """The actions the services would allow this person on this enquiry, for its page."""
    if not user.has_role(Role.RESEARCHER, Role.MANAGER):
        return []
    actions = []
    if enquiry.is_open:
        actions.append(Action("rate", "Set RAG rating", "enquiry-rate"))
        if TRANSITIONS.get(enquiry.state):
            actions.append(Action("move", "Move to another stage", "enquiry-move"))
        actions.append(Action("assign", "Assign", "enquiry-assign"))
        if user.has_role(Role.MANAGER):
            actions.append(Action("decide", "Record decision", "enquiry-decide"))
        if enquiry.escalated_at is None:
            actions.append(Action("escalate", "Escalate now", "enquiry-escalate", warning=True))
        elif enquiry.escalation_acknowledged_at is None and user.has_role(Role.MANAGER):
            actions.insert(
                0,
                Action(
                    "acknowledge",
                    "Acknowledge escalation",
                    "enquiry-acknowledge-escalation",
                    warning=True,
                ),
            )
    elif enquiry.state == Enquiry.State.DECIDED:
        actions.append(Action("feedback", "Record feedback to the referrer", "enquiry-feedback"))
    if user.has_role(Role.MANAGER) and referral_refusal(enquiry) is None:
        actions.append(Action("refer", "Record an onward referral", "enquiry-refer"))
    return actions


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an enquiry's history, said in words; an amendment's `changes` are each
    (what, before, after)."""

    event: EnquiryEvent
    title: str
    changes: tuple[tuple[str, str, str], ...] = ()


# Amendments after intake name whom they were about in the title.
AMENDMENTS = (
    EnquiryEvent.Kind.PERSON_CORRECTED,
    EnquiryEvent.Kind.PERSON_ADDED,
    EnquiryEvent.Kind.PERSON_REMOVED,
    EnquiryEvent.Kind.CHILD_ADDED,
)


def timeline(enquiry: Enquiry) -> list[TimelineEntry]:
    """The enquiry's history, newest first, with ratings, stages and outcomes by name."""
    Kind = EnquiryEvent.Kind
    outcomes = dict(Outcome.objects.values_list("code", "name"))
    labels: dict[str, dict[str, str]] = {
        Kind.RATING: dict(Rag.choices),
        Kind.STATE: dict(Enquiry.State.choices),
    }
    entries = []
    for event in enquiry.events.all():
        title = event.get_kind_display()
        names = labels.get(event.kind)
        if event.kind == Kind.ASSIGNEE:
            title = f"Assigned to {event.to_value}" if event.to_value else "Unassigned"
        elif event.kind == Kind.DECISION:
            title = f"Decision: {outcomes.get(event.to_value, event.to_value)}"
        elif names and event.to_value:
            new = names.get(event.to_value, event.to_value)
            old = names.get(event.from_value, event.from_value)
            title = f"{title}: {new}" + (f" (was {old})" if old else "")
        elif event.kind == Kind.REFERRED_ON:
            title = f"Referred on to {event.to_value}"
        elif event.kind == Kind.REFERRAL_ANSWERED:
            answer = "accepted" if event.to_value == "accepted" else "returned"
            title = f"{event.from_value} {answer} the referral"
        elif event.kind in AMENDMENTS and (event.to_value or event.from_value):
            title = f"{title}: {event.to_value or event.from_value}"
        changes = tuple((what, before, after) for what, before, after in event.changes)
        entries.append(TimelineEntry(event, title, changes))
    return entries[::-1]
