"""Information requests, answers, and the release or refusal of sensitive records.

The HTML pages and the API call these. Each checks the firewall first; a refusal (not allowed,
not visible, or bad input) changes nothing and is written to the access log, outside the
transaction that was refused, so the attempt stays on record.
"""

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from math import ceil

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import assign_perm

from agencies import step_up
from agencies.models import Agency, Role, User
from audit.access_log import log_access
from audit.models import AccessLogEntry
from core.bulk import update_rows
from core.exceptions import StaleEdit
from core.text import TEXT_LIMIT, clean_text
from enquiries.clock import ClockInForce, clock_in_force
from enquiries.mail import email_notifications
from enquiries.models import Enquiry, Notification, Person
from enquiries.worktime import add_working_minutes, working_minutes_between

from . import firewall
from .firewall import Action, ShownRecord
from .models import (
    InformationRecord,
    InformationRequest,
    LawfulBasis,
    ReleaseDecision,
    ReleaseRequest,
    ReleaseStatus,
    Sensitivity,
    SharingPolicy,
)

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel
Status = InformationRequest.Status

DEFAULT_QUESTION = (
    "Please tell us what your agency holds about the people named, in particular anything "
    "that bears on the risk to the subject."
)


def _minute(moment: datetime | None) -> datetime:
    return (moment or timezone.now()).replace(second=0, microsecond=0)


def _text(field: str, value: str, message: str) -> str:
    value = clean_text(field, value)
    if not value:
        raise ValidationError({field: message})
    return value


def _checked(
    errors: dict, field: str, value: str, *, required: str = "", max_length: int = TEXT_LIMIT
) -> str:
    """`value` under the hub's text rules (core.text), which the pages' record actions hand
    over as typed; a breach, or a blank where `required` says what to give, joins `errors`."""
    try:
        text = clean_text(field, value, max_length=max_length)
    except ValidationError as error:
        errors[field] = error.message_dict[field]
        return ""
    if not text and required:
        errors[field] = required
    return text


def _refusal_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error) or "Not visible to this user."


@contextmanager
def refusals_logged(
    *,
    user: User,
    action: str,
    channel: str,
    record_id=None,
    enquiry_id: int | None = None,
) -> Iterator[None]:
    """Log a refused attempt (as DENIED, with what was tried and why, and the record's
    enquiry and person if the record exists) and let it propagate."""
    try:
        yield
    except (PermissionDenied, Http404, ValidationError, StaleEdit) as error:
        pk = _int(record_id)
        record = (
            InformationRecord.objects.filter(pk=pk).only("pk", "enquiry_id", "person_id").first()
            if pk is not None
            else None
        )
        what = f"{action} (record {record_id})" if record_id is not None else action
        log_access(
            user=user,
            action=Log.DENIED,
            channel=channel,
            records=[record] if record is not None else [],
            enquiry_id=enquiry_id,
            reason=f"{what}: {_refusal_message(error)}",
        )
        raise


def logs_refusals(action: str) -> Callable:
    """Run a sharing service in its own transaction. If it refuses (not allowed, not visible,
    bad input, stale), the attempt is logged after the rollback, so it stays on record.

    The decorated service is called with `actor`, an optional `channel` (the page by
    default) and its own arguments; it gets `channel` only if it asks for it."""

    def decorate(service: Callable) -> Callable:
        in_transaction = transaction.atomic(service)
        takes_channel = "channel" in inspect.signature(service).parameters

        @wraps(service)
        def run(*, actor: User, channel: str = Channel.PAGE, **arguments):
            request, enquiry = arguments.get("request"), arguments.get("enquiry")
            enquiry_id = request.enquiry_id if request is not None else getattr(enquiry, "pk", None)
            if takes_channel:
                arguments["channel"] = channel
            with refusals_logged(
                user=actor,
                action=action,
                channel=channel,
                record_id=arguments.get("record_pk"),
                enquiry_id=enquiry_id,
            ):
                return in_transaction(actor=actor, **arguments)

        return run

    return decorate


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _notify(
    *, recipients: Iterable[User], enquiry_id: int, kind: str, message: str, now: datetime
) -> None:
    notifications = Notification.objects.bulk_create(
        Notification(
            recipient=recipient,
            enquiry_id=enquiry_id,
            kind=kind,
            message=message,
            created_at=now,
        )
        for recipient in recipients
    )
    # By email too, to whoever chose the kind: the kind and reference, never the message.
    email_notifications(notifications, now=now)


