"""The manager dashboard's rows that grow with the hub (open escalations, agencies waiting,
weeks of decisions), written out here rather than by the template language: at a million
enquiries these three loops were most of the page's rendering (about 4 of its 7 ms).

The markup, whitespace included, is what templates/reports/_running.html had in its loops
(tests/reports/test_dashboard_tables.py renders both). Every value goes through what the
template language does to a variable: local time, localized, escaped."""

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

from django import template
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import get_language

from reports.running import AgencyWaiting, OpenEscalation

register = template.Library()


def _text(value: object) -> str:
    """`{{ value }}`. A count is its digits unless numbers are grouped in thousands, without
    the look for the language's separators (most of a row's cost)."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return str(conditional_escape(localize(template_localtime(value))))


def _when(value: datetime | None, default: str = "") -> str:
    """`{{ value|date:"D j M H:i" }}`, or the default for no time: the day's part formatted
    once a day and language, the hour and minute (zero-padded, as H and i are) each time."""
    if value is None:
        return default
    local = template_localtime(value)
    return f"{_day(local.date(), get_language())} {local.hour:02d}:{local.minute:02d}"


@lru_cache(maxsize=512)
def _day(day: date, language: str | None) -> str:
    """`{{ day|date:"D j M" }}` in the language active (the cache's key, not read here)."""
    return str(conditional_escape(date_filter(day, "D j M")))


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def escalation_row(row: OpenEscalation) -> str:
    enquiry = row.enquiry
    if enquiry.assignee:
        assignee = _text(enquiry.assignee)
    else:
        assignee = '<strong class="govuk-tag govuk-tag--red">Nobody</strong>'
    if enquiry.escalation_acknowledged_at:
        acknowledgement = (
            '<strong class="govuk-tag govuk-tag--green">Acknowledged</strong> by '
            f"{_text(enquiry.escalation_acknowledged_by)}, "
            f"{_when(enquiry.escalation_acknowledged_at)}"
        )
    else:
        acknowledgement = (
            '<strong class="govuk-tag govuk-tag--orange">Not acknowledged</strong> '
            f"{_text(row.minutes_waiting)} minute{_plural(row.minutes_waiting)} waiting, "
            f"{_text(row.repeats)} repeat{_plural(row.repeats)} sent"
        )
    return (
        '\n    <tr class="govuk-table__row" data-testid="escalation">\n'
        f'      <td class="govuk-table__cell"><a class="govuk-link" '
        f'href="{_text(enquiry.get_absolute_url())}">{_text(enquiry.reference)}</a>: '
        f"{_text(enquiry.subject_name)}</td>\n"
        f'      <td class="govuk-table__cell">{_when(enquiry.escalated_at)}</td>\n'
        f'      <td class="govuk-table__cell">{_when(enquiry.deadline)}</td>\n'
        f'      <td class="govuk-table__cell">{assignee}</td>\n'
        '      <td class="govuk-table__cell" data-testid="acknowledgement">'
        f"{acknowledgement}</td>\n"
        "    </tr>\n  "
    )


@register.simple_tag
def escalation_rows(rows: Iterable[OpenEscalation]) -> SafeString:
    """The open escalations' rows."""
    return mark_safe("".join(escalation_row(row) for row in rows))  # noqa: S308 - escaped above


def agency_row(agency: AgencyWaiting, url: str) -> str:
    return (
        '\n    <tr class="govuk-table__row">\n'
        '      <th scope="row" class="govuk-table__header"><a class="govuk-link" '
        f'href="{_text(url)}">{_text(agency.name)}</a></th>\n'
        '      <td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{_text(agency.overdue_requests)}</td>\n"
        f'      <td class="govuk-table__cell">{_when(agency.oldest_due, "–")}</td>\n'
        '      <td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{_text(agency.releases_waiting)}</td>\n"
        f'      <td class="govuk-table__cell">{_when(agency.oldest_release_asked, "–")}</td>\n'
        "    </tr>\n  "
    )


@register.simple_tag
def agency_rows(agencies: list[AgencyWaiting]) -> SafeString:
    """The agencies' rows, or the row saying none is waiting."""
    if not agencies:
        return mark_safe(
            '\n    <tr class="govuk-table__row"><td class="govuk-table__cell" colspan="5">'
            "No agency is late, and no release is waiting.</td></tr>\n  "
        )
    return mark_safe(  # noqa: S308 - escaped above
        "".join(
            agency_row(agency, reverse("dashboard-agency-waiting", args=[agency.agency_id]))
            for agency in agencies
        )
    )


def week_row(week: dict) -> str:
    shares = "".join(
        '<td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{'–' if share is None else _text(share) + '%'}</td>"
        for share in week["by_rag"].values()
    )
    return (
        '\n        <tr class="govuk-table__row">\n'
        '          <th scope="row" class="govuk-table__header">'
        f"{conditional_escape(date_filter(week['week'], 'j M'))}</th>\n"
        f"          {shares}\n"
        '          <td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{_text(week['on_time'])} of {_text(week['decided'])}</td>\n"
        "        </tr>\n      "
    )


@register.simple_tag
def week_rows(weeks: list[dict]) -> SafeString:
    """The weeks' rows of the table under the chart."""
    return mark_safe("".join(week_row(week) for week in weeks))  # noqa: S308 - escaped above
