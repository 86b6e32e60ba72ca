"""The enquiries REST API: every endpoint, its filters and pages, its errors, auth and CSRF."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry, EnquiryEvent, EnquiryPerson, Outcome, Person, ReferrerType
from enquiries.services import PersonDetails
from tests.factories import api_key_for, police_notification

pytestmark = pytest.mark.django_db

Kind = EnquiryEvent.Kind


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")


@pytest.fixture
def api(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    return client


@pytest.fixture
def manager_api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def log(actor, *names, minutes_ago=5, last_name="Smith", others=()):
    return police_notification(
        actor,
        *names,
        last_name=last_name,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        others=others,
    )


def rate(enquiry, actor, rating="amber"):
    return services.enquiry_rate(
        enquiry=enquiry,
        actor=actor,
        rating=rating,
        rationale="Triage.",
        expected_version=enquiry.version,
    )


def decide(enquiry, manager, **fields):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="Known to early help.",
        expected_version=enquiry.version,
        **fields,
    )


def list_url(**params) -> str:
    url = reverse("api:enquiry-list")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def action_url(enquiry: Enquiry, name: str) -> str:
    return reverse(f"api:enquiry-{name}", args=[enquiry.reference])


def references(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["reference"] for row in response.json()["results"]]


def unchanged(enquiry: Enquiry) -> bool:
    """Nothing half-saved: the enquiry is at the version it had and its history has no more."""
    version = enquiry.version
    enquiry.refresh_from_db()
    return enquiry.version == version and not enquiry.events.filter(version__gt=version).exists()


# Listing


def test_it_lists_enquiries_in_every_state_newest_first_with_their_clock(api, researcher, manager):
    (old,) = log(researcher, "Ann", minutes_ago=60 * 24 * 14)
    old = rate(old, manager, "red")
    (decided,) = log(researcher, "Bea", minutes_ago=60 * 24 * 10)
    decided = decide(rate(decided, manager, "red"), manager)
    (new,) = log(researcher, "Cal")

    response = api.get(list_url())

    assert references(response) == [new.reference, decided.reference, old.reference]
    rows = {row["reference"]: row for row in response.json()["results"]}
    assert rows[old.reference]["sla"]["status"] == "breached"
    assert rows[old.reference]["sla"]["remaining_minutes"] < 0
    assert rows[decided.reference]["sla"]["status"] == "decided_late"
    assert rows[decided.reference]["outcome"] == "nfa"
    assert rows[decided.reference]["state"] == "decided"
    sla = rows[new.reference]["sla"]
    assert (sla["status"], sla["allowance_minutes"]) == ("on_time", 1440)
    assert sla["remaining_minutes"] == 1440 - sla["elapsed_minutes"]
    assert datetime.fromisoformat(sla["deadline"]) == new.deadline
    assert rows[new.reference]["subject"]["first_name"] == "Cal"
    assert rows[new.reference]["family_reference"] == new.family.reference
    assert rows[new.reference]["version"] == 1
    assert response.json()["count"] == 3


def test_it_filters_by_rating_state_assignee_mine_and_search(api, researcher, manager, make_user):
    ann, bea, cal, dee = log(researcher, "Ann", "Bea", "Cal", "Dee")
    (eve,) = log(researcher, "Eve", last_name="Okafor")
    ann = rate(ann, researcher, "red")
    bea = decide(bea, manager)
    other = make_user(Role.RESEARCHER)
    services.enquiry_assign(enquiry=cal, actor=researcher, assignee=researcher, expected_version=1)
    services.enquiry_assign(enquiry=dee, actor=researcher, assignee=other, expected_version=1)

    assert references(api.get(list_url(rating="red"))) == [ann.reference]
    assert references(api.get(list_url(state="decided"))) == [bea.reference]
    assert references(api.get(list_url(state="screening"))) == [ann.reference]
    assert references(api.get(list_url(assignee=other.pk))) == [dee.reference]
    assert references(api.get(list_url(mine="true"))) == [cal.reference]
    assert references(api.get(list_url(q="okafor"))) == [eve.reference]
    assert references(api.get(list_url(q=ann.reference.lower()))) == [ann.reference]
    assert references(api.get(list_url(q="Smith", rating="none", mine="true"))) == [cal.reference]


def test_at_risk_and_breached_follow_the_stored_thresholds(api, researcher, manager):
    on_time, at_risk, breached, decided_late, decided_on_time = log(
        researcher, "Ann", "Bea", "Cal", "Dee", "Eve"
    )
    now = timezone.now()
    hour = timedelta(hours=1)
    Enquiry.objects.filter(pk=at_risk.pk).update(at_risk_from=now - hour, breached_from=now + hour)
    Enquiry.objects.filter(pk=breached.pk).update(at_risk_from=now - hour, breached_from=now)
    Enquiry.objects.filter(pk=decided_on_time.pk).update(
        at_risk_from=now - hour, breached_from=now + hour
    )
    decide(decided_on_time, manager)
    decide(decided_late, manager)
    Enquiry.objects.filter(pk=decided_late.pk).update(decided_on_time=False)

    assert references(api.get(list_url(at_risk="true"))) == [at_risk.reference]
    assert set(references(api.get(list_url(breached="true")))) == {
        breached.reference,
        decided_late.reference,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"rating": "purple"}, "rating"),
        ({"state": "lost"}, "state"),
        ({"assignee": "someone"}, "assignee"),
        ({"mine": "perhaps"}, "mine"),
    ],
)
def test_a_bad_filter_is_a_field_error(api, params, field):
    response = api.get(list_url(**params))

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_it_pages_by_fifty_and_up_to_two_hundred_on_request(api, researcher):
    for family in range(21):
        log(researcher, *[f"Child{family}x{i}" for i in range(10)])

    first = api.get(list_url()).json()
    small = api.get(list_url(page_size=10, page=2)).json()
    most = api.get(list_url(page_size=1000)).json()

    assert (first["count"], len(first["results"])) == (210, 50)
    assert "page=2" in first["next"]
    assert len(small["results"]) == 10
    assert small["results"][0]["reference"] == first["results"][10]["reference"]
    assert len(most["results"]) == 200
    assert api.get(list_url(page=99)).status_code == 404


@pytest.mark.parametrize("children", [3, 60])
def test_the_list_runs_a_fixed_number_of_queries(
    researcher, manager, django_assert_max_num_queries, children
):
    enquiries = log(researcher, *[f"Child{i}" for i in range(children)])
    for enquiry in enquiries[::2]:
        services.enquiry_assign(
            enquiry=enquiry, actor=researcher, assignee=researcher, expected_version=1
        )
    decide(enquiries[1], manager)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {api_key_for(researcher)}")

    # token with its user, its last use (written once a minute), the user's groups, count, the
    # hub clock's version, one page of enquiries with family, subject, referrer type, assignee
    # and outcome, and the search written to the access log (lock, last hash, insert)
    with django_assert_max_num_queries(9):
        response = client.get(list_url(q="Child"))

    assert response.json()["count"] == children


# Reading one


def test_it_shows_one_enquiry_with_people_history_family_and_clock(api, researcher):
    mother = PersonDetails(first_name="Jo", last_name="Smith", date_of_birth=date(1990, 5, 1))
    amy, ben = log(researcher, "Amy", "Ben", others=[(mother, EnquiryPerson.Role.PARENT_CARER)])
    rate(amy, researcher, "red")

    response = api.get(reverse("api:enquiry-detail", args=[amy.reference]))

    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == amy.reference
    assert body["family_reference"] == amy.family.reference
    assert body["sibling_references"] == [ben.reference]
    people = {
        (p["role"], p["person"]["first_name"], p["person"]["date_of_birth"]) for p in body["people"]
    }
    assert people == {
        ("subject", "Amy", None),
        ("sibling", "Ben", None),
        ("parent_carer", "Jo", "1990-05-01"),
    }
    assert [event["kind"] for event in body["history"]] == [Kind.RECEIVED, Kind.RATING, Kind.STATE]
    assert body["history"][1]["actor"]["name"] == "Rosa Reid"
    assert (body["rating"], body["state"], body["version"]) == ("red", "screening", 2)
    assert body["sla"]["allowance_minutes"] == 240
    assert body["consent_reason"] == "Police notification."


def test_an_unknown_reference_is_not_found(api):
    detail = api.get(reverse("api:enquiry-detail", args=["MASH-1999-000001"]))
    rate_missing = api.post(
        reverse("api:enquiry-rate", args=["MASH-1999-000001"]),
        {"rating": "red", "rationale": "x", "expected_version": 1},
        format="json",
    )

    assert detail.status_code == rate_missing.status_code == 404
    assert detail.json() == {"detail": "No enquiry has that reference."}


@pytest.mark.parametrize("siblings", [2, 10])
def test_one_enquiry_reads_in_a_fixed_number_of_queries(
    researcher, django_assert_max_num_queries, siblings
):
    enquiries = log(researcher, *[f"Child{i}" for i in range(siblings)])
    for _ in range(3):
        enquiries[0] = rate(enquiries[0], researcher, "amber")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {api_key_for(researcher)}")

    # token with its user, its last use (written once a minute), the user's groups, the enquiry
    # with its family, subject, referrer type and outcome; the staff it names (assignee,
    # decider, creator, acknowledger: one query by primary key); its people, history and
    # family; the view written to the access log (lock, last hash, insert); the hub clock's
    # version
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api:enquiry-detail", args=[enquiries[0].reference]))

    assert len(response.json()["people"]) == siblings


# Logging a concern


def intake_body(**overrides) -> dict:
    body = {
        "received_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_organisation": "Oak Primary School",
        "referrer_type": "school",
        "referrer_contact": "office@oak.example",
        "subject_type": "child",
        "subjects": [
            {"first_name": "Amy", "last_name": "Zed", "date_of_birth": "2018-02-03"},
            {"first_name": "Ben", "last_name": "Zed", "confirmed_new": True},
        ],
        "others": [{"first_name": "Jo", "last_name": "Zed", "role": "parent_carer"}],
        "concern": "Arrived at school hungry and bruised three days running.",
        "categories": ["neglect", "physical_abuse"],
        "consent": "no",
        "consent_reason": "Asking the parents could put the children at greater risk.",
        "lawful_basis": "children_act_1989_s47",
    }
    body.update(overrides)
    return body


def test_it_logs_a_family_with_one_enquiry_per_child(api, researcher):
    response = api.post(reverse("api:enquiry-list"), intake_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    amy, ben = body["enquiries"]
    assert body["family_reference"] == amy["family_reference"] == ben["family_reference"]
    assert amy["sibling_references"] == [ben["reference"]]
    assert {(p["role"], p["person"]["first_name"]) for p in amy["people"]} == {
        ("subject", "Amy"),
        ("sibling", "Ben"),
        ("parent_carer", "Jo"),
    }
    assert (amy["referrer_type"], amy["categories"]) == ("school", ["neglect", "physical_abuse"])
    assert amy["history"][0]["kind"] == "received"
    assert Enquiry.objects.get(reference=amy["reference"]).created_by == researcher


def test_someone_already_in_the_register_is_named_by_id(api):
    jo = Person.objects.create(first_name="Jo", last_name="Zed")

    response = api.post(
        reverse("api:enquiry-list"),
        intake_body(others=[{"id": jo.pk, "role": "alleged_perpetrator"}]),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Person.objects.filter(first_name="Jo").count() == 1
    people = response.json()["enquiries"][0]["people"]
    assert [p["role"] for p in people if p["person"]["id"] == jo.pk] == ["alleged_perpetrator"]


@pytest.mark.parametrize(
    ("subjects", "others", "field"),
    [
        ([{"id": "jo"}, {"id": "jo"}], [], "subjects"),
        ([{"id": "jo"}], [{"id": "jo", "role": "sibling"}], "others"),
        (
            [],
            [{"id": "jo", "role": "parent_carer"}, {"id": "jo", "role": "parent_carer"}],
            "others",
        ),
    ],
    ids=["two_subjects", "subject_and_other", "two_others"],
)
def test_someone_named_twice_is_refused_and_nothing_saved(api, subjects, others, field):
    jo = Person.objects.create(first_name="Jo", last_name="Zed")
    subjects = subjects or [{"first_name": "Amy", "last_name": "Zed"}]
    body = intake_body(
        subjects=[{"id": jo.pk} if s.get("id") else s for s in subjects],
        others=[{**o, "id": jo.pk} for o in others],
    )

    response = api.post(reverse("api:enquiry-list"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        field: [f"Name each person once: Jo Zed (id {jo.pk}) is named twice."]
    }
    assert not Enquiry.objects.exists()


def test_someone_new_who_may_be_in_the_register_must_be_confirmed(api):
    amy = Person.objects.create(first_name="Amy", last_name="Zed", date_of_birth=date(2018, 2, 3))

    refused = api.post(reverse("api:enquiry-list"), intake_body(), format="json")
    subjects = intake_body()["subjects"]
    subjects[0]["confirmed_new"] = True
    confirmed = api.post(reverse("api:enquiry-list"), intake_body(subjects=subjects), format="json")

    assert refused.status_code == 400
    message = refused.json()["subjects"]["0"]["confirmed_new"][0]
    assert f"id {amy.pk}: Amy Zed" in message
    assert "same name" in message
    assert list(refused.json()["subjects"]) == ["0"]
    assert confirmed.status_code == 201
    assert Person.objects.filter(first_name="Amy").count() == 2


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"concern": " "}, {"concern": ["Record the concern as the referrer told it."]}),
        ({"categories": []}, {"categories": ["Choose at least one category of concern."]}),
        (
            {"categories": ["witchcraft"]},
            {"categories": {"0": ['"witchcraft" is not a valid choice.']}},
        ),
        (
            {"consent_reason": ""},
            {"consent_reason": ["Record why the hub proceeds without consent to share."]},
        ),
        ({"consent": "maybe"}, {"consent": ['"maybe" is not a valid choice.']}),
        (
            {"referrer_type": "psychic"},
            {"referrer_type": ["There is no referrer type with the code psychic."]},
        ),
        (
            {"subjects": []},
            {"subjects": ["Name at least one child or adult the concern is about."]},
        ),
        (
            {"received_at": "2999-01-01T09:00:00Z"},
            {"received_at": ["An enquiry cannot be received in the future."]},
        ),
        ({"received_at": "yesterday"}, "received_at"),
        (
            {"subjects": [{"last_name": "Zed"}]},
            {
                "subjects": {
                    "0": {
                        "first_name": [
                            "Give the person's name, or the id of someone in the register."
                        ]
                    }
                }
            },
        ),
        (
            {"subjects": [{"first_name": "A", "last_name": "Zed", "nhs_number": "123"}]},
            {
                "subjects": {
                    "0": {"nhs_number": ["Enter a 10-digit NHS number, like 943 476 5919."]}
                }
            },
        ),
        (
            {"subjects": [{"id": 999999}]},
            {"subjects": {"0": {"id": ['Invalid pk "999999" - object does not exist.']}}},
        ),
        (
            {"others": [{"first_name": "Jo", "last_name": "Zed", "role": "subject"}]},
            {"others": {"0": {"role": ['"subject" is not a valid choice.']}}},
        ),
        ({"subject_type": "cat"}, {"subject_type": ['"cat" is not a valid choice.']}),
        (
            {"referrer_name": ""},
            {"referrer_name": ["Record who made the referral ('Anonymous' if unknown)."]},
        ),
    ],
    ids=[
        "blank_concern",
        "no_category",
        "unknown_category",
        "no_reason_without_consent",
        "unknown_consent",
        "unknown_referrer_type",
        "no_subject",
        "received_in_future",
        "not_a_time",
        "nameless_subject",
        "bad_nhs_number",
        "unknown_person",
        "other_as_subject",
        "unknown_subject_type",
        "no_referrer",
    ],
)
def test_bad_intake_names_the_field_and_saves_nothing(api, overrides, errors):
    response = api.post(reverse("api:enquiry-list"), intake_body(**overrides), format="json")

    assert response.status_code == 400
    if isinstance(errors, str):
        assert list(response.json()) == [errors]
    else:
        assert response.json() == errors
    assert not Enquiry.objects.exists()
    assert not Person.objects.exists()


# Actions


def post(client, enquiry, name, body):
    return client.post(action_url(enquiry, name), body, format="json")


def test_rating_moves_the_deadline_and_returns_the_enquiry(api, researcher):
    (enquiry,) = log(researcher, "Amy")

    response = post(
        api, enquiry, "rate", {"rating": "red", "rationale": "Injury.", "expected_version": 1}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["rating"], body["state"], body["version"]) == ("red", "screening", 2)
    assert body["sla"]["allowance_minutes"] == 240
    assert [e["kind"] for e in body["history"]][-2:] == [Kind.RATING, Kind.STATE]


def test_an_enquiry_moves_along_the_process(api, researcher):
    (enquiry,) = log(researcher, "Amy")

    screening = post(api, enquiry, "transition", {"to_state": "screening", "expected_version": 1})
    researching = post(
        api, enquiry, "transition", {"to_state": "researching", "expected_version": 2}
    )

    assert screening.json()["state"] == "screening"
    assert (researching.json()["state"], researching.json()["version"]) == ("researching", 3)


def test_assignment_is_recorded_and_can_be_undone(api, researcher):
    (enquiry,) = log(researcher, "Amy")

    assigned = post(api, enquiry, "assign", {"assignee": researcher.pk, "expected_version": 1})
    unassigned = post(api, enquiry, "assign", {"assignee": None, "expected_version": 2})

    assert assigned.json()["assignee"] == {"id": researcher.pk, "name": "Rosa Reid"}
    assert unassigned.json()["assignee"] is None


def test_escalation_needs_no_version_even_after_someone_elses_edit(api, researcher, manager):
    (enquiry,) = log(researcher, "Amy")
    rate(enquiry, manager, "green")

    response = post(api, enquiry, "escalate", {"reason": "Disclosed abuse on the phone."})

    assert response.status_code == 200
    assert response.json()["rating"] == "red"
    assert response.json()["escalated_at"] is not None


def test_a_manager_decides_and_the_referrer_gets_feedback(manager_api, api, researcher):
    (enquiry,) = log(researcher, "Amy")

    decided = post(
        manager_api,
        enquiry,
        "decide",
        {"outcome": "early_help", "rationale": "Family agree to support.", "expected_version": 1},
    )
    closed = post(
        api,
        enquiry,
        "feedback",
        {"method": "Telephone", "text": "Early help will call.", "expected_version": 2},
    )

    assert decided.status_code == 200
    assert (decided.json()["state"], decided.json()["outcome"]) == ("decided", "early_help")
    assert decided.json()["sla"]["status"] == "decided_on_time"
    assert decided.json()["decided_by"]["name"] == "Mo Khan"
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["feedback_method"]) == ("closed", "Telephone")


@pytest.mark.parametrize(
    ("action", "body", "errors"),
    [
        (
            "rate",
            {"rating": "red", "expected_version": 1},
            {"rationale": ["Give the reason for this rating."]},
        ),
        (
            "rate",
            {"rating": "red", "rationale": "  ", "expected_version": 1},
            {"rationale": ["Give the reason for this rating."]},
        ),
        (
            "rate",
            {"rating": "purple", "rationale": "x", "expected_version": 1},
            {"rating": ['"purple" is not a valid choice.']},
        ),
        (
            "rate",
            {"rating": "red", "rationale": "x"},
            {"expected_version": ["This field is required."]},
        ),
        (
            "transition",
            {"to_state": "decided", "expected_version": 1},
            {"to_state": ["An enquiry that is received cannot move to decided."]},
        ),
        (
            "transition",
            {"to_state": "researching", "expected_version": 1},
            {"to_state": ["An enquiry that is received cannot move to researching."]},
        ),
        (
            "assign",
            {"assignee": 999999, "expected_version": 1},
            {"assignee": ["Enquiries go to researchers or managers: none has the id 999999."]},
        ),
        (
            "escalate",
            {"reason": ""},
            {"reason": ["Say why the child or adult needs protection now."]},
        ),
        (
            "feedback",
            {"method": "Email", "text": "Hi", "expected_version": 1},
            {"non_field_errors": ["Feedback follows the decision: this enquiry is not decided."]},
        ),
    ],
    ids=[
        "missing_rationale",
        "blank_rationale",
        "unknown_rating",
        "no_version",
        "transition_to_decided",
        "skipping_screening",
        "unknown_assignee",
        "escalation_without_reason",
        "feedback_before_decision",
    ],
)
def test_bad_actions_name_the_field_and_change_nothing(api, researcher, action, body, errors):
    (enquiry,) = log(researcher, "Amy")

    response = post(api, enquiry, action, body)

    assert response.status_code == 400
    assert response.json() == errors
    assert unchanged(enquiry)


def test_work_goes_only_to_researchers_and_managers(api, researcher, make_user):
    (enquiry,) = log(researcher, "Amy")
    police = make_user(Role.PRACTITIONER)

    response = post(api, enquiry, "assign", {"assignee": police.pk, "expected_version": 1})

    assert response.status_code == 400
    assert list(response.json()) == ["assignee"]
    assert unchanged(enquiry)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"rationale": ""}, {"rationale": ["Give the reason for this decision."]}),
        ({"outcome": "witchcraft"}, {"outcome": ["There is no outcome with the code witchcraft."]}),
        (
            {"decided_at": "2000-01-01T09:00:00Z"},
            {"decided_at": ["A decision cannot come before the enquiry."]},
        ),
        (
            {"decided_at": "2999-01-01T09:00:00Z"},
            {"decided_at": ["A decision cannot be recorded in the future."]},
        ),
        (
            {"outcome": "adult_social_care"},
            {
                "outcome": [
                    "Referral to adult social care is not an outcome for an enquiry about a child."
                ]
            },
        ),
    ],
    ids=["no_rationale", "unknown_outcome", "before_receipt", "in_future", "adults_only"],
)
def test_bad_decisions_name_the_field_and_change_nothing(
    manager_api, researcher, overrides, errors
):
    (enquiry,) = log(researcher, "Amy")
    body = {"outcome": "nfa", "rationale": "No risk.", "expected_version": 1} | overrides

    response = post(manager_api, enquiry, "decide", body)

    assert response.status_code == 400
    assert response.json() == errors
    assert unchanged(enquiry)
    assert enquiry.decided_at is None


def test_a_retired_outcome_cannot_be_chosen(manager_api, researcher):
    (enquiry,) = log(researcher, "Amy")
    Outcome.objects.filter(code="marac").update(is_active=False)

    response = post(
        manager_api,
        enquiry,
        "decide",
        {"outcome": "marac", "rationale": "x", "expected_version": 1},
    )

    assert response.json() == {"outcome": ["That outcome is no longer in use."]}


def test_only_a_manager_decides(api, researcher):
    (enquiry,) = log(researcher, "Amy")

    response = post(
        api, enquiry, "decide", {"outcome": "nfa", "rationale": "No risk.", "expected_version": 1}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager records the decision."}
    assert unchanged(enquiry)


def test_a_researcher_cannot_take_someone_elses_enquiry(api, researcher, make_user):
    (enquiry,) = log(researcher, "Amy")
    other = make_user(Role.RESEARCHER)
    services.enquiry_assign(enquiry=enquiry, actor=other, assignee=other, expected_version=1)
    enquiry.refresh_from_db()

    response = post(api, enquiry, "assign", {"assignee": researcher.pk, "expected_version": 2})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager can reassign someone else's enquiry."}
    assert unchanged(enquiry)


def test_a_decided_enquiry_no_longer_changes(api, researcher, manager):
    (enquiry,) = log(researcher, "Amy")
    enquiry = decide(enquiry, manager)

    response = post(
        api, enquiry, "rate", {"rating": "red", "rationale": "x", "expected_version": 2}
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["This enquiry has been decided; it can no longer change."]
    }


def test_a_stale_edit_is_refused_with_what_changed(api, researcher, manager):
    (enquiry,) = log(researcher, "Amy")
    rate(enquiry, manager, "amber")
    services.enquiry_assign(enquiry=enquiry, actor=manager, assignee=manager, expected_version=2)

    response = post(
        api, enquiry, "rate", {"rating": "green", "rationale": "Seems fine.", "expected_version": 1}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 3
    assert [change.split(" at ")[0] for change in body["changes"]] == [
        "rag rating changed by Mo Khan",
        "state changed by Mo Khan",
        "assigned by Mo Khan",
    ]
    assert "Nothing you entered was saved" in body["detail"]
    enquiry.refresh_from_db()
    assert (enquiry.rating, enquiry.version) == ("amber", 3)


# Reference lists and the person register


def test_the_reference_lists_give_codes_for_intake_and_decisions(api):
    ReferrerType.objects.filter(code="other").update(is_active=False)

    referrer_types = api.get(reverse("api:referrer-type-list")).json()
    outcomes = api.get(reverse("api:outcome-list")).json()

    assert {"code": "school", "name": "School", "is_active": True} in referrer_types
    assert {"code": "other", "name": "Other", "is_active": False} in referrer_types
    assert len(outcomes) == 8
    assert {
        "code": "strategy_discussion",
        "name": "Strategy discussion / child protection enquiry",
        "is_active": True,
        "leads_to_referral": True,
        "fits": "child",
    } in outcomes
    assert {outcome["code"]: outcome["fits"] for outcome in outcomes}["adult_social_care"] == (
        "adult"
    )


def test_people_who_may_already_be_in_the_register_are_found(api):
    katie = Person.objects.create(
        first_name="Katie", last_name="O'Neill", date_of_birth=date(2015, 6, 1)
    )
    Person.objects.create(first_name="Someone", last_name="Else")

    response = api.get(
        reverse("api:person-match-list"),
        {"first_name": "Katie", "last_name": "O'Neill", "date_of_birth": "2015-06-01"},
    )

    assert response.status_code == 200
    (match,) = response.json()
    assert match["person"]["id"] == katie.pk
    assert match["reasons"] == ["Same name", "Same date of birth"]


def test_a_person_search_needs_a_name_and_a_valid_nhs_number(api):
    response = api.get(
        reverse("api:person-match-list"), {"first_name": "Katie", "nhs_number": "1234567890"}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"last_name", "nhs_number"}


# Authentication


def test_a_token_signs_in_and_needs_no_csrf_token(researcher):
    (enquiry,) = log(researcher, "Amy")
    printed = StringIO()
    call_command("create_api_token", researcher.username, stdout=printed, stderr=StringIO())
    key = printed.getvalue().strip()
    client = APIClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")

    listed = client.get(list_url())
    rated = post(
        client, enquiry, "rate", {"rating": "red", "rationale": "x", "expected_version": 1}
    )

    assert references(listed) == [enquiry.reference]
    assert rated.status_code == 200


def test_without_credentials_or_with_a_bad_token_the_answer_is_401():
    anonymous = APIClient().get(list_url())
    bad_token = APIClient(HTTP_AUTHORIZATION="Token not-a-real-token").get(list_url())

    assert anonymous.status_code == bad_token.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert bad_token.json() == {"detail": "Invalid token."}


def test_a_signed_in_session_reads_and_writes_with_the_csrf_token(researcher):
    (enquiry,) = log(researcher, "Amy")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(researcher)
    body = {"rating": "red", "rationale": "Injury.", "expected_version": 1}

    listed = client.get(list_url())
    without_csrf = post(client, enquiry, "rate", body)
    client.get(reverse("triage-queue"))  # a page with a form sets the CSRF cookie
    csrf_token = client.cookies[settings.CSRF_COOKIE_NAME].value
    with_csrf = client.post(
        action_url(enquiry, "rate"), body, format="json", HTTP_X_CSRFTOKEN=csrf_token
    )

    assert references(listed) == [enquiry.reference]
    assert without_csrf.status_code == 403
    assert "CSRF" in without_csrf.json()["detail"]
    assert with_csrf.status_code == 200
    assert with_csrf.json()["rating"] == "red"