def information_request_message(*, reference: str, agency: str, due_at: datetime) -> str:
    return (
        f"{reference}: {agency} is asked what it holds, due "
        f"{timezone.localtime(due_at):%d %b %H:%M}."
    )


def information_answered_message(
    *, reference: str, agency: str, nothing_held: bool, after_withdrawal: bool = False
) -> str:
    answer = "holds nothing about the people asked about." if nothing_held else "has answered."
    if after_withdrawal:
        answer = "added information after the hub withdrew its request."
    return f"{reference}: {agency} {answer}"


def release_request_message(*, reference: str, requester: str, agency: str, person: str) -> str:
    return f"{reference}: {requester} asks {agency} to release its information about {person}."


def release_answer_message(*, reference: str, agency: str, person: str, released: bool) -> str:
    verb = "released" if released else "refused to release"
    return f"{reference}: {agency} {verb} its information about {person}."


def agency_practitioners(agency_id: int):
    return User.objects.filter(
        agency_id=agency_id, is_active=True, groups__name=Role.PRACTITIONER
    ).distinct()


# Requests and answers.


def request_due_at(enquiry: Enquiry, *, percent: int, clock=None) -> datetime:
    """The share of the enquiry's allowance after which the agency's answer is due, counted on
    the enquiry's own clock from when it arrived."""
    clock = clock or clock_in_force()
    return due_at(
        clock,
        rating=enquiry.rating,
        received_at=enquiry.received_at,
        allowance=enquiry.allowance_minutes,
        percent=percent,
    )


def due_at(
    clock: ClockInForce, *, rating: str, received_at: datetime, allowance: int, percent: int
) -> datetime:
    """`percent` of `allowance` minutes of `rating`'s calendar under `clock`, from
    `received_at`: when a request on such an enquiry falls due."""
    minutes = ceil(allowance * percent / 100)
    return add_working_minutes(clock.calendar_for(rating), received_at, minutes)


DUE_FIELDS = ["due_at", "clock_version", "policy_version"]


def put_due_times(
    requests: Iterable[InformationRequest],
    enquiries: dict[int, Enquiry],
    *,
    clock: ClockInForce,
    policy: SharingPolicy,
) -> tuple[list[InformationRequest], int]:
    """Each request's due time under this clock and policy, stamped with their versions
    (sharing.timing); `enquiries` by id holds each one's enquiry. Returns the requests that
    need saving and how many of their due times moved."""
    stale, moved = [], 0
    for request in requests:
        due_at = request_due_at(
            enquiries[request.enquiry_id], percent=policy.request_due_percent, clock=clock
        )
        if (request.due_at, request.clock_version, request.policy_version) != (
            due_at,
            clock.version,
            policy.version,
        ):
            moved += request.due_at != due_at
            request.due_at = due_at
            request.clock_version, request.policy_version = clock.version, policy.version
            stale.append(request)
    return stale, moved


def refresh_request_due_times(enquiries: Iterable[Enquiry]) -> int:
    """Open requests fall due at a share of their enquiry's allowance, so when a new rating or
    a new clock moves the allowance, their due times move with it. Returns how many moved."""
    by_id = {enquiry.pk: enquiry for enquiry in enquiries}
    if not by_id:
        return 0
    requests = InformationRequest.objects.filter(
        enquiry_id__in=by_id, status__in=InformationRequest.OPEN_STATUSES
    ).only("id", "enquiry_id", *DUE_FIELDS)
    stale, moved = put_due_times(
        requests, by_id, clock=clock_in_force(), policy=SharingPolicy.current()
    )
    update_rows(InformationRequest, stale, DUE_FIELDS)
    return moved


