"""An information record as sharing/templatetags/record_blocks.py writes it reads as
templates/sharing/_record.html wrote it before the tag took over: the same elements, text and
attributes, hostile values escaped alike, whatever the record's state, the reader's actions
and the heading's level."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from sharing.firewall import ShownRecord
from sharing.models import ReleaseStatus, Sensitivity
from sharing.templatetags.record_blocks import record_markup, search_results

pytestmark = pytest.mark.django_db  # reverse() reads the hub's urls only; no rows

HOSTILE = "<script>alert('x')</script> & \"quoted\""

# The include as templates/sharing/_record.html was until the tag took over.
AS_THE_TEMPLATE_WROTE_IT = Template(
    """{% comment %}One information record as the firewall shows it to this person: `record` is a
ShownRecord, `actions` what they may do with it, `heading_level` its summary's (4 unless given,
under an agency's h3). Signposted records carry no content to show.{% endcomment %}
<div class="mash-record{% if record.is_signpost %} mash-record--signpost{% endif %}" data-testid="record-{{ record.pk }}">
  <p class="govuk-body-s govuk-!-margin-bottom-1">
    <strong>{{ record.agency_name }}</strong> about {{ record.person_name }}, recorded {{ record.information_date|date:"j M Y" }}
    {% if record.is_sensitive %}<strong class="govuk-tag govuk-tag--{% if record.release_status == 'released' %}green{% elif record.release_status == 'refused' %}red{% else %}purple{% endif %}">{% if record.release_status == "not_requested" %}Sensitive{% else %}{{ record.release_status_label }}{% endif %}</strong>{% endif %}
    {% if record.is_withdrawn %}<strong class="govuk-tag govuk-tag--grey">Withdrawn</strong>{% endif %}
    {% if record.added_after_withdrawal %}<strong class="govuk-tag govuk-tag--orange" data-testid="added-after-withdrawal">Added after the request was withdrawn</strong>{% endif %}
  </p>
  {% if record.is_withdrawn %}<p class="govuk-body govuk-!-margin-bottom-1" data-testid="withdrawn">{{ record.withdrawal_notice }}</p>{% endif %}
  {% if record.content_visible %}
    <h{{ heading_level|default:4 }} class="govuk-heading-s govuk-!-margin-bottom-1"><a class="govuk-link" href="{% url 'sharing-record' record.pk %}">{{ record.summary }}</a></h{{ heading_level|default:4 }}>
    <p class="govuk-body mash-pre-line govuk-!-margin-bottom-1">{{ record.detail }}</p>
    <p class="govuk-body-s govuk-!-margin-bottom-1">From {{ record.source_system }}.</p>
    {% if record.conditions %}<div class="govuk-inset-text govuk-!-margin-top-1 govuk-!-margin-bottom-1" data-testid="conditions"><strong>Conditions on use:</strong> {{ record.conditions }}</div>{% endif %}
  {% elif record.is_withdrawn %}
    <p class="govuk-body-s govuk-!-margin-bottom-1"><a class="govuk-link" href="{% url 'sharing-record' record.pk %}">See its history<span class="govuk-visually-hidden"> of the withdrawn {{ record.agency_name }} record about {{ record.person_name }}</span></a></p>
  {% else %}
    <p class="govuk-body govuk-!-margin-bottom-1" data-testid="signpost">{{ record.signpost }}</p>
    <p class="govuk-body-s govuk-!-margin-bottom-1"><a class="govuk-link" href="{% url 'sharing-record' record.pk %}">{% if "request release" in actions %}Request release{% else %}See where this stands{% endif %}<span class="govuk-visually-hidden"> of the {{ record.agency_name }} record about {{ record.person_name }}</span></a></p>
  {% endif %}
  {% if "release" in actions or "refuse" in actions %}
    <p class="govuk-body-s govuk-!-margin-bottom-1"><a class="govuk-link" href="{% url 'sharing-record' record.pk %}">Release or refuse<span class="govuk-visually-hidden"> this record</span></a></p>
  {% endif %}
