"""The access log: writing it, and checking its chain.

Every look at person-level or agency information, every search, export and read of the logs,
and every change to who may see what is appended here, with who, their roles and agency, when,
from which address and request, about which record, person, enquiry or account, and why
(DPA 2018 s.62). `log_access` is the one writer: it fills in everything a caller could forget.

The role the app runs as cannot change the log (mash.database_roles), but whoever owns the
tables can. An owner's edit, deletion or insertion breaks the hash chain (core.append_only)
at that entry, and the hourly check names it to every auditor.
"""

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from agencies.models import Role, User
from core.append_only import BrokenLink, broken_link
from core.request_context import client_address, current_request
from enquiries.models import Enquiry, Notification

from . import firewall
from .firewall import ShownRecord
from .models import AccessLogEntry, InformationRecord, InformationRequest

Log = AccessLogEntry.Action


# Writing it.


def _address(request) -> str | None:
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _in_request() -> dict:
    """Where the entry comes from: the client's address and the request's id, if any."""
    request = current_request()
    return {
        "address": _address(request),
        "request_id": getattr(request, "request_id", "") if request is not None else "",
    }


def roles_at_the_time(user: User) -> str:
    return ", ".join(sorted(user.roles))


def access_entries(
    *,
    user: User,
    action: str,
    channel: str,
    records: Iterable[ShownRecord | InformationRecord] = (),
    enquiry: Enquiry | None = None,
    enquiry_id: int | None = None,
    person_id: int | None = None,
    person_ids: Iterable[int] = (),
    account: User | None = None,
    reason: str = "",
    terms: str = "",
) -> list[AccessLogEntry]:
    """Access log entries, not yet written: one per record, else one per person in
    `person_ids`, else one for the enquiry, person or account. Who, their roles and agency
    now, when, and the request's address and id are filled in here, so no caller can leave
    them out."""
    common = {
        "at": timezone.now(),
        "user": user,
        "agency_id": user.agency_id,
        "role": roles_at_the_time(user),
        "action": action,
        "channel": channel,
        "account": account,
        "reason": reason,
        "terms": terms,
        **_in_request(),
    }
    enquiry_id = enquiry.pk if enquiry is not None else enquiry_id
    return (
        [
            AccessLogEntry(
                record_id=record.pk,
                enquiry_id=record.enquiry_id,
                person_id=record.person_id,
                **common,
            )
            for record in records
        ]
        or [
            AccessLogEntry(enquiry_id=enquiry_id, person_id=person, **common)
            for person in person_ids
        ]
        or [AccessLogEntry(enquiry_id=enquiry_id, person_id=person_id, **common)]
    )


def write_access_log(*batches: list[AccessLogEntry]) -> None:
    """Entries from `access_entries`, however many, in one insert: each write to the chained
    log takes its lock and reads the last hash, so one write a request, not one an action."""
    AccessLogEntry.objects.bulk_create([entry for batch in batches for entry in batch])


def log_access(**entry) -> None:
    """Append to the access log (the arguments of `access_entries`)."""
    write_access_log(access_entries(**entry))


# Justifications: why the person looked, in the log's words.


def _role_labels(user: User, roles: Iterable[str]) -> str:
    held = user.roles
    return " and ".join(Role(role).label for role in Role if role in roles and role in held)


def acting_as(user: User, doing: str) -> str:
    """What the person was doing and in which role, for a search, an export or a read of
    the logs: "Searching the triage queue as Researcher"."""
    if user.has_role(*firewall.HUB_ROLES):
        return f"{doing} as {_role_labels(user, firewall.HUB_ROLES)}"
    if user.has_role(Role.PRACTITIONER):
        return f"{doing} as {Role.PRACTITIONER.label} for {user.agency.name}"
    return f"{doing} as {_role_labels(user, Role.values) or 'no role'}"