def usual_agencies():
    """The agencies asked by default: active, asked by default, and never the agency that runs
    the hub, whose information is the hub's own."""
    agencies = Agency.objects.filter(is_active=True, asked_by_default=True)
    lead = SharingPolicy.current().lead_agency_id
    return agencies.exclude(pk=lead) if lead is not None else agencies


@logs_refusals("send information requests")
def send_information_requests(
    *,
    enquiry: Enquiry,
    actor: User,
    agencies: Sequence[Agency],
    question: str = "",
    people: Sequence[Person] | None = None,
    now: datetime | None = None,
) -> list[InformationRequest]:
    """Ask each agency what it holds; agencies already asked about the enquiry are skipped."""
    reason = firewall.send_refusal(actor, enquiry)
    if reason:
        raise PermissionDenied(reason)
    question = clean_text("question", question, max_length=4000) or DEFAULT_QUESTION
    involved = {
        link.person_id: link.person for link in enquiry.involvements.select_related("person")
    }
    people = list(people) if people else list(involved.values())
    strangers = [str(person) for person in people if person.pk not in involved]
    if strangers:
        raise ValidationError({"people": f"Not named in this enquiry: {', '.join(strangers)}."})
    inactive = [agency.name for agency in agencies if not agency.is_active]
    if inactive:
        raise ValidationError({"agencies": f"No longer active: {', '.join(inactive)}."})
    lead = SharingPolicy.current().lead_agency_id
    running = [agency.name for agency in agencies if agency.pk == lead]
    if running:
        raise ValidationError(
            {"agencies": f"{running[0]} runs the hub: its information is already the hub's."}
        )
    asked = set(
        InformationRequest.objects.filter(enquiry=enquiry).values_list("agency_id", flat=True)
    )
    new = [agency for agency in agencies if agency.pk not in asked]
    if not new:
        raise ValidationError(
            {"agencies": "Choose at least one agency that has not been asked already."}
        )
    now = _minute(now)
    clock, policy = clock_in_force(), SharingPolicy.current()
    due_at = request_due_at(enquiry, percent=policy.request_due_percent, clock=clock)
    # One by one, not in bulk, so django-auditlog records each request's creation.
    requests = []
    for agency in new:
        request = InformationRequest.objects.create(
            enquiry=enquiry,
            agency=agency,
            question=question,
            requested_at=now,
            requested_by=actor,
            due_at=due_at,
            clock_version=clock.version,
            policy_version=policy.version,
        )
        request.people.set(people)
        requests.append(request)
    for request in requests:
        _notify(
            recipients=agency_practitioners(request.agency_id),
            enquiry_id=enquiry.pk,
            kind=Notification.Kind.INFORMATION_REQUEST,
            message=information_request_message(
                reference=enquiry.reference, agency=request.agency.name, due_at=due_at
            ),
            now=now,
        )
    return requests


def _lock_request(
    request: InformationRequest,
    actor: User,
    expected_version,
    *,
    adding: bool = False,
    closing_as: str | None = None,
) -> InformationRequest:
    """The request locked for this change, or a refusal. `closing_as` is the status an answer
    would give it: a request already closed so, asked again by its agency's practitioner (a
    double click, a retried call), comes back as it is, for the caller to leave alone."""
    locked = (
        InformationRequest.objects.select_for_update().select_related("agency").get(pk=request.pk)
    )
    if (
        closing_as is not None
        and locked.status == closing_as
        and firewall.answers_for(actor, locked)
    ):
        return locked
    refusal = firewall.add_record_refusal if adding else firewall.answer_refusal
    reason = refusal(actor, locked)
    if reason:
        if locked.status == Status.WITHDRAWN and firewall.add_record_refusal(actor, locked) is None:
            # The agency may see it and add to it; the answer is what is refused.
            raise ValidationError(reason)
        raise PermissionDenied(reason)
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleEdit(
            current_version=locked.version,
            changes=[f"it is now {locked.get_status_display().lower()}"],
            what="information request",
        )
    return locked


