"""Reads for the sharing pages, always through the firewall."""

from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count, QuerySet

from agencies.models import Agency, User
from enquiries.models import Enquiry

from . import firewall
from .firewall import Action, ShownRecord
from .models import InformationRequest, SharingPolicy


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
    """The requests made about an enquiry and their answers, in three queries."""
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
        agencies_to_ask=(
            Agency.objects.filter(is_active=True)
            .exclude(pk__in=asked)
            .exclude(pk__in=_lead_agency())
            .count()
            if may_send
            else 0
        ),
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


def recently_withdrawn(user: User, *, limit: int = 20) -> list[InformationRequest]:
    """The requests the hub withdrew lately, newest first, from `information_request_withdrawn`."""
    return list(
        firewall.agency_requests(user)
        .filter(withdrawn_at__isnull=False)
        .select_related("enquiry")
        .order_by("-withdrawn_at", "-id")[:limit]
    )


def recently_answered(user: User, *, limit: int = 20) -> list[InformationRequest]:
    """The last answers, read newest first from `information_request_answered`."""
    return list(
        firewall.agency_requests(user)
        .filter(answered_at__isnull=False)
        .select_related("enquiry")
        .order_by("-answered_at", "-id")[:limit]
    )


def awaiting_release_decision(user: User) -> list[ShownRecord]:
    """The practitioner's agency's sensitive records someone has asked to be released."""
    return firewall.shown_records(
        firewall.visible_records(user)
        .filter(agency_id=user.agency_id, release_status="requested")
        .order_by("recorded_at", "id")
    )


SEARCH_LIMIT = 50


def search_records(user: User, found: "QuerySet[firewall.VisibleRecord]") -> list[ShownRecord]:
    """The newest `SEARCH_LIMIT` of the records a search `found` (`filters.RecordSearch`, which
    finds only records whose content this person may read), as shown to them."""
    # The hits' ids first, then their rows: planned as one query, PostgreSQL misjudged how
    # many records match a common word and joined people row by row (2.9 s at 20,000
    # enquiries, bench/load.py).
    hits = list(found.order_by("-recorded_at", "-id").values_list("pk", flat=True)[:SEARCH_LIMIT])
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
