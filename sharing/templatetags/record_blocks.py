"""An information record as the firewall shows it, written out here rather than by an include of
a template: the record search shows fifty, an enquiry's page every record given about it, and
fifty includes, a template variable at a time, were 19 of the search page's 48 ms at 3,000,000
records (bench/pages.py, docs/performance.md). The markup is the one
templates/sharing/_record.html wrote (tests/sharing/test_record_blocks.py); every value is
escaped."""

from collections.abc import Collection, Sequence

from django import template
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe

from core.html import escape
from enquiries.people import links_by_reference
from sharing.firewall import ShownRecord
from sharing.models import ReleaseStatus
from sharing.selectors import link_around_id

register = template.Library()

TAG_COLOURS: dict[str, str] = {ReleaseStatus.RELEASED: "green", ReleaseStatus.REFUSED: "red"}


def _hidden(text: str) -> str:
    return f'<span class="govuk-visually-hidden">{text}</span>'


def record_markup(
    record: ShownRecord,
    actions: Collection[str] | None = None,
    heading_level: int = 4,
    *,
    around: tuple[str, str] | None = None,
) -> str:
    """One record: who holds it, about whom and when, its tags, then its content if this
    person may read it, else its signpost (or, withdrawn, where its history is); and a link to
    release or refuse it for those who may. `actions` are `firewall.Action` names; `around`
    the record page's address around an id (`link_around_id`), read once for a list."""
    actions = actions or ()
    before, after = around or link_around_id("sharing-record")
    link = escape(f"{before}{record.pk}{after}")
    agency, person = escape(record.agency_name), escape(record.person_name)
    recorded = (
        dateformat.format(record.information_date, "j M Y") if record.information_date else ""
    )
    tags = ""
    if record.is_sensitive:
        colour = TAG_COLOURS.get(record.release_status, "purple")
        label = (
            "Sensitive"
            if record.release_status == ReleaseStatus.NOT_REQUESTED
            else escape(record.release_status_label)
        )
        tags += f' <strong class="govuk-tag govuk-tag--{colour}">{label}</strong>'
    if record.is_withdrawn:
        tags += ' <strong class="govuk-tag govuk-tag--grey">Withdrawn</strong>'
    if record.added_after_withdrawal:
        tags += (
            ' <strong class="govuk-tag govuk-tag--orange" data-testid="added-after-withdrawal">'
            "Added after the request was withdrawn</strong>"
        )
    parts = [
        f'<div class="mash-record{" mash-record--signpost" if record.is_signpost else ""}" '
        f'data-testid="record-{record.pk}">',
        '<p class="govuk-body-s govuk-!-margin-bottom-1">'
        f"<strong>{agency}</strong> about {person}, recorded {escape(recorded)}{tags}</p>",
    ]
    if record.is_withdrawn:
        parts.append(
            '<p class="govuk-body govuk-!-margin-bottom-1" data-testid="withdrawn">'
            f"{escape(record.withdrawal_notice)}</p>"
        )
    if record.content_visible:
        level = int(heading_level or 4)
        parts.append(
            f'<h{level} class="govuk-heading-s govuk-!-margin-bottom-1">'
            f'<a class="govuk-link" href="{link}">{escape(record.summary)}</a></h{level}>'
            '<p class="govuk-body mash-pre-line govuk-!-margin-bottom-1">'
            f"{escape(record.detail)}</p>"
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f"From {escape(record.source_system)}.</p>"
        )
        if record.conditions:
            parts.append(
                '<div class="govuk-inset-text govuk-!-margin-top-1 govuk-!-margin-bottom-1" '
                'data-testid="conditions"><strong>Conditions on use:</strong> '
                f"{escape(record.conditions)}</div>"
            )
    elif record.is_withdrawn:
        parts.append(
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<a class="govuk-link" href="{link}">See its history'
            f"{_hidden(f' of the withdrawn {agency} record about {person}')}</a></p>"
        )
    else:
        wording = "Request release" if "request release" in actions else "See where this stands"
        parts.append(
            '<p class="govuk-body govuk-!-margin-bottom-1" data-testid="signpost">'
            f"{escape(record.signpost)}</p>"
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<a class="govuk-link" href="{link}">{wording}'
            f"{_hidden(f' of the {agency} record about {person}')}</a></p>"
        )
    if "release" in actions or "refuse" in actions:
        parts.append(
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<a class="govuk-link" href="{link}">Release or refuse'
            f"{_hidden(' this record')}</a></p>"
        )
    parts.append("</div>")
    return "\n".join(parts)


@register.simple_tag
def record_block(
    record: ShownRecord, actions: Collection[str] | None = None, heading_level: int = 4
) -> SafeString:
    return mark_safe(record_markup(record, actions, heading_level))  # noqa: S308 - escaped


@register.simple_tag
def search_results(records: Sequence[ShownRecord]) -> SafeString:
    """The record search's hits: each with its enquiry's reference, linked, above it."""
    start, end = links_by_reference()
    around = link_around_id("sharing-record")
    return mark_safe(  # noqa: S308 - escaped
        "\n".join(
            '<p class="govuk-body-s govuk-!-margin-bottom-0"><a class="govuk-link" '
            f'href="{escape(start)}{escape(record.enquiry_reference)}{escape(end)}">'
            f"{escape(record.enquiry_reference)}</a></p>\n"
            f"{record_markup(record, None, 3, around=around)}"
            for record in records
        )
    )