def _day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def _working_on(
    user: User, reference: str, *, assignee_id: int | None, asked_at: datetime | None
) -> str:
    """The enquiry being worked on and the viewer's part in it: the hub works on every
    enquiry, a practitioner on those their agency was asked about (firewall rules)."""
    working = f"Working on {reference}"
    if user.has_role(*firewall.HUB_ROLES):
        assigned = " (assigned to them)" if assignee_id == user.pk else ""
        return f"{working} as {_role_labels(user, firewall.HUB_ROLES)}{assigned}"
    if user.has_role(Role.PRACTITIONER) and asked_at is not None:
        return (
            f"{working} as {Role.PRACTITIONER.label} for {user.agency.name}, which was asked "
            f"for information on {_day(asked_at)}"
        )
    return acting_as(user, working)


def _asked_at(user: User, enquiry_ids: Iterable[int]) -> dict[int, datetime]:
    """When the practitioner's agency was asked about each enquiry (one query)."""
    return dict(
        InformationRequest.objects.filter(
            enquiry_id__in=list(enquiry_ids), agency_id=user.agency_id
        ).values_list("enquiry_id", "requested_at")
    )


def justification(
    user: User, enquiry: Enquiry, *, requests: Iterable[InformationRequest] | None = None
) -> str:
    """Why this person may look at this enquiry's information: "Working on MASH-2026-000012
    as Researcher (assigned to them)", or "... as Agency practitioner for Police, which was
    asked for information on 3 Mar 2026". No query for the hub; for a practitioner, none if
    `requests` holds the enquiry's requests the page has read already (their agency's among
    them), otherwise one."""
    asked_at = None
    if not user.has_role(*firewall.HUB_ROLES) and user.has_role(Role.PRACTITIONER):
        if requests is None:
            asked_at = _asked_at(user, [enquiry.pk]).get(enquiry.pk)
        else:
            asked_at = next(
                (r.requested_at for r in requests if r.agency_id == user.agency_id), None
            )
    return _working_on(user, enquiry.reference, assignee_id=enquiry.assignee_id, asked_at=asked_at)


def record_justifications(user: User, records: Sequence[ShownRecord]) -> dict[int, str]:
    """`justification` for the enquiry of each record, by enquiry id, in one query."""
    enquiry_ids = {record.enquiry_id for record in records}
    if not enquiry_ids:
        return {}
    references = {record.enquiry_id: record.enquiry_reference for record in records}
    if user.has_role(*firewall.HUB_ROLES):
        assignees = dict(
            Enquiry.objects.filter(pk__in=enquiry_ids).values_list("pk", "assignee_id")
        )
        return {
            pk: _working_on(user, references[pk], assignee_id=assignees.get(pk), asked_at=None)
            for pk in enquiry_ids
        }
    asked = _asked_at(user, enquiry_ids)
    return {
        pk: _working_on(user, references[pk], assignee_id=None, asked_at=asked.get(pk))
        for pk in enquiry_ids
    }


# Looks at person-level information.


def _content_seen(records: Sequence[ShownRecord]) -> list[ShownRecord]:
    return [record for record in records if record.is_sensitive and record.content_visible]


def content_view_entries(
    *, user: User, records: Sequence[ShownRecord], channel: str, reason: str | None = None
) -> list[AccessLogEntry]:
    """A VIEW entry for each sensitive record whose content this person is about to see,
    each with the justification for its enquiry unless `reason` gives one for all."""
    seen = _content_seen(records)
    if not seen:
        return []
    reasons = {} if reason is not None else record_justifications(user, seen)
    return [
        entry
        for record in seen
        for entry in access_entries(
            user=user,
            action=Log.VIEW,
            channel=channel,
            records=[record],
            reason=reason if reason is not None else reasons[record.enquiry_id],
        )
    ]


def log_content_views(
    *, user: User, records: Sequence[ShownRecord], channel: str, reason: str | None = None
) -> None:
    """Every sensitive record whose content this person is about to see, in one insert."""
    entries = content_view_entries(user=user, records=records, channel=channel, reason=reason)
    if entries:
        write_access_log(entries)


