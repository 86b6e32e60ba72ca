"""Reads for the sharing pages, always through the firewall."""

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from agencies.models import HUB_ROLES, Agency, User
from enquiries.models import Enquiry
from enquiries.selectors import day_and_time

from . import firewall
from .firewall import Action, ShownRecord
from .models import InformationRecord, InformationRequest, SharingPolicy


@dataclass(frozen=True)
class RecordOnPage:
    """A shown record and what this person may do with it now."""

    shown: ShownRecord
    actions: tuple[str, ...] = ()


def with_actions(user: User, records: list[ShownRecord]) -> list[RecordOnPage]:
    decisions = (Action.REQUEST_RELEASE, Action.RELEASE, Action.REFUSE)
    return [
        RecordOnPage(
            shown, tuple(action.value for action in decisions if firewall.can(user, action, shown))
        )
        for shown in records
    ]


@dataclass(frozen=True)
class AgencyAnswer:
    """One agency's request on an enquiry and the records it gave, as this person sees them."""

    request: InformationRequest
    records: list[RecordOnPage] = field(default_factory=list)
    # Why the hub withdrew it, for the hub and the agency asked; blank for anyone else.
    withdrawal_reason: str = ""


@dataclass(frozen=True)
class EnquirySharing:
    answers: list[AgencyAnswer]
    may_send: bool
    agencies_to_ask: int
    # Whether this person may withdraw the open requests (sharing.withdrawals).
    may_withdraw: bool = False

    @property
    def records(self) -> list[RecordOnPage]:
        return [record for answer in self.answers for record in answer.records]


def enquiry_sharing(user: User, enquiry: Enquiry) -> EnquirySharing:
    """The requests made about an enquiry and their answers, in three queries whatever the
    enquiry."""
    requests = list(
        InformationRequest.objects.filter(enquiry=enquiry)
        .select_related("agency", "answered_by")
        .order_by("agency__name")
    )
    shown = firewall.shown_records(
        firewall.visible_records(user, enquiry=enquiry).order_by("request_id", "recorded_at", "id")
    )
    by_request = {
        request_id: with_actions(user, list(records))
        for request_id, records in groupby(shown, key=lambda record: record.request_id)
    }
    may_send = firewall.send_refusal(user, enquiry) is None
    asked = {request.agency_id for request in requests}
    # Counted for the hub even when the enquiry is decided, so that the enquiry page runs the
    # same queries whatever the enquiry; practitioners never send.
    unasked = (
        Agency.objects.filter(is_active=True)
        .exclude(pk__in=asked)
        .exclude(pk__in=_lead_agency())
        .count()
        if user.has_role(*HUB_ROLES)
        else 0
    )
    return EnquirySharing(
        answers=[
            AgencyAnswer(
                request,
                by_request.get(request.pk, []),
                withdrawal_reason=(
                    request.withdrawal_reason
                    if firewall.may_read_withdrawal_reason(user, request)
                    else ""
                ),
            )
            for request in requests
        ],
        may_send=may_send,
        agencies_to_ask=unasked if may_send else 0,
        may_withdraw=any(
            request.is_open and firewall.withdraw_refusal(user, request) is None
            for request in requests
        ),
    )


def _lead_agency() -> QuerySet:
    """The agency that runs the hub, never asked, as a subquery (no query of its own)."""
    return SharingPolicy.objects.filter(lead_agency__isnull=False).values("lead_agency_id")


def inbox(user: User) -> QuerySet[InformationRequest]:
    """The practitioner's agency's requests, open ones soonest due first, with the count of
    records given so far."""
    return (
        firewall.agency_requests(user)
        .select_related("enquiry", "enquiry__subject", "requested_by")
        .annotate(record_count=Count("records"))
    )


def open_inbox(user: User) -> QuerySet[InformationRequest]:
    return inbox(user).filter(status__in=InformationRequest.OPEN_STATUSES).order_by("due_at", "id")