@logs_refusals("add a record")
def add_information_record(
    *,
    request: InformationRequest,
    actor: User,
    person: Person,
    summary: str,
    detail: str,
    source_system: str,
    information_date: date,
    sensitivity: str,
    now: datetime | None = None,
) -> InformationRecord:
    request = _lock_request(request, actor, None, adding=True)
    errors = {}
    if not request.enquiry.involvements.filter(person=person).exists():
        errors["person"] = "Choose someone named in this enquiry."
    if sensitivity not in Sensitivity.values:
        errors["sensitivity"] = "Say whether the information is sensitive."
    now = now or timezone.now()
    if information_date and information_date > timezone.localdate(now):
        errors["information_date"] = (
            "The date the information was recorded cannot be in the future."
        )
    summary = _checked(
        errors, "summary", summary, required="Give a one-line summary.", max_length=200
    )
    detail = _checked(errors, "detail", detail, required="Give the information itself.")
    source_system = _checked(
        errors,
        "source_system",
        source_system,
        required="Say which of your agency's systems it comes from.",
        max_length=100,
    )
    if not information_date:
        errors["information_date"] = "Give the date the information was recorded."
    if errors:
        raise ValidationError(errors)
    record = InformationRecord.objects.create(
        request=request,
        enquiry_id=request.enquiry_id,
        agency_id=request.agency_id,
        person=person,
        summary=summary,
        detail=detail,
        source_system=source_system,
        information_date=information_date,
        sensitivity=sensitivity,
        recorded_at=now,
        recorded_by=actor,
        added_after_withdrawal=request.status == Status.WITHDRAWN,
    )
    if record.added_after_withdrawal:
        # Kept and logged, reopening nothing; whoever works on the enquiry hears of it.
        _tell_the_researcher(request, now=now)
    elif request.status == Status.REQUESTED:
        request.status = Status.IN_PROGRESS
        request.version += 1
        request.save(update_fields=["status", "version"])
    return record


def _close_request(
    request: InformationRequest, *, actor: User, status: str, now: datetime
) -> InformationRequest:
    clock = clock_in_force()
    request.status = status
    request.answered_at = now
    request.answered_by = actor
    request.response_minutes = working_minutes_between(clock.calendar, request.requested_at, now)
    request.version += 1
    request.save(
        update_fields=["status", "answered_at", "answered_by", "response_minutes", "version"]
    )
    _tell_the_researcher(request, now=now)
    return request


def working_on_it(enquiry: Enquiry, request: InformationRequest):
    """Whoever works on the enquiry for the hub, to be told what an agency did about it: its
    assignee, or, while nobody is assigned, whoever asked the agency (if still active)."""
    return User.objects.filter(pk=enquiry.assignee_id or request.requested_by_id, is_active=True)


def _tell_the_researcher(request: InformationRequest, *, now: datetime) -> None:
    """Whoever works on the enquiry learns that an agency has answered, or added to a request
    the hub had withdrawn."""
    enquiry = Enquiry.objects.only("reference", "assignee_id").get(pk=request.enquiry_id)
    _notify(
        recipients=working_on_it(enquiry, request),
        enquiry_id=request.enquiry_id,
        kind=Notification.Kind.INFORMATION_ANSWERED,
        message=information_answered_message(
            reference=enquiry.reference,
            agency=request.agency.name,
            nothing_held=request.status == Status.NOTHING_HELD,
            after_withdrawal=request.status == Status.WITHDRAWN,
        ),
        now=now,
    )


