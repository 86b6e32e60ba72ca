"""The triage queue's rows, written out here rather than by the template language: fifty rows
of seven cells cost the page more than everything else it does, a template variable at a time
(bench/queue.py, docs/performance.md "Triage queue"). The markup is the table's as
templates/home/triage_queue.html had it; every value is escaped."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.html import escape
from enquiries.selectors import QueueRow

register = template.Library()

# includes/rag_tag.html's colours.
RAG_COLOURS = {"red": "govuk-tag--red", "amber": "govuk-tag--orange", "green": "govuk-tag--green"}
URGENCY_TAGS = {
    "breached": ("govuk-tag--red", "Breached"),
    "at_risk": ("govuk-tag--orange", "At risk"),
}
NO_URGENCY = ("govuk-tag--orange", "")


def queue_row(row: QueueRow) -> str:
    """One row; under 640 px a card (static/scss: reference, RAG and time left first, the
    other cells labelled from data-label). static/js/countdown.js recounts the time left
    from the last cell's data attributes.

    Escaped by `core.html.escape`, without Django's wrapper: half the row's cost."""
    badges = ""
    if row.escalated:
        badges += ' <strong class="govuk-tag govuk-tag--red">Escalated</strong>'
    if row.new_information:
        badges += (
            ' <strong class="govuk-tag govuk-tag--blue" data-testid="new-information">'
            "New information</strong>"
        )
    urgency_colour, urgency_label = URGENCY_TAGS.get(row.urgency, NO_URGENCY)
    rag_colour = RAG_COLOURS.get(row.rating, "govuk-tag--grey")
    return (
        '<tr class="govuk-table__row">'
        '<td class="govuk-table__cell mash-queue__reference">'
        f'<a class="govuk-link" href="{escape(row.url)}">{escape(row.reference)}</a>{badges}</td>'
        '<td class="govuk-table__cell mash-queue__labelled mash-queue__subject" '
        f'data-label="Subject">{escape(row.subject)}</td>'
        '<td class="govuk-table__cell mash-queue__rag"><strong class="govuk-tag '
        f'{rag_colour}">{escape(row.rating_label)}</strong></td>'
        '<td class="govuk-table__cell mash-queue__labelled" data-label="State">'
        f"{escape(row.state_label)}</td>"
        '<td class="govuk-table__cell mash-queue__labelled" data-label="Assigned to">'
        f"{escape(row.assignee or 'Nobody yet')}</td>"
        '<td class="govuk-table__cell mash-queue__labelled" data-label="Decision due">'
        f"{escape(row.deadline)}</td>"
        '<td class="govuk-table__cell mash-queue__time" data-testid="time-left" data-countdown '
        f'data-remaining="{int(row.sla.remaining)}" data-at-risk="{int(row.at_risk_when_left)}"'
        f"{' data-continuous' if row.continuous else ''}>"
        f"<span data-countdown-text>{escape(row.time_left)}</span> "
        f'<strong class="govuk-tag {urgency_colour}" data-countdown-tag'
        f"{'' if row.urgency else ' hidden'}>{urgency_label}</strong></td>"
        "</tr>"
    )


@register.simple_tag
def queue_rows(rows: list[QueueRow]) -> SafeString:
    """Every row of the page, in one piece."""
    return mark_safe("\n".join(queue_row(row) for row in rows))  # noqa: S308 - escaped above
