"""The access log's rows on the auditor's page, written out here rather than by the template
language: fifty entries of nine cells, a template variable at a time, took about 4 ms of the
page's 34 at ten million entries (bench/pages.py, docs/performance.md). The markup is the
table's as templates/home/audit_log.html had it; every value is escaped."""

from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe

from audit.models import AccessLogEntry
from core.html import escape

register = template.Library()

NONE = "–"
CELL = '<td class="govuk-table__cell">'


def _or_none(value: object) -> str:
    return escape(value) if value else NONE


def access_log_row(entry: AccessLogEntry, *, audit_url: str) -> str:
    """One entry, as `{{ entry.at|date:"j M Y H:i" }}` and the rest of the old cells wrote it,
    the time in the hub's zone."""
    when = dateformat.format(timezone.localtime(entry.at), "j M Y H:i")
    agency = entry.agency.name if entry.agency_id else ""
    role = f'<br><span class="govuk-body-s">{escape(entry.role)}</span>' if entry.role else ""
    person = NONE
    if entry.person_id:
        person = (
            f'<a class="govuk-link" href="{escape(audit_url)}?person={entry.person_id}" '
            f'title="Everything logged about this person">{escape(entry.person)}</a> '
            f"({entry.person_id})"
        )
    record = NONE
    if entry.record is not None:
        record = f"{entry.record_id} ({escape(entry.record.agency.name)})"
    enquiry = entry.enquiry.reference if entry.enquiry is not None else ""
    request = (
        f'<br><span class="govuk-body-s">request {escape(entry.request_id)}</span>'
        if entry.request_id
        else ""
    )
    return (
        '<tr class="govuk-table__row">'
        f"{CELL}{escape(when)}</td>"
        f"{CELL}{escape(entry.user)} ({escape(agency)}){role}</td>"
        f"{CELL}{escape(entry.get_action_display())}<br>"
        f'<span class="govuk-body-s">{escape(entry.get_channel_display())}</span></td>'
        f"{CELL}{person}</td>"
        f"{CELL}{record}</td>"
        f"{CELL}{_or_none(enquiry)}</td>"
        f"{CELL}{_or_none(entry.reason)}</td>"
        f"{CELL}{_or_none(entry.terms)}</td>"
        f"{CELL}{_or_none(entry.address)}{request}</td>"
        "</tr>"
    )


@register.simple_tag
def access_log_rows(entries: Iterable[AccessLogEntry]) -> SafeString:
    """Every row of the page, in one piece."""
    audit_url = reverse("audit-log")
    rows = (access_log_row(entry, audit_url=audit_url) for entry in entries)
    return mark_safe("\n".join(rows))  # noqa: S308 - escaped above