def open_inbox_ids(user: User) -> "QuerySet[InformationRequest, int]":
    """The ids of the agency's open requests, soonest due first, read from
    `information_request_open` alone: to count and page through them without joining or
    grouping any (`open_inbox_rows` reads a page's rows)."""
    return (
        firewall.agency_requests(user)
        .filter(status__in=InformationRequest.OPEN_STATUSES)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class InboxLine:
    """A request as an inbox list shows it, with one of its times as the `date:"D j M H:i"`
    filter writes it (`enquiries.selectors.day_and_time`, at a fraction of the cost)."""

    request: InformationRequest
    when: str


def inbox_lines(requests: list[InformationRequest], time_field: str) -> list[InboxLine]:
    zone = timezone.get_current_timezone()
    return [
        InboxLine(request, day_and_time(moment, zone) if moment else "")
        for request in requests
        for moment in [getattr(request, time_field)]
    ]


def link_around_id(url_name: str) -> tuple[str, str]:
    """What comes before and after the id in the link to an object by id (`url_name` takes
    the id alone), for a page that links to many."""
    placeholder = 123456789
    before, after = reverse(url_name, args=[placeholder]).split(str(placeholder))
    return before, after


@dataclass(frozen=True)
class OpenRequestLine:
    """An open request as the inbox lists it: its enquiry's reference and subject, its
    status, when it falls due (as `InboxLine`), whether that has passed, and the records
    given so far."""

    pk: int
    reference: str
    subject_name: str
    status_label: str
    chase_count: int
    due: str
    overdue: bool
    record_count: int


def open_inbox_rows(user: User, page_ids: QuerySet, *, now: datetime) -> list[OpenRequestLine]:
    """A page of the open requests (`open_inbox_ids`, sliced), in one query, each with its
    enquiry, subject and the count of records given so far: read as the columns the page
    shows, rather than as four model instances a row (a third of the page's Python)."""
    rows = (
        firewall.agency_requests(user)
        .filter(status__in=InformationRequest.OPEN_STATUSES, pk__in=page_ids)
        .values(
            "pk",
            "status",
            "chase_count",
            "due_at",
            "enquiry__reference",
            "enquiry__subject_id",
            "enquiry__subject__first_name",
            "enquiry__subject__last_name",
        )
        .annotate(record_count=Count("records"))
        .order_by("due_at", "id")
    )
    zone = timezone.get_current_timezone()
    status_labels = dict(InformationRequest.Status.choices)
    return [
        OpenRequestLine(
            pk=row["pk"],
            reference=row["enquiry__reference"],
            subject_name=(
                f"{row['enquiry__subject__first_name']} {row['enquiry__subject__last_name']}"
                if row["enquiry__subject_id"]
                else Enquiry.NO_SUBJECT
            ),
            status_label=status_labels.get(row["status"], row["status"]),
            chase_count=row["chase_count"],
            due=day_and_time(row["due_at"], zone),
            overdue=row["due_at"] < now,
            record_count=row["record_count"],
        )
        for row in rows
    ]


# What the inbox's lists of requests answered and withdrawn show (sharing.templatetags
# .inbox_lists), not the whole enquiry of each.
INBOX_LIST_FIELDS = (
    "agency_id",
    "status",
    "answered_at",
    "response_minutes",
    "withdrawn_at",
    "withdrawal_reason",
    "enquiry__reference",
)


def recently_withdrawn(user: User, *, limit: int = 20) -> list[InformationRequest]:
    """The requests the hub withdrew lately, newest first, from `information_request_withdrawn`."""
    return list(
        firewall.agency_requests(user)
        .filter(withdrawn_at__isnull=False)
        .select_related("enquiry")
        .only(*INBOX_LIST_FIELDS)
        .order_by("-withdrawn_at", "-id")[:limit]
    )


def recently_answered(user: User, *, limit: int = 20) -> list[InformationRequest]:
    """The last answers, read newest first from `information_request_answered`."""
    return list(
        firewall.agency_requests(user)
        .filter(answered_at__isnull=False)
        .select_related("enquiry")
        .only(*INBOX_LIST_FIELDS)
        .order_by("-answered_at", "-id")[:limit]
    )


def _awaiting_release(user: User) -> QuerySet[InformationRecord]:
    """The practitioner's agency's sensitive records someone has asked to be released."""
    return (
        firewall.visible_records(user)
        .filter(agency_id=user.agency_id, release_status="requested")
        .order_by("recorded_at", "id")
    )


AWAITING_PAGE_SIZE = 20


def awaiting_release_page(user: User, number: str | int | None) -> tuple[Page, list[ShownRecord]]:
    """A page of the records awaiting a release decision, oldest first, in two queries
    (their count, and the page's records): the inbox shows each one's summary and logs its
    view, so the inbox's cost, and the views it logs, are a page's whatever the agency has
    waiting."""
    records = _awaiting_release(user)
    page = Paginator(records, AWAITING_PAGE_SIZE).get_page(number)
    start = (page.number - 1) * AWAITING_PAGE_SIZE
    return page, firewall.shown_records(records, window=slice(start, start + AWAITING_PAGE_SIZE))


SEARCH_LIMIT = 50
# How many of the newest records a search reads first: about a week's at a million enquiries.
SEARCH_NEWEST = 20_000


def _among_newest(ids: QuerySet, newest: int) -> list[int]:
    """`ids` (record ids, newest first, sliced), looked for only among the `newest` records,
    read newest first until enough are found. PostgreSQL would otherwise read every record
    matching a common word (it expects few) and sort them all; the query's source table is
    swapped for a subquery of its newest rows, read from `information_record_newest` in
    order, under the same name, so the firewall's conditions apply unchanged."""
    try:
        sql, params = ids.query.get_compiler(using=ids.db).as_sql()
    except EmptyResultSet:  # the firewall shows this person no records
        return []
    connection = connections[ids.db]
    table = connection.ops.quote_name(InformationRecord._meta.db_table)
    source = f" FROM {table} "
    at = sql.find(source)
    if at < 0 or sql[:at].count("(") != sql[:at].count(")"):
        raise ValueError("the search's own table is not where a search's query has it")
    order = f"{table}.recorded_at DESC, {table}.id DESC"
    subquery = f" FROM (SELECT * FROM {table} ORDER BY {order} LIMIT {newest:d}) AS {table} "  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql[:at] + subquery + sql[at + len(source) :], params)
        return [pk for (pk,) in cursor.fetchall()]