def log_person_view(
    *,
    user: User,
    channel: str,
    reason: str,
    enquiry: Enquiry | None = None,
    record: ShownRecord | None = None,
    shown: Sequence[ShownRecord] = (),
) -> None:
    """A page or response about one person: a VIEW_PERSON entry for what it is about (the
    enquiry and its subject, or one record and the person it is about), and a VIEW entry
    for each sensitive record in `shown` whose content it shows, in one insert."""
    write_access_log(
        access_entries(
            user=user,
            action=Log.VIEW_PERSON,
            channel=channel,
            records=[record] if record is not None else [],
            enquiry=enquiry,
            person_id=enquiry.subject_id if enquiry is not None else None,
            reason=reason,
        ),
        content_view_entries(user=user, records=shown, channel=channel, reason=reason),
    )


# Searches.


def search_terms(**terms) -> str:
    """What was searched for and the filters, in words: "q: kowalska; rating: red; mine";
    blank and false filters are left out."""
    parts = []
    for name, value in terms.items():
        if value is None or value == "" or value is False:
            continue
        if value is True:
            parts.append(name.replace("_", " "))
        else:
            text = value.isoformat() if isinstance(value, date) else str(value)
            parts.append(f"{name.replace('_', ' ')}: {text}")
    return "; ".join(parts)


def log_search(
    *,
    user: User,
    channel: str,
    doing: str,
    terms: str,
    shown: Sequence[ShownRecord] = (),
) -> None:
    """A search, with what was typed and the filters, and a VIEW entry for each sensitive
    record whose content its results show, in one insert."""
    write_access_log(
        access_entries(
            user=user,
            action=Log.SEARCH,
            channel=channel,
            reason=acting_as(user, doing),
            terms=terms,
        ),
        content_view_entries(user=user, records=shown, channel=channel),
    )


def _register_check_terms(
    *, first_name: str, last_name: str, date_of_birth: date | None = None, nhs_number: str = ""
) -> str:
    return search_terms(
        name=" ".join(f"{first_name} {last_name}".split()),
        born=date_of_birth,
        nhs_number=nhs_number,
    )


def log_register_checks(
    *, user: User, channel: str, checks: Sequence[tuple[Mapping, Sequence[int]]]
) -> None:
    """Checks of the person register at intake, each as (what was typed: first_name,
    last_name, date_of_birth, nhs_number; the ids of the people it showed): one SEARCH entry
    for each person shown, whose details the searcher saw, or one naming nobody; all in one
    insert."""
    if not checks:
        return
    reason = acting_as(user, "Checking the person register at intake")
    write_access_log(
        *(
            access_entries(
                user=user,
                action=Log.SEARCH,
                channel=channel,
                person_ids=people,
                reason=reason,
                terms=_register_check_terms(**typed),
            )
            for typed, people in checks
        )
    )


# Checking it.


def verify_access_log() -> BrokenLink | None:
    """The first entry at which the access log's chain breaks, or None if it holds."""
    return broken_link(AccessLogEntry)


def broken_log_message(link: BrokenLink) -> str:
    return (
        f"The access log has been tampered with: {link}. Entries from there on cannot be "
        "relied on; tell the information governance officer."
    )


@transaction.atomic
def notify_auditors(link: BrokenLink) -> int:
    """Tell every active auditor, once per break; returns how many were told now."""
    message = broken_log_message(link)
    told_already = Notification.objects.filter(
        recipient=OuterRef("pk"), kind=Notification.Kind.LOG_BROKEN, message=message
    )
    auditors = User.objects.filter(is_active=True, groups__name=Role.AUDITOR).exclude(
        Exists(told_already)
    )
    told = Notification.objects.bulk_create(
        Notification(
            recipient=auditor,
            kind=Notification.Kind.LOG_BROKEN,
            message=message,
            created_at=timezone.now(),
        )
        for auditor in auditors.distinct()
    )
    return len(told)


def check_access_log() -> BrokenLink | None:
    link = verify_access_log()
    if link is not None:
        notify_auditors(link)
    return link
