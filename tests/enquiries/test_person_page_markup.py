"""The person page's lists as enquiries/templatetags/person_page.py writes them read as
templates/people/person.html wrote them before the tags took over: the same elements, text and
attributes, hostile values escaped alike (names, agencies' text, a time in summer)."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

from django.template import Context, Template

from enquiries.hooks import ChronologyEntry
from enquiries.models import Enquiry, EnquiryPerson, Outcome, Person
from enquiries.people import ChronologyLine
from enquiries.templatetags.person_page import chronology_items, person_parts

HOSTILE = "<script>alert('x')</script> & \"quoted\""

# The loops as templates/people/person.html had them until the tags took over.
PARTS_AS_THE_TEMPLATE_WROTE_THEM = Template(
    """  {% for part in parts %}
    <tr class="govuk-table__row">
      <td class="govuk-table__cell"><a class="govuk-link" href="{{ enquiry_link.0 }}{{ part.enquiry.reference }}{{ enquiry_link.1 }}">{{ part.enquiry.reference }}</a>{% if part.enquiry.subject_id != person.pk %}<br><span class="govuk-body-s">about {{ part.enquiry.subject_name }}</span>{% endif %}</td>
      <td class="govuk-table__cell">{{ part.enquiry.received_at|date:"j M Y" }}</td>
      <td class="govuk-table__cell">{{ part.get_role_display }}</td>
      <td class="govuk-table__cell">{% comment %}includes/rag_tag.html, inlined: an include a row costs more than the row.{% endcomment %}{% with rating=part.enquiry.rating %}<strong class="govuk-tag {% if rating == 'red' %}govuk-tag--red{% elif rating == 'amber' %}govuk-tag--orange{% elif rating == 'green' %}govuk-tag--green{% else %}govuk-tag--grey{% endif %}">{{ part.enquiry.get_rating_display }}</strong>{% endwith %}</td>
      <td class="govuk-table__cell">{{ part.enquiry.get_state_display }}</td>
      <td class="govuk-table__cell">{{ part.enquiry.outcome|default:"Not decided" }}</td>
    </tr>
  {% endfor %}"""  # noqa: E501 - the template's own lines
)
LINES_AS_THE_TEMPLATE_WROTE_THEM = Template(
    """  {% for line in lines %}{% with entry=line.entry %}
  <li class="govuk-!-margin-bottom-4" data-kind="{{ entry.kind }}">
    <p class="govuk-body-s govuk-!-margin-bottom-1">{{ line.when }} · <a class="govuk-link" href="{{ line.address }}">{{ line.reference }}</a>{% if entry.by %} · {{ entry.by }}{% endif %}</p>
    <p class="govuk-body govuk-!-font-weight-bold govuk-!-margin-bottom-1">{{ entry.title }}</p>
    {% if entry.text %}<p class="govuk-body mash-pre-line{% if entry.shown and entry.shown.is_signpost %} govuk-inset-text{% endif %}">{{ entry.text }}</p>{% endif %}
  </li>
  {% endwith %}{% endfor %}"""  # noqa: E501 - the template's own lines
)
LINK = ("/enquiries/", "/")


def same_markup(html: str) -> str:
    """Whitespace between elements, at the end of a block and in runs in text as a browser
    lays them out: the template's line breaks and indents, which the tags do not copy."""
    html = re.sub(r"\s+(</(?:p|li|td)>)", r"\1", re.sub(r">\s+<", "><", html))
    return re.sub(r"\s+", " ", html).strip()


def parts() -> tuple[Person, list[EnquiryPerson]]:
    """Their own enquiry, decided, in summer; another's about someone else, open, unrated;
    one imported with nobody named."""
    person = Person(pk=5, first_name="Amy", last_name=HOSTILE)
    other = Person(pk=6, first_name="Ben", last_name=f"Cole {HOSTILE}")
    own = Enquiry(
        reference="MASH-2026-000017",
        received_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC),  # 2 July in London
        rating="red",
        state=Enquiry.State.DECIDED,
        subject=person,
    )
    own.outcome = Outcome(code="nfa", name=f"No further action {HOSTILE}")
    theirs = Enquiry(
        reference="MASH-2026-000018",
        received_at=datetime(2026, 1, 5, 9, 4, tzinfo=UTC),
        rating="",
        state=Enquiry.State.SCREENING,
        subject=other,
    )
    imported = Enquiry(
        reference="MASH-2026-000019",
        received_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the clocks went forward
        rating="amber",
        state=Enquiry.State.RESEARCHING,
    )
    roles = [EnquiryPerson.Role.SUBJECT, EnquiryPerson.Role.SIBLING, EnquiryPerson.Role.OTHER]
    return person, [
        EnquiryPerson(enquiry=enquiry, person=person, role=role)
        for enquiry, role in zip([own, theirs, imported], roles, strict=True)
    ]


def line(**entry) -> ChronologyLine:
    """An entry on the enquiry the person was received in, on the night of 1-2 July."""
    at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    return ChronologyLine(
        ChronologyEntry(at=at, enquiry_id=1, **entry),
        "MASH-2026-000017",
        "/enquiries/MASH-2026-000017/",
        "Thu 2 Jul 2026, 00:30",
    )


def lines() -> list[ChronologyLine]:
    """What was said, with who logged it; a record signposted; a record read; a decision."""
    return [
        line(
            kind="received",
            title="Received",
            text=f"Said {HOSTILE}\nsecond line",
            by=f"Rosa {HOSTILE}",
        ),
        line(
            kind="record",
            title=f"Police {HOSTILE}",
            text=f"Ask {HOSTILE}",
            shown=SimpleNamespace(is_signpost=True),
        ),
        line(kind="record", title="Health", text="Seen", shown=SimpleNamespace(is_signpost=False)),
        line(kind="decided", title="Decided"),
    ]


def test_the_enquiries_naming_them_read_as_the_template_wrote_them():
    person, named = parts()
    context = Context({"parts": named, "person": person, "enquiry_link": LINK})

    html = person_parts(named, person, LINK)

    assert same_markup(html) == same_markup(PARTS_AS_THE_TEMPLATE_WROTE_THEM.render(context))
    assert "<script>" not in html
    assert "2 Jul 2026" in html  # the hub's day, in summer time
    assert html.count("<tr ") == 3


def test_a_page_of_the_chronology_reads_as_the_template_wrote_it():
    shown = lines()

    html = chronology_items(shown)

    assert same_markup(html) == same_markup(
        LINES_AS_THE_TEMPLATE_WROTE_THEM.render(Context({"lines": shown}))
    )
    assert "<script>" not in html
    assert "second line" in html and "\nsecond line" in html  # kept for pre-line
    assert html.count("govuk-inset-text") == 1
