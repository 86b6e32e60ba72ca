"""Withdrawing information requests (docs/domain.md section 5.1): the hub no longer needs an
agency's answer, so the agency stops searching for one.

A researcher or manager withdraws a request while it waits for its answer, saying why; when a
manager decides the enquiry, every request still open is withdrawn in the decision's own
transaction, the reason naming the day and the outcome (never the rationale). Either way the
agency's active practitioners are told, with the enquiry's reference and the reason.

A withdrawn request is never chased, is neither answered nor overdue in the reports, and
cannot be answered ("Send the answer" and "Nothing held" are refused). The agency may still
add a record to it: the record is kept, marked as added after the withdrawal, and whoever
works on the enquiry is told; the request stays withdrawn (sharing.services).
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies.models import User
from core.exceptions import StaleEdit
from enquiries.models import Enquiry, Notification

from . import firewall
from .models import InformationRequest
from .services import _checked, _int, _notify, agency_practitioners, logs_refusals

Status = InformationRequest.Status


def request_withdrawn_message(*, reference: str, agency: str, reason: str) -> str:
    return (
        f"{reference}: the hub withdrew its information request to {agency}; no answer is "
        f"needed. Why: {reason}"
    )


def decision_reason(*, decided_at: datetime, outcome: str) -> str:
    """Why the hub withdraws what it still waits for when it decides: the day and the outcome,
    never the rationale, which stays in the hub."""
    day = timezone.localtime(decided_at)
    return f"The hub decided this enquiry on {day.day} {day:%B %Y}: {outcome}."


def _refuse_unless_open(request: InformationRequest) -> None:
    if request.status == Status.WITHDRAWN:
        raise ValidationError("This request has been withdrawn already.")
    if not request.is_open:
        raise ValidationError(
            f"{request.agency} has answered this request already: there is nothing to withdraw."
        )


def _withdraw(
    request: InformationRequest, *, actor: User, reason: str, reference: str, now: datetime
) -> InformationRequest:
    """Withdraw a request already locked and checked, and tell its agency."""
    request.status = Status.WITHDRAWN
    request.withdrawn_at = now
    request.withdrawn_by = actor
    request.withdrawal_reason = reason
    request.version += 1
    request.save(
        update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawal_reason", "version"]
    )
    _notify(
        recipients=agency_practitioners(request.agency_id),
        enquiry_id=request.enquiry_id,
        kind=Notification.Kind.REQUEST_WITHDRAWN,
        message=request_withdrawn_message(
            reference=reference, agency=request.agency.name, reason=reason
        ),
        now=now,
    )
    return request


@logs_refusals("withdraw an information request")
def withdraw_request(
    *,
    request: InformationRequest,
    actor: User,
    reason: str,
    expected_version: int | str | None = None,
    now: datetime | None = None,
) -> InformationRequest:
    """A researcher or manager withdraws one open request, at the version they read (the
    page and the API always send it; None skips the check, as for the other services)."""
    refusal = firewall.withdraw_refusal(actor, request)
    if refusal:
        raise PermissionDenied(refusal)
    locked = (
        InformationRequest.objects.select_for_update()
        .select_related("agency", "enquiry")
        .get(pk=request.pk)
    )
    if expected_version is not None and _int(expected_version) != locked.version:
        raise StaleEdit(
            current_version=locked.version,
            changes=[f"it is now {locked.get_status_display().lower()}"],
            what="information request",
        )
    _refuse_unless_open(locked)
    errors: dict = {}
    reason = _checked(
        errors, "reason", reason, required="Say why the hub no longer needs this information."
    )
    if errors:
        raise ValidationError(errors)
    return _withdraw(
        locked,
        actor=actor,
        reason=reason,
        reference=locked.enquiry.reference,
        now=now or timezone.now(),
    )


def open_requests(enquiry: Enquiry):
    """The enquiry's requests still waiting for an answer, soonest due first."""
    return (
        InformationRequest.objects.filter(
            enquiry=enquiry, status__in=InformationRequest.OPEN_STATUSES
        )
        .select_related("agency")
        .order_by("due_at", "agency__name", "id")
    )


def withdraw_on_decision(enquiry: Enquiry, actor: User, now: datetime) -> list[InformationRequest]:
    """Run inside the decision's transaction (enquiries.hooks.decision_followers): every
    request still open is withdrawn, and each agency told, with the day and the outcome."""
    if enquiry.decided_at is None:  # followers run once it is decided
        return []
    reason = decision_reason(decided_at=enquiry.decided_at, outcome=str(enquiry.outcome))
    return [
        _withdraw(request, actor=actor, reason=reason, reference=enquiry.reference, now=now)
        for request in open_requests(enquiry).select_for_update(of=("self",))
    ]


def decision_notes(user: User, enquiry: Enquiry) -> list[str]:
    """What the decide page says of the requests its decision withdraws."""
    requests = list(open_requests(enquiry)) if enquiry.is_open else []
    if not requests:
        return []
    lines = [
        f"{request.agency}: asked {_when(request.requested_at)}, due {_when(request.due_at)}."
        for request in requests
    ]
    count = len(requests)
    these = "This request" if count == 1 else f"These {count} requests"
    told = "its agency told" if count == 1 else "each agency told"
    return [*lines, f"{these} will be withdrawn, and {told}."]


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %H:%M}"