@logs_refusals("send the answer")
def send_answer(
    *,
    request: InformationRequest,
    actor: User,
    expected_version=None,
    now: datetime | None = None,
) -> InformationRequest:
    """The practitioner has recorded everything their agency holds: the request is answered.
    Sent again once answered, the answer stands and nothing changes."""
    request = _lock_request(request, actor, expected_version, closing_as=Status.ANSWERED)
    if request.status == Status.ANSWERED:
        return request
    if not request.records.exists():
        raise ValidationError("Add at least one information record, or answer “nothing held”.")
    return _close_request(request, actor=actor, status=Status.ANSWERED, now=_minute(now))


@logs_refusals("answer nothing held")
def record_nothing_held(
    *,
    request: InformationRequest,
    actor: User,
    expected_version=None,
    now: datetime | None = None,
) -> InformationRequest:
    """The agency holds nothing about the people asked about. Said again once said, the answer
    stands and nothing changes."""
    request = _lock_request(request, actor, expected_version, closing_as=Status.NOTHING_HELD)
    if request.status == Status.NOTHING_HELD:
        return request
    if request.records.exists():
        raise ValidationError(
            "Records have been added to this request: send them as the answer instead."
        )
    return _close_request(request, actor=actor, status=Status.NOTHING_HELD, now=_minute(now))


# Release and refusal.


def _locked_record(shown: ShownRecord) -> InformationRecord:
    return InformationRecord.objects.select_for_update().get(pk=shown.pk)


def _decide_on(user: User, action: Action, record_pk):
    """Find the record as the firewall shows it to this person and check the action."""
    shown = firewall.record_for(user, record_pk)
    firewall.require(user, action, shown)
    return shown


@logs_refusals("request release")
def request_release(*, record_pk, actor: User, reason: str, channel: str) -> ReleaseRequest:
    shown = _decide_on(actor, Action.REQUEST_RELEASE, record_pk)
    reason = _text("reason", reason, "Say why the hub needs this information.")
    record = _locked_record(shown)
    firewall.require(actor, Action.REQUEST_RELEASE, _reread(actor, record))
    now = timezone.now()
    release_request = ReleaseRequest.objects.create(
        record=record, requested_by=actor, requested_at=now, reason=reason
    )
    record.release_status = ReleaseStatus.REQUESTED
    record.version += 1
    record.save(update_fields=["release_status", "version"])
    log_access(
        user=actor, action=Log.RELEASE_REQUEST, channel=channel, records=[record], reason=reason
    )
    _notify(
        recipients=agency_practitioners(record.agency_id),
        enquiry_id=record.enquiry_id,
        kind=Notification.Kind.RELEASE_REQUEST,
        message=release_request_message(
            reference=shown.enquiry_reference,
            requester=str(actor),
            agency=shown.agency_name,
            person=shown.person_name,
        ),
        now=now,
    )
    return release_request


def _reread(user: User, record: InformationRecord) -> ShownRecord:
    """The record as the firewall shows it, read again under the row lock."""
    return firewall.record_for(user, record.pk)


def release_record(*, actor: User, password: str, record_pk, **release) -> ReleaseDecision:
    """Release needs the practitioner's password again (step-up): whoever sits at a signed-in
    session, or holds its owner's API token, cannot release a sensitive record on it alone.

    The password is asked for only once the person may release this record: anyone else is
    refused (404 or 403, logged) without it being checked or counted, so wrong passwords from
    someone who could never release lock nobody out. It is checked before the release's
    transaction (agencies.step_up), so a wrong one counts towards the lockout although the
    refused release rolls back."""
    problem = step_up.password_problem(actor, password) if _may(actor, record_pk) else None
    return _release(actor=actor, record_pk=record_pk, password_problem=problem, **release)