</div>"""  # noqa: E501 - the template's own lines
)

CONTENT = ShownRecord(
    pk=13,
    enquiry_id=17,
    enquiry_reference="MASH-2026-000017",
    request_id=19,
    agency_id=3,
    agency_name=f"Police {HOSTILE}",
    person_id=11,
    person_name=f"Amy {HOSTILE}",
    information_date=date(2025, 10, 1),
    recorded_at=datetime(2025, 10, 2, 9, 0, tzinfo=UTC),
    sensitivity=Sensitivity.SENSITIVE,
    release_status=ReleaseStatus.RELEASED,
    content_visible=True,
    summary=f"Summary {HOSTILE}",
    detail=f"Detail {HOSTILE}\nsecond line\n\nafter a blank line",
    source_system=f"Niche {HOSTILE}",
    conditions=f"Only for the strategy discussion {HOSTILE}",
)
SIGNPOST = replace(
    CONTENT,
    release_status=ReleaseStatus.NOT_REQUESTED,
    content_visible=False,
    summary="",
    detail="",
    source_system="",
    conditions="",
)
RECORDS = {
    "released, with conditions": CONTENT,
    "its agency's own, sensitive": replace(
        CONTENT, release_status=ReleaseStatus.NOT_REQUESTED, conditions=""
    ),
    "release asked": replace(CONTENT, release_status=ReleaseStatus.REQUESTED),
    "refused, read by its agency": replace(CONTENT, release_status=ReleaseStatus.REFUSED),
    "not sensitive": replace(
        CONTENT, sensitivity=Sensitivity.NON_SENSITIVE, release_status=ReleaseStatus.NOT_REQUESTED
    ),
    "a signpost": SIGNPOST,
    "a signpost, refused": replace(SIGNPOST, release_status=ReleaseStatus.REFUSED),
    "withdrawn, to others": replace(
        SIGNPOST,
        withdrawn_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC),  # 2 July in London
        withdrawal_reason=f"Given in error {HOSTILE}",
    ),
    "withdrawn, to its agency": replace(
        CONTENT, withdrawn_at=datetime(2026, 1, 5, 9, 4, tzinfo=UTC), withdrawal_reason=""
    ),
    "given after the request was withdrawn": replace(CONTENT, added_after_withdrawal=True),
}
ACTIONS = {
    "none": None,
    "may ask for release": ["request release"],
    "may release or refuse": ["release", "refuse"],
}


def same_markup(html: str) -> str:
    """Whitespace between elements, at the end of a block and in runs in text as a browser
    lays them out: the template's line breaks and indents, which the tag does not copy."""
    html = re.sub(r"\s+(</(?:p|div|h\d)>)", r"\1", re.sub(r">\s+<", "><", html))
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("state", RECORDS)
@pytest.mark.parametrize("actions", ACTIONS)
@pytest.mark.parametrize("heading_level", [None, 2, 3])
def test_a_record_reads_as_the_include_wrote_it(state, actions, heading_level):
    record = RECORDS[state]
    context = {"record": record, "actions": ACTIONS[actions]}
    if heading_level is not None:
        context["heading_level"] = heading_level

    tag = record_markup(record, ACTIONS[actions], heading_level)

    assert same_markup(tag) == same_markup(AS_THE_TEMPLATE_WROTE_IT.render(Context(context)))
    assert "<script>" not in tag
    if record.content_visible:
        # Its own line breaks kept for the pre-line paragraph, as the template kept them.
        assert "second line\n\nafter a blank line" in tag


def test_each_hit_of_a_search_comes_under_its_enquirys_reference():
    html = search_results([CONTENT, SIGNPOST])

    assert html.count('<a class="govuk-link" href="/enquiries/MASH-2026-000017/">') == 2
    assert html.count('class="govuk-heading-s govuk-!-margin-bottom-1"') == 1  # one readable
    assert "<h3 " in html
    assert "<script>" not in html
