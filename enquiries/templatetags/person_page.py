"""The person page's two long lists, written out here rather than by the template language: the
enquiries naming them (thirty for the bench's child) and a page of fifty chronology entries, a
template variable at a time, were about a third of the page's time (bench/people.py,
docs/performance.md). The markup is what templates/people/person.html wrote
(tests/enquiries/test_person_page_markup.py); every value is escaped."""

from collections.abc import Sequence

from django import template
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe

from core.html import escape
from enquiries.models import Enquiry, EnquiryPerson, Person
from enquiries.people import ChronologyLine
from enquiries.templatetags.queue_table import RAG_COLOURS

register = template.Library()

CELL = '<td class="govuk-table__cell">'


def _part_row(part: EnquiryPerson, person: Person, link: tuple[str, str]) -> str:
    enquiry: Enquiry = part.enquiry
    reference = escape(enquiry.reference)
    about = ""
    if enquiry.subject_id != person.pk:
        about = f'<br><span class="govuk-body-s">about {escape(enquiry.subject_name)}</span>'
    received = dateformat.format(timezone.localtime(enquiry.received_at), "j M Y")
    colour = RAG_COLOURS.get(enquiry.rating, "govuk-tag--grey")
    outcome = escape(enquiry.outcome) if enquiry.outcome else "Not decided"
    return (
        '<tr class="govuk-table__row">'
        f'{CELL}<a class="govuk-link" href="{escape(link[0])}{reference}{escape(link[1])}">'
        f"{reference}</a>{about}</td>"
        f"{CELL}{escape(received)}</td>"
        f"{CELL}{escape(part.get_role_display())}</td>"
        f'{CELL}<strong class="govuk-tag {colour}">'
        f"{escape(enquiry.get_rating_display())}</strong></td>"
        f"{CELL}{escape(enquiry.get_state_display())}</td>"
        f"{CELL}{outcome}</td>"
        "</tr>"
    )


@register.simple_tag
def person_parts(
    parts: Sequence[EnquiryPerson], person: Person, link: tuple[str, str]
) -> SafeString:
    """A row for each enquiry naming `person`: its reference (and whom it is about, if not
    them), when it came, their part, its RAG, its stage and its outcome. `link` is the
    enquiry page's address around a reference (`people.links_by_reference`)."""
    return mark_safe("\n".join(_part_row(part, person, link) for part in parts))  # noqa: S308


def _chronology_item(line: ChronologyLine) -> str:
    entry = line.entry
    by = f" · {escape(entry.by)}" if entry.by else ""
    text = ""
    if entry.text:
        signpost = " govuk-inset-text" if entry.shown and entry.shown.is_signpost else ""
        text = f'<p class="govuk-body mash-pre-line{signpost}">{escape(entry.text)}</p>'
    return (
        f'<li class="govuk-!-margin-bottom-4" data-kind="{escape(entry.kind)}">'
        f'<p class="govuk-body-s govuk-!-margin-bottom-1">{escape(line.when)} · '
        f'<a class="govuk-link" href="{escape(line.address)}">{escape(line.reference)}</a>'
        f"{by}</p>"
        '<p class="govuk-body govuk-!-font-weight-bold govuk-!-margin-bottom-1">'
        f"{escape(entry.title)}</p>"
        f"{text}"
        "</li>"
    )


@register.simple_tag
def chronology_items(lines: Sequence[ChronologyLine]) -> SafeString:
    """Each entry of a page of the chronology: when, its enquiry, by whom, what and its text
    (an agency's record as the firewall shows it: content, or a signpost set apart)."""
    return mark_safe("\n".join(_chronology_item(line) for line in lines))  # noqa: S308
