"""The agency inbox's lists, written out here rather than by the template language: its open
requests, the records awaiting a release decision (a hundred at a million enquiries) and what
was answered and withdrawn lately cost the page more than all its queries, a template variable
at a time (bench/pages.py, docs/performance.md). The markup is what
templates/home/agency_inbox.html had, to the character; every value is escaped."""

from collections.abc import Sequence

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.html import escape
from sharing.firewall import ShownRecord
from sharing.selectors import InboxLine, OpenRequestLine

register = template.Library()

Link = tuple[str, str]


OVERDUE = ' <strong class="govuk-tag govuk-tag--red">Overdue</strong>'


def _href(link: Link, pk: int) -> str:
    before, after = link
    return f"{escape(before)}{pk}{escape(after)}"


@register.simple_tag
def open_request_rows(lines: Sequence[OpenRequestLine], link: Link) -> SafeString:
    rows = []
    for line in lines:
        chased = f", chased {line.chase_count}×" if line.chase_count else ""
        overdue = OVERDUE if line.overdue else ""
        rows.append(
            '\n    <tr class="govuk-table__row">\n'
            '      <td class="govuk-table__cell"><a class="govuk-link" '
            f'href="{_href(link, line.pk)}">{escape(line.reference)}</a></td>\n'
            f'      <td class="govuk-table__cell">{escape(line.subject_name)}</td>\n'
            f'      <td class="govuk-table__cell">{escape(line.status_label)}{chased}</td>\n'
            f'      <td class="govuk-table__cell">{escape(line.due)}{overdue}</td>\n'
            '      <td class="govuk-table__cell govuk-table__cell--numeric">'
            f"{line.record_count}</td>\n"
            "    </tr>\n    "
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped


@register.simple_tag
def awaiting_release_items(records: Sequence[ShownRecord], link: Link) -> SafeString:
    """Each record with its summary: the page logs the view of each (sharing.access_log)."""
    items = [
        f'\n  <li><a class="govuk-link" href="{_href(link, record.pk)}">'
        f"{escape(record.enquiry_reference)}: {escape(record.summary)}</a> about "
        f"{escape(record.person_name)}</li>\n  "
        for record in records
    ]
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag
def withdrawn_items(lines: Sequence[InboxLine], link: Link) -> SafeString:
    items = [
        f'\n  <li><a class="govuk-link" href="{_href(link, line.request.pk)}">'
        f"{escape(line.request.enquiry.reference)}</a>: "
        f'<strong class="govuk-tag govuk-tag--grey">Withdrawn</strong> {escape(line.when)}: '
        f"{escape(line.request.withdrawal_reason)}</li>\n  "
        for line in lines
    ]
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag
def answered_items(lines: Sequence[InboxLine], link: Link) -> SafeString:
    items = [
        f'\n  <li><a class="govuk-link" href="{_href(link, line.request.pk)}">'
        f"{escape(line.request.enquiry.reference)}</a>: "
        f"{escape(line.request.get_status_display().lower())} {escape(line.when)}, after "
        f"{escape(line.request.response_minutes)} working minutes</li>\n  "
        for line in lines
    ]
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped
