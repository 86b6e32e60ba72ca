"""HTML typed into any free-text field is shown as the text it is, on every page that shows it
(the enquiry, the queue, the inbox, requests, records, search, notifications, the audit logs,
reports, administration): never as markup. The API returns it as data, unchanged."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from enquiries import services as enquiry_services
from enquiries.models import Enquiry, EnquiryPerson, Outcome, ReferrerType
from enquiries.services import PersonDetails
from sharing import services as sharing_services
from sharing.models import LawfulBasis, Sensitivity
from tests.bad_input.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OPENING = '<i data-x="'


def hostile(label: str) -> str:
    """Markup naming the field it was typed into, so each field's escaping is checked."""
    return f'{OPENING}{label}">{label}</i>'


def fill_every_field_with_html(stage) -> dict[str, object]:
    """An enquiry whose every free-text field, and the names around it, hold markup; it is
    rated, escalated, asked about, answered, released, refused, decided and fed back."""
    hub = stage.hub
    hub.researcher.first_name = hostile("user name")
    hub.researcher.save(update_fields=["first_name"])
    hub.police.name = hostile("agency name")
    hub.police.save(update_fields=["name"])
    first, sibling = enquiry_services.enquiry_intake(
        actor=hub.researcher,
        received_at=timezone.now() - timedelta(minutes=30),
        referrer_name=hostile("referrer name"),
        referrer_organisation=hostile("referrer organisation"),
        referrer_type=ReferrerType.objects.get(code="school"),
        referrer_contact=hostile("referrer contact"),
        subjects=[
            PersonDetails(
                first_name=hostile("first name"),
                last_name=hostile("last name"),
                address=hostile("address"),
            ),
            PersonDetails(first_name="Plain", last_name="Sibling"),
        ],
        others=[
            (
                PersonDetails(first_name=hostile("parent name"), last_name="Carer"),
                EnquiryPerson.Role.PARENT_CARER,
            )
        ],
        subject_type=Enquiry.SubjectType.CHILD,
        concern=hostile("concern"),
        categories=["neglect"],
        consent=Enquiry.Consent.NO,
        consent_reason=hostile("consent reason"),
        lawful_basis="children_act_1989_s47",
    )
    first = enquiry_services.enquiry_rate(
        enquiry=first,
        actor=hub.researcher,
        rating="amber",
        rationale=hostile("rating rationale"),
        expected_version=first.version,
    )
    first = enquiry_services.enquiry_escalate(
        enquiry=first, actor=hub.researcher, reason=hostile("escalation reason")
    )
    (request,) = sharing_services.send_information_requests(
        enquiry=first, actor=hub.researcher, agencies=[hub.police], question=hostile("question")
    )
    records = {}
    for kind, sensitivity in (
        ("open", Sensitivity.NON_SENSITIVE),
        ("released", Sensitivity.SENSITIVE),
        ("refused", Sensitivity.SENSITIVE),
    ):
        records[kind] = sharing_services.add_information_record(
            request=request,
            actor=hub.police_officer,
            person=first.subject,
            summary=hostile(f"{kind} summary"),
            detail=hostile(f"{kind} detail"),
            source_system=hostile(f"{kind} source system"),
            information_date=date(2026, 1, 5),
            sensitivity=sensitivity,
        )
    for kind in ("released", "refused"):
        sharing_services.request_release(
            record_pk=records[kind].pk,
            actor=hub.researcher,
            reason=hostile(f"{kind} release request reason"),
        )
    sharing_services.release_record(
        record_pk=records["released"].pk,
        actor=hub.police_officer,
        reason=hostile("release reason"),
        necessary_and_proportionate=True,
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
        conditions=hostile("conditions"),
        password=PASSWORD,
    )
    sharing_services.refuse_release(
        record_pk=records["refused"].pk, actor=hub.police_officer, reason=hostile("refusal")
    )
    first = enquiry_services.enquiry_decide(
        enquiry=first,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale=hostile("decision rationale"),
        expected_version=first.version,
    )
    enquiry_services.enquiry_record_feedback(
        enquiry=first,
        actor=hub.researcher,
        method=hostile("feedback method"),
        text=hostile("feedback text"),
        expected_version=first.version,
    )
    return {"enquiry": first, "sibling": sibling, "request": request, **records}


