"""Sharing's part in the access log (audit.access_log writes it): why someone looked.

The justification for a look is the enquiry worked on and the viewer's part in it, which only
this app knows: the hub works on every enquiry, a practitioner on those their agency was asked
about. `justification` is also what the enquiry pages (in `enquiries`, below) log their views
with, through `enquiries.visibility`, where this app registers it at start-up.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.utils import timezone

from agencies.models import HUB_ROLES, Role, User
from audit import access_log as log
from audit.access_log import (
    access_entries,
    acting_as,
    log_person_view,
    role_labels,
    search_terms,
    write_access_log,
)
from audit.models import AccessLogEntry
from enquiries.models import Enquiry

from .firewall import ShownRecord
from .models import InformationRequest

__all__ = [
    "access_entries",
    "acting_as",
    "content_view_entries",
    "justification",
    "log_content_views",
    "log_person_view",
    "log_search",
    "record_justifications",
    "search_terms",
    "write_access_log",
]


def _day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def _working_on(
    user: User, reference: str, *, assignee_id: int | None, asked_at: datetime | None
) -> str:
    """The enquiry being worked on and the viewer's part in it: the hub works on every
    enquiry, a practitioner on those their agency was asked about (firewall rules)."""
    working = f"Working on {reference}"
    if user.has_role(*HUB_ROLES):
        assigned = " (assigned to them)" if assignee_id == user.pk else ""
        return f"{working} as {role_labels(user, HUB_ROLES)}{assigned}"
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
    if not user.has_role(*HUB_ROLES) and user.has_role(Role.PRACTITIONER):
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
    if user.has_role(*HUB_ROLES):
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


# Lists of records, each looked at for its own enquiry.


def content_view_entries(
    *, user: User, records: Sequence[ShownRecord], channel: str, reason: str | None = None
) -> list[AccessLogEntry]:
    """A VIEW entry for each sensitive record whose content this person is about to see,
    each with the justification for its enquiry unless `reason` gives one for all."""
    if reason is None:
        # Reasons only for the enquiries whose sensitive content is shown (none, no query);
        # every record still passes, so that a first read is noted (sharing.reads).
        seen = log.content_seen_by_enquiry(records)
        chosen = [record for record in records if record.enquiry_id in seen]
        return log.content_view_entries(
            user=user,
            records=records,
            channel=channel,
            reasons=record_justifications(user, chosen),
        )
    return log.content_view_entries(user=user, records=records, channel=channel, reasons=reason)


def log_content_views(
    *, user: User, records: Sequence[ShownRecord], channel: str, reason: str | None = None
) -> None:
    """Every sensitive record whose content this person is about to see, in one insert."""
    entries = content_view_entries(user=user, records=records, channel=channel, reason=reason)
    if entries:
        write_access_log(entries)


def log_search(
    *, user: User, channel: str, doing: str, terms: str, shown: Sequence[ShownRecord] = ()
) -> None:
    """A search, with what was typed and the filters, and a VIEW entry for each sensitive
    record whose content its results show, in one insert."""
    log.log_search(
        user=user,
        channel=channel,
        doing=doing,
        terms=terms,
        viewed=content_view_entries(user=user, records=shown, channel=channel),
    )
