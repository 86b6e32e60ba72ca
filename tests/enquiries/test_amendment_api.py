"""Amending an enquiry through the API: the same services as the pages, field-level 400s, 409 on
a stale version, 403 for a role that may not, 404 for what the caller may not see."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries import amendments, services
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    LawfulBasis,
    Person,
    ReferrerType,
)
from enquiries.services import PersonDetails
from sharing import services as sharing
from tests.factories import AgencyFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db

Part = EnquiryPerson.Role
Kind = EnquiryEvent.Kind


@pytest.fixture
def api(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    return client


def log(actor, *names, last_name="Smith", others=()):
    return services.enquiry_intake(
        actor=actor,
        received_at=timezone.now() - timedelta(hours=2),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name=name, last_name=last_name) for name in names],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Domestic incident attended overnight; children present.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.NOT_SOUGHT,
        consent_reason="Police notification.",
        lawful_basis=LawfulBasis.CHILDREN_ACT_2004_S11,
        others=others,
    )


def with_mother(actor, *names):
    return log(actor, *names, others=[(PersonDetails("Jo", "Smith"), Part.PARENT_CARER)])


def on(enquiry: Enquiry, name: str, *args) -> str:
    return reverse(f"api:enquiry-{name}", args=[enquiry.reference, *args])


def unchanged(enquiry: Enquiry) -> bool:
    version = enquiry.version
    enquiry.refresh_from_db()
    return enquiry.version == version and not enquiry.events.filter(version__gt=version).exists()


def test_adding_someone_new_answers_with_the_enquiry_as_it_now_is(api, researcher):
    amy, ben = log(researcher, "Amy", "Ben")

    response = api.post(
        on(amy, "add-person"),
        {
            "person": {"first_name": "Lee", "last_name": "Dunn", "confirmed_new": True},
            "role": "household_member",
            "reason": "Mother's partner.",
            "expected_version": 1,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2
    assert {"role": "household_member", "name": "Lee Dunn"} in [
        {"role": p["role"], "name": f"{p['person']['first_name']} {p['person']['last_name']}"}
        for p in body["people"]
    ]
    added = body["history"][-1]
    lee = Person.objects.get(first_name="Lee")
    assert (added["kind"], added["person"], added["rationale"]) == (
        "person_added",
        lee.pk,
        "Mother's partner.",
    )
    assert added["changes"] == [["Household member", "", "Lee Dunn"]]
    assert ben.involvements.filter(person=lee).exists()


def test_someone_who_may_be_known_is_refused_with_their_ids(api, researcher):
    (amy,) = log(researcher, "Amy")
    (earlier,) = log(researcher, "Lee", last_name="Dunn")
    body = {
        "person": {"first_name": "Lee", "last_name": "Dunn"},
        "role": "other",
        "reason": "Named by the child.",
        "expected_version": 1,
    }

    refused = api.post(on(amy, "add-person"), body, format="json")
    chosen = api.post(
        on(amy, "add-person"), body | {"person": {"id": earlier.subject.pk}}, format="json"
    )

    assert refused.status_code == 400
    assert f"id {earlier.subject.pk}" in refused.json()["person"]["confirmed_new"][0]
    assert chosen.status_code == 200, chosen.json()
    assert Person.objects.filter(first_name="Lee").count() == 1


def test_bad_input_is_refused_by_field_and_saves_nothing(api, researcher):
    (amy,) = log(researcher, "Amy")

    response = api.post(
        on(amy, "add-person"),
        {
            "person": {"first_name": "Lee", "last_name": "Dunn", "confirmed_new": True},
            "role": "subject",
            "reason": "",
            "expected_version": 1,
            "rationle": "x",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"rationle": ["This field is not part of this request."]}
    response = api.post(
        on(amy, "add-person"),
        {
            "person": {"first_name": "Lee", "last_name": "Dunn", "confirmed_new": True},
            "role": "subject",
            "reason": "",
            "expected_version": 1,
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"role"}
    response = api.post(
        on(amy, "add-person"),
        {
            "person": {"first_name": "Lee", "last_name": "Dunn", "confirmed_new": True},
            "role": "other",
            "reason": " ",
            "expected_version": 1,
        },
        format="json",
    )
    assert response.json() == {"reason": ["Say why this person is being added."]}
    assert unchanged(amy)
    assert not Person.objects.filter(first_name="Lee").exists()


def test_removing_someone_named_in_error(api, researcher):
    (amy,) = with_mother(researcher, "Amy")
    mother = amy.involvements.get(role=Part.PARENT_CARER)
    subject = amy.involvements.get(role=Part.SUBJECT)
    listed = {
        p["id"]
        for p in api.get(reverse("api:enquiry-detail", args=[amy.reference])).json()["people"]
    }

    subject_refused = api.post(
        on(amy, "remove-person", subject.pk), {"reason": "x", "expected_version": 1}, format="json"
    )
    removed = api.post(
        on(amy, "remove-person", mother.pk),
        {"reason": "A neighbour, not the mother.", "expected_version": 1},
        format="json",
    )

    assert {mother.pk, subject.pk} <= listed
    assert subject_refused.status_code == 400
    assert "involvement" in subject_refused.json()
    assert removed.status_code == 200, removed.json()
    assert removed.json()["history"][-1]["changes"] == [["Parent or carer", "Jo Smith", ""]]
    assert mother.pk not in {p["id"] for p in removed.json()["people"]}


def test_someone_not_in_the_enquiry_is_not_found(api, researcher):
    (amy,) = log(researcher, "Amy")
    (zed,) = with_mother(researcher, "Zed")
    elsewhere = zed.involvements.get(role=Part.PARENT_CARER)

    removing = api.post(
        on(amy, "remove-person", elsewhere.pk),
        {"reason": "x", "expected_version": 1},
        format="json",
    )
    correcting = api.post(
        on(amy, "correct-person", zed.subject.pk),
        {"reason": "x", "expected_version": 1, "last_name": "Ward"},
        format="json",
    )

    assert (removing.status_code, correcting.status_code) == (404, 404)
    assert unchanged(amy) and unchanged(zed)


def test_a_person_an_agency_recorded_information_about_is_not_removed(api, researcher, make_user):
    (amy,) = with_mother(researcher, "Amy")
    police = AgencyFactory(name="Police", kind="police")
    (request,) = sharing.send_information_requests(
        enquiry=amy, actor=researcher, agencies=[police], people=[amy.subject]
    )
    mother = amy.involvements.get(role=Part.PARENT_CARER)
    sharing.add_information_record(
        request=request,
        actor=make_user(Role.PRACTITIONER, agency=police),
        person=mother.person,
        summary="Known to police.",
        detail="Call-outs to the address.",
        source_system="Niche RMS",
        information_date=date(2025, 10, 1),
        sensitivity="non_sensitive",
    )
    amy.refresh_from_db()

    response = api.post(
        on(amy, "remove-person", mother.pk),
        {"reason": "Error.", "expected_version": amy.version},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith(
        "An agency has recorded information about Jo Smith"
    )
    assert unchanged(amy)


def test_correcting_a_person_changes_only_what_is_sent(api, researcher):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    person_version = api.get(reverse("api:enquiry-detail", args=[amy.reference])).json()["subject"][
        "version"
    ]

    response = api.post(
        on(amy, "correct-person", amy.subject.pk),
        {
            "last_name": "Smith",
            "nhs_number": "943 476 5919",
            "reason": "Surname mistyped.",
            "expected_version": 1,
            "expected_person_version": person_version,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["subject"]["last_name"] == "Smith"
    assert response.json()["subject"]["version"] == 2
    assert response.json()["history"][-1]["changes"] == [
        ["Last name", "Smtih", "Smith"],
        ["NHS number", "", "9434765919"],
    ]


def test_a_correction_that_changes_nothing_is_refused(api, researcher):
    (amy,) = log(researcher, "Amy")

    response = api.post(
        on(amy, "correct-person", amy.subject.pk),
        {"last_name": "Smith", "reason": "Checking.", "expected_version": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("Nothing has changed")


def test_a_stale_amendment_is_409_with_what_changed_and_saves_nothing(api, researcher, manager):
    (amy,) = log(researcher, "Amy")
    amy = services.enquiry_rate(
        enquiry=amy, actor=manager, rating="red", rationale="Disclosure.", expected_version=1
    )

    response = api.post(
        on(amy, "correct-referral"),
        {"concern": "Corrected.", "reason": "x", "expected_version": 1},
        format="json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert body["changes"][0].startswith(f"rag rating changed by {manager}")
    assert unchanged(amy)


def test_a_correction_made_meanwhile_to_the_person_is_409(api, researcher, manager):
    (amy,) = log(researcher, "Amy")
    amendments.person_correct(
        enquiry=amy,
        person=amy.subject,
        actor=manager,
        reason="Certificate.",
        expected_version=1,
        date_of_birth=date(2018, 5, 1),
    )

    response = api.post(
        on(amy, "correct-person", amy.subject.pk),
        {
            "date_of_birth": "2018-06-01",
            "reason": "x",
            "expected_version": 2,
            "expected_person_version": 1,
        },
        format="json",
    )

    assert response.status_code == 409
    assert (response.json()["current_version"], response.json()["current_person_version"]) == (
        2,
        2,
    )


def test_adding_a_child_answers_201_with_their_new_enquiry(api, researcher):
    amy, ben = log(researcher, "Amy", "Ben")

    response = api.post(
        on(amy, "add-child"),
        {
            "child": {"first_name": "Dee", "last_name": "Smith", "confirmed_new": True},
            "reason": "Toddler at the address.",
            "expected_version": 1,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subject"]["first_name"] == "Dee"
    assert body["family_reference"] == amy.family.reference
    assert sorted(body["sibling_references"]) == [amy.reference, ben.reference]
    assert [event["kind"] for event in body["history"]] == ["received", "child_added"]


def test_correcting_the_referral_by_the_api(api, researcher):
    (amy,) = log(researcher, "Amy")

    refused = api.post(
        on(amy, "correct-referral"),
        {"consent": "no", "lawful_basis": "", "reason": "x", "expected_version": 1},
        format="json",
    )
    corrected = api.post(
        on(amy, "correct-referral"),
        {
            "consent": "no",
            "lawful_basis": "children_act_1989_s47",
            "referrer_type": "school",
            "reason": "Consent refused; it was the school that rang.",
            "expected_version": 1,
        },
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json() == {
        "lawful_basis": ["Choose the lawful basis for sharing without consent."]
    }
    assert corrected.status_code == 200, corrected.json()
    body = corrected.json()
    assert (body["consent"], body["lawful_basis"], body["referrer_type"]) == (
        "no",
        "children_act_1989_s47",
        "school",
    )
    assert body["history"][-1]["kind"] == "referral_corrected"


def test_the_lawful_basis_is_required_at_intake_without_consent(api):
    body = {
        "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_type": "school",
        "subject_type": "child",
        "subjects": [{"first_name": "Cal", "last_name": "Zed", "confirmed_new": True}],
        "concern": "Hungry at school.",
        "categories": ["neglect"],
        "consent": "no",
        "consent_reason": "Mother would move away.",
    }

    refused = api.post(reverse("api:enquiry-list"), body, format="json")
    unknown = api.post(reverse("api:enquiry-list"), body | {"lawful_basis": "x"}, format="json")
    logged = api.post(
        reverse("api:enquiry-list"), body | {"lawful_basis": "care_act_2014_s42"}, format="json"
    )

    assert refused.json() == {
        "lawful_basis": ["Choose the lawful basis for sharing without consent."]
    }
    assert unknown.status_code == 400 and "lawful_basis" in unknown.json()
    assert logged.status_code == 201
    assert logged.json()["enquiries"][0]["lawful_basis"] == "care_act_2014_s42"


# Who may amend


ENDPOINTS = {
    "add-person": lambda amy: (
        on(amy, "add-person"),
        {
            "person": {"first_name": "Lee", "last_name": "Dunn", "confirmed_new": True},
            "role": "other",
        },
    ),
    "remove-person": lambda amy: (
        on(amy, "remove-person", amy.involvements.get(role=Part.PARENT_CARER).pk),
        {},
    ),
    "correct-person": lambda amy: (
        on(amy, "correct-person", amy.subject.pk),
        {"last_name": "Smyth"},
    ),
    "add-child": lambda amy: (
        on(amy, "add-child"),
        {"child": {"first_name": "Dee", "last_name": "Smith", "confirmed_new": True}},
    ),
    "correct-referral": lambda amy: (on(amy, "correct-referral"), {"concern": "Corrected."}),
}


def call(client, endpoint: str, enquiry: Enquiry):
    path, body = ENDPOINTS[endpoint](enquiry)
    return client.post(path, body | {"reason": "x", "expected_version": 1}, format="json")


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_practitioner_finds_no_enquiry_their_agency_was_not_asked_about(researcher, endpoint):
    (amy,) = with_mother(researcher, "Amyzlyn")
    client = APIClient()
    client.force_authenticate(UserFactory(roles=[Role.PRACTITIONER]))

    response = call(client, endpoint, amy)

    assert response.status_code == 404
    assert "Amyzlyn" not in response.content.decode()
    assert unchanged(amy)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_practitioner_who_may_see_the_enquiry_may_not_amend_it(researcher, endpoint):
    (amy,) = with_mother(researcher, "Amy")
    police = AgencyFactory(name="Police", kind="police")
    sharing.send_information_requests(enquiry=amy, actor=researcher, agencies=[police])
    amy.refresh_from_db()
    client = APIClient()
    client.force_authenticate(UserFactory(roles=[Role.PRACTITIONER], agency=police))

    response = call(client, endpoint, amy)

    assert response.status_code == 403
    assert response.json() == {"detail": "Only researchers and managers work on enquiries."}
    assert unchanged(amy)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("persona", ["researcher", "manager", "no role", "anonymous"])
def test_who_may_call_each_amendment(make_user, endpoint, persona):
    (amy,) = with_mother(make_user(Role.RESEARCHER), "Amy")
    client = APIClient()
    if persona != "anonymous":
        roles = [] if persona == "no role" else [persona]
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(make_user(*roles))}")

    response = call(client, endpoint, amy)

    expected = {"researcher": 200, "manager": 200, "no role": 403, "anonymous": 401}[persona]
    if endpoint == "add-child" and expected == 200:
        expected = 201
    assert response.status_code == expected, response.json()


def test_the_schema_documents_each_amendment(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()

    paths = schema["paths"]
    for path in (
        "/api/v1/enquiries/{reference}/people/",
        "/api/v1/enquiries/{reference}/people/{involvement_id}/remove/",
        "/api/v1/enquiries/{reference}/people/{person_id}/correct/",
        "/api/v1/enquiries/{reference}/children/",
        "/api/v1/enquiries/{reference}/referral/",
    ):
        responses = paths[path]["post"]["responses"]
        assert {"400", "403", "404", "409"} <= set(responses), path
