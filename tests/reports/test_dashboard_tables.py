"""The dashboard's rows written by reports/templatetags/dashboard_tables.py are, byte for byte,
what templates/reports/_running.html's loops wrote (kept here as they were): every branch of
a row, names that need escaping, one and many of each count, no agency waiting."""

from datetime import datetime

import pytest
from django.template import engines
from django.utils import timezone

from agencies.models import Role
from enquiries.models import Enquiry, Rag
from reports import running
from reports.dashboard import manager_dashboard_figures
from reports.templatetags import dashboard_tables

from .conftest import LONDON
from .test_running import _escalate, agencies_late, manager  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=LONDON)  # a Wednesday

ESCALATIONS_LOOP = """{% for row in escalations %}{% with enquiry=row.enquiry %}
    <tr class="govuk-table__row" data-testid="escalation">
      <td class="govuk-table__cell"><a class="govuk-link" href="{{ enquiry.get_absolute_url }}">{{ enquiry.reference }}</a>: {{ enquiry.subject_name }}</td>
      <td class="govuk-table__cell">{{ enquiry.escalated_at|date:"D j M H:i" }}</td>
      <td class="govuk-table__cell">{{ enquiry.deadline|date:"D j M H:i" }}</td>
      <td class="govuk-table__cell">{% if enquiry.assignee %}{{ enquiry.assignee }}{% else %}<strong class="govuk-tag govuk-tag--red">Nobody</strong>{% endif %}</td>
      <td class="govuk-table__cell" data-testid="acknowledgement">{% if enquiry.escalation_acknowledged_at %}<strong class="govuk-tag govuk-tag--green">Acknowledged</strong> by {{ enquiry.escalation_acknowledged_by }}, {{ enquiry.escalation_acknowledged_at|date:"D j M H:i" }}{% else %}<strong class="govuk-tag govuk-tag--orange">Not acknowledged</strong> {{ row.minutes_waiting }} minute{{ row.minutes_waiting|pluralize }} waiting, {{ row.repeats }} repeat{{ row.repeats|pluralize }} sent{% endif %}</td>
    </tr>
  {% endwith %}{% endfor %}"""  # noqa: E501

AGENCIES_LOOP = """{% for agency in agencies %}
    <tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header"><a class="govuk-link" href="{% url 'dashboard-agency-waiting' agency.agency_id %}">{{ agency.name }}</a></th>
      <td class="govuk-table__cell govuk-table__cell--numeric">{{ agency.overdue_requests }}</td>
      <td class="govuk-table__cell">{{ agency.oldest_due|date:"D j M H:i"|default:"–" }}</td>
      <td class="govuk-table__cell govuk-table__cell--numeric">{{ agency.releases_waiting }}</td>
      <td class="govuk-table__cell">{{ agency.oldest_release_asked|date:"D j M H:i"|default:"–" }}</td>
    </tr>
  {% empty %}
    <tr class="govuk-table__row"><td class="govuk-table__cell" colspan="5">No agency is late, and no release is waiting.</td></tr>
  {% endfor %}"""  # noqa: E501

WEEKS_LOOP = """{% for week in weeks %}
        <tr class="govuk-table__row">
          <th scope="row" class="govuk-table__header">{{ week.week|date:"j M" }}</th>
          {% for share in week.by_rag.values %}<td class="govuk-table__cell govuk-table__cell--numeric">{% if share is None %}–{% else %}{{ share }}%{% endif %}</td>{% endfor %}
          <td class="govuk-table__cell govuk-table__cell--numeric">{{ week.on_time }} of {{ week.decided }}</td>
        </tr>
      {% endfor %}"""  # noqa: E501


def _as_the_loop_wrote(loop: str, figures: dict) -> str:
    return engines["django"].from_string(loop).render(figures)


@pytest.fixture
def busy_hub(make_enquiry, make_user, manager, agencies_late):  # noqa: F811 - fixtures
    """Escalations of every kind (held and not, acknowledged and waiting, one and two
    repeats, a name to escape), agencies waiting, and weeks of decisions with a share."""
    rosa = make_user(Role.RESEARCHER, first_name="Rosa <&>", last_name="O'Reid")
    acknowledger = make_user(Role.MANAGER, first_name="", last_name="", username="ack&co")
    for hour in range(8, 12):
        enquiry = make_enquiry(f"2026-03-18 {hour:02d}:00", rating=Rag.RED)
        Enquiry.objects.filter(pk=enquiry.pk).update(assignee=rosa if hour % 2 else None)
        _escalate(
            enquiry,
            f"2026-03-18 {hour:02d}:{'59' if hour == 11 else '05'}",
            acknowledged=(acknowledger, f"2026-03-18 {hour:02d}:10") if hour < 10 else None,
            repeats=[manager, acknowledger][: hour % 2 + 1],
        )
    for day in range(2, 18, 3):
        make_enquiry(
            f"2026-03-{day:02d} 09:00", rating=Rag.AMBER, decided=f"2026-03-{day:02d} 10:00"
        )
        make_enquiry(
            f"2026-03-{day:02d} 09:00", rating=Rag.RED, decided=f"2026-03-{day + 1:02d} 16:00"
        )


def test_each_row_is_what_the_loop_wrote(busy_hub, manager):  # noqa: F811 - the fixture
    with timezone.override(LONDON):
        figures = manager_dashboard_figures(now=NOW, user=manager)
        assert len(figures["escalations"]) == 4 and figures["agencies"] and figures["weeks"]
        assert any(
            share is not None for week in figures["weeks"] for share in week["by_rag"].values()
        )

        assert dashboard_tables.escalation_rows(figures["escalations"]) == _as_the_loop_wrote(
            ESCALATIONS_LOOP, figures
        )
        assert dashboard_tables.agency_rows(figures["agencies"]) == _as_the_loop_wrote(
            AGENCIES_LOOP, figures
        )
        assert dashboard_tables.week_rows(figures["weeks"]) == _as_the_loop_wrote(
            WEEKS_LOOP, figures
        )
    html = dashboard_tables.escalation_rows(figures["escalations"])
    assert "Rosa &lt;&amp;&gt; O&#x27;Reid" in html and "by ack&amp;co" in html
    assert "1 minute waiting, 2 repeats sent" in html and "repeat sent" in html


def test_no_agency_waiting_is_said_as_the_loop_said_it():
    assert dashboard_tables.agency_rows([]) == _as_the_loop_wrote(AGENCIES_LOOP, {"agencies": []})


def test_an_agency_without_a_time_shows_a_dash():
    agencies = [running.AgencyWaiting(3, "A & B", 0, None, 2, NOW)]
    with timezone.override(LONDON):
        assert dashboard_tables.agency_rows(agencies) == _as_the_loop_wrote(
            AGENCIES_LOOP, {"agencies": agencies}
        )
