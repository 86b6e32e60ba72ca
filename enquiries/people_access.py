"""What the access log says of people search and the person page, for the pages and the API
alike: each search with whom it showed, each look at or download of a person's page with the
sensitive records whose content it carried."""

from collections.abc import Sequence

from agencies.models import User
from audit import access_log
from audit.models import AccessLogEntry

from . import people
from .models import Person

Log = AccessLogEntry.Action


def log_people_search(
    *,
    user: User,
    channel: str,
    terms: str,
    found: Sequence[people.FoundPerson],
    doing: str = "Searching for people",
) -> None:
    """A search of the register: one entry for each person it showed, or one naming nobody,
    with what was typed (`terms`, from `access_log.search_terms`)."""
    access_log.write_access_log(
        access_log.access_entries(
            user=user,
            action=Log.SEARCH,
            channel=channel,
            person_ids=[result.person.pk for result in found],
            reason=access_log.acting_as(user, doing),
            terms=terms,
        )
    )


def log_person_page(
    *, user: User, channel: str, person: Person, shown: Sequence, action: str = Log.VIEW_PERSON
) -> None:
    """A look at (or, with `action` EXPORT, a download of) a person's page: one entry for the
    person, and one for each sensitive record whose content its chronology shows, in one
    insert."""
    reason = access_log.acting_as(user, f"Looking at the person page of {person}")
    content = [record for record in shown if record.is_sensitive and record.content_visible]
    if action == Log.VIEW_PERSON:
        about_records = access_log.content_view_entries(
            user=user, records=shown, channel=channel, reasons=reason
        )
    else:
        access_log.content_shown(user=user, records=shown)
        about_records = (
            access_log.access_entries(
                user=user, action=action, channel=channel, records=content, reason=reason
            )
            if content
            else []
        )
    access_log.write_access_log(
        access_log.access_entries(
            user=user, action=action, channel=channel, person_id=person.pk, reason=reason
        ),
        about_records,
    )
