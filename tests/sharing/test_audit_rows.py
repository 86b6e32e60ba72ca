"""The access log's rows on the auditor's page (mash/templatetags/audit_tables.py) read exactly as
the template language wrote them before the tag took over, hostile values escaped alike."""

import re
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from agencies.models import Agency, User
from audit.models import AccessLogEntry
from enquiries.models import Enquiry, Person
from mash.templatetags.audit_tables import access_log_rows
from sharing.models import InformationRecord

HOSTILE = "<script>alert('x')</script> & \"quoted\""

# The table's body as templates/home/audit_log.html wrote it until the tag did.
AS_THE_TEMPLATE_WROTE_IT = Template(
    """{% for entry in rows %}
<tr class="govuk-table__row">
  <td class="govuk-table__cell">{{ entry.at|date:"j M Y H:i" }}</td>
  <td class="govuk-table__cell">{{ entry.user }} ({{ entry.agency.name }}){% if entry.role %}<br><span class="govuk-body-s">{{ entry.role }}</span>{% endif %}</td>
  <td class="govuk-table__cell">{{ entry.get_action_display }}<br><span class="govuk-body-s">{{ entry.get_channel_display }}</span></td>
  <td class="govuk-table__cell">{% if entry.person_id %}<a class="govuk-link" href="{% url 'audit-log' %}?person={{ entry.person_id }}" title="Everything logged about this person">{{ entry.person }}</a> ({{ entry.person_id }}){% else %}–{% endif %}</td>
  <td class="govuk-table__cell">{% if entry.record_id %}{{ entry.record_id }} ({{ entry.record.agency.name }}){% else %}–{% endif %}</td>
  <td class="govuk-table__cell">{{ entry.enquiry.reference|default:"–" }}</td>
  <td class="govuk-table__cell">{{ entry.reason|default:"–" }}</td>
  <td class="govuk-table__cell">{{ entry.terms|default:"–" }}</td>
  <td class="govuk-table__cell">{{ entry.address|default:"–" }}{% if entry.request_id %}<br><span class="govuk-body-s">request {{ entry.request_id }}</span>{% endif %}</td>
</tr>
{% endfor %}"""  # noqa: E501 - the template's own lines
)


def entries() -> list[AccessLogEntry]:
    """Unsaved entries, their related rows in memory: one with every cell filled (hostile
    text wherever a person could write it, in summer time), one with every cell empty."""
    police = Agency(pk=3, name=f"Police {HOSTILE}")
    health = Agency(pk=4, name=f"Health {HOSTILE}")
    full = AccessLogEntry(
        at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC),  # 00:30 on 2 July in London
        action=AccessLogEntry.Action.VIEW,
        channel=AccessLogEntry.Channel.API,
        role=f"practitioner {HOSTILE}",
        reason=f"Why {HOSTILE}",
        terms=f"name: {HOSTILE}",
        address="203.0.113.9",
        request_id=f"req-{HOSTILE}",
    )
    full.user = User(pk=7, username="pc", first_name="Pat", last_name=f"O'Neil {HOSTILE}")
    full.agency = police
    full.person = Person(pk=11, first_name="Amy", last_name=HOSTILE)
    full.record = InformationRecord(pk=13, agency=health)
    full.enquiry = Enquiry(pk=17, reference="MASH-2026-000017")
    empty = AccessLogEntry(
        at=datetime(2026, 1, 5, 9, 4, tzinfo=UTC),
        action=AccessLogEntry.Action.SEARCH,
        channel=AccessLogEntry.Channel.SEARCH,
    )
    empty.user = User(pk=8, username="nobody-named")
    return [full, empty]


def rows_of(html: str) -> list[str]:
    return [re.sub(r">\s+<", "><", row).strip() for row in html.split("</tr>") if "<td" in row]


@pytest.mark.parametrize("zone", ["Europe/London", "UTC"])
def test_each_row_reads_as_the_template_wrote_it(settings, zone):
    settings.TIME_ZONE = zone
    shown = entries()

    written = rows_of(access_log_rows(shown))

    assert written == rows_of(AS_THE_TEMPLATE_WROTE_IT.render(Context({"rows": shown})))
    assert "<script>" not in "".join(written)
    full, empty = written
    if zone == "Europe/London":
        assert "2 Jul 2026 00:30" in full
    assert f'href="{reverse("audit-log")}?person=11"' in full
    assert empty.count(">–<") == 6  # person, record, enquiry, reason, terms, from