LABELS = [
    "user name",
    "agency name",
    "referrer name",
    "referrer organisation",
    "referrer contact",
    "first name",
    "last name",
    "address",
    "parent name",
    "concern",
    "consent reason",
    "rating rationale",
    "escalation reason",
    "question",
    *(
        f"{kind} {field}"
        for kind in ("open", "released", "refused")
        for field in ("summary", "detail", "source system")
    ),
    "released release request reason",
    "refused release request reason",
    "release reason",
    "conditions",
    "refusal",
    "decision rationale",
    "feedback method",
    "feedback text",
]


def pages(stage, made: dict) -> dict[str, str]:
    """Every page that shows any of it, as each person who may see it."""
    researcher = client_for(stage, "researcher", api=False)
    police = client_for(stage, "police_officer", api=False)
    auditor = client_for(stage, "auditor", api=False)
    manager = client_for(stage, "manager", api=False)
    administrator = client_for(stage, "administrator", api=False)
    today = timezone.localdate().isoformat()
    urls = {
        "enquiry": (researcher, made["enquiry"].get_absolute_url(), {}),
        "sibling": (researcher, made["sibling"].get_absolute_url(), {}),
        "queue": (researcher, reverse("triage-queue"), {}),
        "queue searched": (researcher, reverse("triage-queue"), {"q": OPENING}),
        "search": (researcher, reverse("sharing-search"), {"q": "data-x"}),
        "released record": (researcher, reverse("sharing-record", args=[made["released"].pk]), {}),
        "refused record": (police, reverse("sharing-record", args=[made["refused"].pk]), {}),
        "researcher notifications": (researcher, reverse("notifications"), {}),
        "inbox": (police, reverse("agency-inbox"), {}),
        "request": (police, reverse("sharing-request", args=[made["request"].pk]), {}),
        "police notifications": (police, reverse("notifications"), {}),
        "access log": (auditor, reverse("audit-log"), {}),
        "change log": (auditor, reverse("audit-log"), {"log": "changes"}),
        "access log filtered": (auditor, reverse("audit-log"), {"user": hostile("filter")}),
        "dashboard": (manager, reverse("manager-dashboard"), {}),
        "agency report": (
            manager,
            reverse("report", args=["agency-response"]),
            {"start": today, "to": today},
        ),
        "administration": (administrator, reverse("administration"), {}),
    }
    shown = {}
    for name, (client, url, query) in urls.items():
        response = client.get(url, query)
        assert response.status_code == 200, name
        shown[name] = response.content.decode()
    return shown


def test_markup_in_any_field_is_shown_as_text_on_every_page(stage):
    made = fill_every_field_with_html(stage)

    shown = pages(stage, made)

    for name, html in shown.items():
        assert OPENING not in html, f"markup from a field is live on the {name} page"
    everything = "".join(shown.values())
    unseen = [label for label in LABELS if escape(hostile(label)) not in everything]
    assert unseen == [], "fields not shown on any page, so their escaping is unchecked"
    assert escape(hostile("filter")) in shown["access log filtered"]


def test_a_form_shown_again_shows_the_markup_typed_as_text(stage):
    client = client_for(stage, "researcher", api=False)

    response = client.post(
        reverse("enquiry-rate", args=[stage.enquiry.reference]),
        {"rationale": hostile("typed"), "expected_version": stage.enquiry.version},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert escape(hostile("typed")) in html
    assert OPENING not in html


def test_the_api_returns_markup_as_the_data_it_is(stage):
    made = fill_every_field_with_html(stage)
    client = client_for(stage, "researcher", api=True)

    response = client.get(reverse("api:enquiry-detail", args=[made["enquiry"].reference]))
    records = client.get(
        reverse("api:information-record-list"), {"enquiry": made["enquiry"].reference}
    ).json()["results"]

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = response.json()
    assert data["concern"] == hostile("concern")
    assert data["subject"]["first_name"] == hostile("first name")
    assert data["feedback_text"] == hostile("feedback text")
    assert {record["content"]["summary"] for record in records if record["content"]} == {
        hostile("open summary"),
        hostile("released summary"),
    }