def _may(actor: User, record_pk) -> bool:
    """Whether `actor` may release the record; `_release` refuses (and logs) it if not."""
    try:
        _decide_on(actor, Action.RELEASE, record_pk)
    except (firewall.NotVisible, PermissionDenied):
        return False
    return True


@logs_refusals("release")
def _release(
    *,
    record_pk,
    actor: User,
    reason: str,
    necessary_and_proportionate: bool,
    lawful_basis: str,
    conditions: str = "",
    password_problem: str | None,
    channel: str,
) -> ReleaseDecision:
    shown = _decide_on(actor, Action.RELEASE, record_pk)
    errors = {"password": password_problem} if password_problem else {}
    reason = _checked(
        errors, "reason", reason, required="Say why releasing this is necessary and proportionate."
    )
    if not necessary_and_proportionate:
        errors["necessary_and_proportionate"] = (
            "Confirm that releasing this is necessary and proportionate."
        )
    if lawful_basis not in LawfulBasis.values:
        errors["lawful_basis"] = "Choose the lawful basis for sharing."
    conditions = _checked(errors, "conditions", conditions)
    if errors:
        raise ValidationError(errors)
    record = _locked_record(shown)
    firewall.require(actor, Action.RELEASE, _reread(actor, record))
    decision = ReleaseDecision.objects.create(
        record=record,
        release_request=record.release_requests.order_by("-requested_at", "-id").first(),
        decision=ReleaseDecision.Decision.RELEASED,
        decided_by=actor,
        decided_at=timezone.now(),
        reason=reason,
        necessary_and_proportionate=True,
        lawful_basis=lawful_basis,
        conditions=conditions,
    )
    record.release_status = ReleaseStatus.RELEASED
    record.conditions = conditions
    record.version += 1
    record.save(update_fields=["release_status", "conditions", "version"])
    for group in Group.objects.filter(name__in=firewall.WORKING_ROLES):
        assign_perm(f"sharing.{firewall.VIEW_CONTENT}", group, record)
    log_access(
        user=actor,
        action=Log.RELEASE,
        channel=channel,
        records=[record],
        reason=f"{reason} Lawful basis: {LawfulBasis(lawful_basis).label}."
        + (f" Conditions: {conditions}" if conditions else ""),
    )
    _tell_requesters(record, shown, decision)
    return decision


def _tell_requesters(
    record: InformationRecord, shown: ShownRecord, decision: ReleaseDecision
) -> None:
    requesters = User.objects.filter(
        pk__in=record.release_requests.values("requested_by_id"), is_active=True
    )
    _notify(
        recipients=requesters,
        enquiry_id=record.enquiry_id,
        kind=Notification.Kind.RELEASE_ANSWER,
        message=release_answer_message(
            reference=shown.enquiry_reference,
            agency=shown.agency_name,
            person=shown.person_name,
            released=decision.decision == ReleaseDecision.Decision.RELEASED,
        ),
        now=decision.decided_at,
    )


@logs_refusals("refuse")
def refuse_release(*, record_pk, actor: User, reason: str, channel: str) -> ReleaseDecision:
    shown = _decide_on(actor, Action.REFUSE, record_pk)
    reason = _text("reason", reason, "Say why your agency will not release this.")
    record = _locked_record(shown)
    firewall.require(actor, Action.REFUSE, _reread(actor, record))
    decision = ReleaseDecision.objects.create(
        record=record,
        release_request=record.release_requests.order_by("-requested_at", "-id").first(),
        decision=ReleaseDecision.Decision.REFUSED,
        decided_by=actor,
        decided_at=timezone.now(),
        reason=reason,
    )
    record.release_status = ReleaseStatus.REFUSED
    record.version += 1
    record.save(update_fields=["release_status", "version"])
    log_access(user=actor, action=Log.REFUSE, channel=channel, records=[record], reason=reason)
    _tell_requesters(record, shown, decision)
    return decision
