"""The access log: writing it, and checking its chain.

Every look at person-level or agency information, every search, export and read of the logs,
and every change to who may see what is appended here, with who, their roles and agency, when,
from which address and request, about which record, person, enquiry or account, and why
(DPA 2018 s.62). `log_access` is the one writer: it fills in everything a caller could forget.
The apps above say why someone looked (sharing.access_log's justifications); this module
writes it down.

The role the app runs as cannot change the log (mash.database_roles), but whoever owns the
tables can. An owner's edit, deletion or insertion breaks the hash chain (core.append_only)
at that entry, and the hourly check (`check_access_log`) announces it with `log_broken`, on
which the notifications tell every auditor.
"""

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from django.dispatch import Signal
from django.utils import timezone

from agencies.models import HUB_ROLES, Role, User
from core.append_only import BrokenLink, broken_link
from core.request_context import client_address, current_request

from .models import AccessLogEntry

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel

# link: the BrokenLink; sent by `check_access_log` for each check that finds a break.
log_broken = Signal()


class Logged(Protocol):
    """A record as the access log names it: any object with these (a shown record or a row)."""

    @property
    def pk(self) -> int: ...

    @property
    def enquiry_id(self) -> int: ...

    @property
    def person_id(self) -> int: ...


class Seen(Logged, Protocol):
    @property
    def is_sensitive(self) -> bool: ...

    @property
    def content_visible(self) -> bool: ...


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
    records: Iterable[Logged] = (),
    enquiry=None,
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


# Why: the words of the log.


def role_labels(user: User, roles: Iterable[str]) -> str:
    held = user.roles
    return " and ".join(Role(role).label for role in Role if role in roles and role in held)


def acting_as(user: User, doing: str) -> str:
    """What the person was doing and in which role, for a search, an export or a read of
    the logs: "Searching the triage queue as Researcher"."""
    if user.has_role(*HUB_ROLES):
        return f"{doing} as {role_labels(user, HUB_ROLES)}"
    if user.has_role(Role.PRACTITIONER):
        return f"{doing} as {Role.PRACTITIONER.label} for {user.agency.name}"
    return f"{doing} as {role_labels(user, Role.values) or 'no role'}"


# Looks at person-level information.


def _content_seen(records: Sequence[Seen]) -> list[Seen]:
    return [record for record in records if record.is_sensitive and record.content_visible]


# Who hears of every list of records whose content is about to be shown, sensitive or not:
# what a first read means belongs to the app that owns the records (sharing.reads).
ContentShown = Callable[[User, Sequence[Seen]], None]
_content_shown: list[ContentShown] = []


def on_content_shown(listener: ContentShown) -> None:
    """Register `listener(user, records)`, once, at start-up."""
    if listener not in _content_shown:
        _content_shown.append(listener)


def content_shown(*, user: User, records: Sequence[Seen]) -> None:
    """Records whose content (where `content_visible`) this person is about to see. Every
    page, download and API answer that shows records passes here, through
    `content_view_entries` or, for a download of a person's page, directly."""
    shown = [record for record in records if record.content_visible]
    if shown:
        for listener in _content_shown:
            listener(user, shown)


def content_view_entries(
    *, user: User, records: Sequence[Seen], channel: str, reasons: str | Mapping[int, str]
) -> list[AccessLogEntry]:
    """A VIEW entry for each sensitive record whose content this person is about to see,
    with `reasons`: one for all, or by enquiry id. Whoever listens (`on_content_shown`)
    hears of every record shown, sensitive or not."""
    content_shown(user=user, records=records)
    seen = _content_seen(records)
    if not seen:
        return []
    # One call for the list, so that who, when and where are worked out once, not per record.
    entries = access_entries(
        user=user,
        action=Log.VIEW,
        channel=channel,
        records=seen,
        reason=reasons if isinstance(reasons, str) else "",
    )
    if not isinstance(reasons, str):
        for entry, record in zip(entries, seen, strict=True):
            entry.reason = reasons[record.enquiry_id]
    return entries


def content_seen_by_enquiry(records: Sequence[Seen]) -> set[int]:
    """The enquiries whose records' content a list shows: those whose reasons are needed."""
    return {record.enquiry_id for record in _content_seen(records)}


def log_person_view(
    *,
    user: User,
    channel: str,
    reason: str,
    enquiry=None,
    record: Logged | None = None,
    shown: Sequence[Seen] = (),
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
        content_view_entries(user=user, records=shown, channel=channel, reasons=reason),
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
    viewed: Sequence[AccessLogEntry] = (),
) -> None:
    """A search, with what was typed and the filters, and the VIEW entries (`viewed`, from
    `content_view_entries`) of what its results show, in one insert."""
    write_access_log(
        access_entries(
            user=user,
            action=Log.SEARCH,
            channel=channel,
            reason=acting_as(user, doing),
            terms=terms,
        ),
        list(viewed),
    )


def _register_check_terms(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None = None,
    nhs_number: str = "",
    approximate_age: int | None = None,
) -> str:
    return search_terms(
        name=" ".join(f"{first_name} {last_name}".split()),
        born=date_of_birth,
        age=approximate_age,
        nhs_number=nhs_number,
    )


def log_register_checks(
    *, user: User, channel: str, checks: Sequence[tuple[Mapping, Sequence[int]]]
) -> None:
    """Checks of the person register at intake, each as (what was typed: first_name,
    last_name, date_of_birth, nhs_number, approximate_age; the ids of the people it showed):
    one SEARCH entry for each person shown, whose details the searcher saw, or one naming
    nobody; all in one insert."""
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


def check_access_log() -> BrokenLink | None:
    """Verify the chain; on a break, announce it (`log_broken`) so auditors are told."""
    link = verify_access_log()
    if link is not None:
        log_broken.send(sender=AccessLogEntry, link=link)
    return link