def search_records(user: User, found: "QuerySet[firewall.VisibleRecord]") -> list[ShownRecord]:
    """The newest `SEARCH_LIMIT` of the records a search `found` (`filters.RecordSearch`, which
    finds only records whose content this person may read), as shown to them."""
    # The hits' ids first, then their rows: planned as one query, PostgreSQL misjudged how
    # many records match a common word and joined people row by row (2.9 s at 20,000
    # enquiries, bench/load.py).
    ids = found.order_by("-recorded_at", "-id").values_list("pk", flat=True)[:SEARCH_LIMIT]
    # A common word's newest hits are among the newest records. If those hold a page of
    # hits, no older record can be among them; otherwise every match is read (few, for a rare
    # word) and the newest kept. Unordered, so that PostgreSQL finds them through the trigram
    # indexes: asked for the newest 50, it walks `information_record_newest` hoping to meet
    # them soon, and for a word nobody wrote read all three million records (6 s).
    hits = _among_newest(ids, SEARCH_NEWEST)
    if len(hits) < SEARCH_LIMIT:
        matches = found.order_by().values_list("recorded_at", "pk")
        hits = [pk for _, pk in heapq.nlargest(SEARCH_LIMIT, matches)]
    if not hits:
        return []
    readable = firewall.readable_records(user)
    return firewall.shown_records(readable.filter(pk__in=hits).order_by("-recorded_at", "-id"))


def records_for_request(user: User, request: InformationRequest) -> list[RecordOnPage]:
    return with_actions(
        user,
        firewall.shown_records(
            firewall.visible_records(user, enquiry=request.enquiry)
            .filter(request=request)
            .order_by("recorded_at", "id")
        ),
    )
