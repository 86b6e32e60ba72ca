"""The sharing REST API: information requests, agency records, release and refusal, through the
same firewall and services as the pages. Bad input changes nothing and is logged; content never
reaches someone the firewall would not show it to (checked in the raw response)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Notification, Outcome
from sharing import services
from sharing.models import (
    InformationRecord,
    InformationRequest,
    LawfulBasis,
    ReleaseDecision,
    ReleaseRequest,
    ReleaseStatus,
)
from tests.factories import PASSWORD, AgencyFactory, api_key_for

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action

SHARING_PATHS = {
    "/api/v1/information-requests/",
    "/api/v1/information-requests/{id}/",
    "/api/v1/information-requests/{id}/records/",
    "/api/v1/information-requests/{id}/answer/",
    "/api/v1/information-requests/{id}/nothing-held/",
    "/api/v1/information-records/",
    "/api/v1/information-records/{id}/",
    "/api/v1/information-records/{id}/release-request/",
    "/api/v1/information-records/{id}/release/",
    "/api/v1/information-records/{id}/refuse/",
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(user) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")


def url(name: str, pk=None, **params) -> str:
    address = reverse(f"api:{name}", args=[] if pk is None else [pk])
    if params:
        address += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return address


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def denied(user, **fields) -> list[str]:
    """The reasons of the refused attempts logged for this person."""
    entries = AccessLogEntry.objects.filter(user=user, action=Log.DENIED, **fields)
    assert all(entry.channel == "api" for entry in entries)
    return [entry.reason for entry in entries]


def unchanged(record: InformationRecord) -> bool:
    status, version = record.release_status, record.version
    record.refresh_from_db()
    return (record.release_status, record.version) == (status, version)


RELEASE = {
    "reason": "Pertinent to the risk assessment.",
    "necessary_and_proportionate": True,
    "lawful_basis": LawfulBasis.CHILDREN_ACT_1989_S47,
    "conditions": "Not to be shared with the family.",
    "password": PASSWORD,
}


@pytest.fixture
def stranger(make_user):
    """A practitioner of an agency nobody asked about the enquiry."""
    return make_user(Role.PRACTITIONER, agency=AgencyFactory(name="Housing"))


# Information requests: listing and reading


def test_it_lists_the_requests_on_enquiries_the_user_works_on(hub, stranger):
    rows = results(client_for(hub.researcher).get(url("information-request-list")))

    assert [row["id"] for row in rows] == [hub.police_request.pk, hub.health_request.pk]
    row = rows[0]
    assert row["enquiry"] == hub.enquiry.reference
    assert row["agency"] == {"id": hub.police.pk, "name": "Thames Valley Police"}
    assert [p["first_name"] for p in row["people"]] == ["Amy"]
    assert (row["status"], row["version"], row["actions"]) == ("requested", 1, ["withdraw"])
    assert row["requested_by"]["id"] == hub.researcher.pk
    assert row["answered_by"] is None
    assert results(client_for(stranger).get(url("information-request-list"))) == []


def test_a_practitioners_inbox_is_their_agencys_open_requests(hub):
    police = client_for(hub.police_officer)
    services.record_nothing_held(request=hub.health_request, actor=hub.health_visitor)

    everything = results(police.get(url("information-request-list")))
    inbox = results(police.get(url("information-request-list", agency="mine", open="true")))
    health_inbox = results(
        client_for(hub.health_visitor).get(url("information-request-list", agency="mine", open=1))
    )

    assert len(everything) == 2
    assert [row["id"] for row in inbox] == [hub.police_request.pk]
    assert inbox[0]["actions"] == ["add_record", "nothing_held"]
    assert health_inbox == []


def test_requests_filter_by_enquiry_status_and_agency(hub):
    api = client_for(hub.researcher)
    services.record_nothing_held(request=hub.health_request, actor=hub.health_visitor)

    def ids(**params):
        return [row["id"] for row in results(api.get(url("information-request-list", **params)))]

    assert ids(enquiry=hub.enquiry.reference) == [hub.police_request.pk, hub.health_request.pk]
    assert ids(enquiry="MASH-1999-000001") == []
    assert ids(status="nothing_held") == [hub.health_request.pk]
    assert ids(agency=hub.police.pk) == [hub.police_request.pk]
    assert ids(agency="mine") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"agency": "police"}, "agency"),
        ({"open": "perhaps"}, "open"),
    ],
)
def test_a_bad_request_filter_is_a_field_error(hub, params, field):
    response = client_for(hub.researcher).get(url("information-request-list", **params))

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_one_request_reads_as_in_the_list_and_a_guess_is_404_and_logged(hub, stranger):
    response = client_for(hub.health_visitor).get(
        url("information-request-detail", hub.police_request.pk)
    )
    guessed = client_for(stranger).get(url("information-request-detail", hub.police_request.pk))
    nonsense = client_for(hub.researcher).get(url("information-request-detail", "abc"))

    assert response.status_code == 200
    assert response.json()["agency"]["id"] == hub.police.pk
    assert response.json()["actions"] == []
    assert (guessed.status_code, nonsense.status_code) == (404, 404)
    assert denied(stranger) == [
        f"see (information request {hub.police_request.pk}): No such information request."
    ]
    assert len(denied(hub.researcher)) == 1


@pytest.mark.parametrize("agencies", [2, 20])
def test_the_request_list_runs_a_fixed_number_of_queries(
    hub, django_assert_max_num_queries, agencies
):
    more = [AgencyFactory(name=f"Agency {n}") for n in range(agencies)]
    services.send_information_requests(enquiry=hub.enquiry, actor=hub.researcher, agencies=more)
    client = token_client(hub.researcher)

    # token with its user, its last use (written once a minute), the user's groups, count, the
    # page with enquiry, agency and the people asking and answering, the people asked about
    with django_assert_max_num_queries(6):
        response = client.get(url("information-request-list", enquiry=hub.enquiry.reference))

    assert response.json()["count"] == agencies + 2


# Information requests: sending


def send(client, hub, **body):
    return client.post(
        url("information-request-list"),
        {"enquiry": hub.enquiry.reference, **body},
        format="json",
    )


def test_a_researcher_asks_agencies_about_the_people_in_an_enquiry(hub):
    response = send(
        client_for(hub.researcher),
        hub,
        agencies=[hub.csc.pk],
        question="Known to you?",
        people=[hub.enquiry.subject_id],
    )

    assert response.status_code == 201, response.json()
    (made,) = response.json()
    assert (made["agency"]["id"], made["question"], made["status"]) == (
        hub.csc.pk,
        "Known to you?",
        "requested",
    )
    assert [p["id"] for p in made["people"]] == [hub.enquiry.subject_id]


def test_the_usual_agencies_are_asked_in_one_call_and_never_twice(hub):
    api = client_for(hub.manager)
    hub.health.asked_by_default = False
    hub.health.save(update_fields=["asked_by_default"])

    first = send(api, hub, agencies="usual")
    again = send(api, hub, agencies="usual")

    assert first.status_code == 201
    assert [row["agency"]["id"] for row in first.json()] == [hub.csc.pk]
    assert first.json()[0]["question"].startswith("Please tell us what your agency holds")
    assert again.status_code == 400
    assert list(again.json()) == ["agencies"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agencies": [999999]}, "agencies"),
        ({"agencies": "all"}, "agencies"),
        ({"agencies": []}, "agencies"),
        ({"agencies": [True]}, "agencies"),
        ({"agencies": "usual", "enquiry": "MASH-1999-000001"}, "enquiry"),
        ({"agencies": "usual", "people": [999999]}, "people"),
    ],
)
def test_sending_with_bad_input_is_a_field_error(hub, body, field):
    response = send(client_for(hub.researcher), hub, **body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert InformationRequest.objects.count() == 2


def test_only_people_named_in_the_enquiry_can_be_asked_about(hub, make_user):
    other = enquiry_services.PersonDetails(first_name="Zed", last_name="Other")
    (elsewhere,) = enquiry_services.enquiry_intake(
        actor=hub.researcher,
        received_at=hub.enquiry.received_at,
        referrer_name="Anon",
        referrer_type=hub.enquiry.referrer_type,
        subjects=[other],
        subject_type="child",
        concern="x",
        categories=["neglect"],
        consent="yes",
        consent_reason="",
        others=(),
    )

    response = send(
        client_for(hub.researcher), hub, agencies="usual", people=[elsewhere.subject_id]
    )

    assert response.status_code == 400
    assert response.json()["people"] == ["Not named in this enquiry: Zed Other."]


def test_practitioners_do_not_send_requests_nor_does_anyone_on_a_decided_enquiry(hub):
    by_practitioner = send(client_for(hub.police_officer), hub, agencies=[hub.csc.pk])
    enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No risk.",
        expected_version=hub.enquiry.version,
    )
    after_decision = send(client_for(hub.manager), hub, agencies=[hub.csc.pk])

    assert by_practitioner.status_code == 403
    assert by_practitioner.json() == {
        "detail": "Only researchers and managers send information requests."
    }
    assert after_decision.status_code == 403
    assert InformationRequest.objects.count() == 2


# Information requests: answering


def record_body(hub, marker="M", **overrides) -> dict:
    return {
        "person": hub.enquiry.subject_id,
        "summary": f"Summary {marker}",
        "detail": f"Detail {marker}",
        "source_system": "Niche RMS",
        "information_date": "2026-01-05",
        "sensitivity": "sensitive",
        **overrides,
    }


def test_a_practitioner_adds_records_then_sends_the_answer(hub):
    police = client_for(hub.police_officer)

    added = police.post(
        url("information-request-records", hub.police_request.pk),
        record_body(hub, "ADDED"),
        format="json",
    )
    hub.police_request.refresh_from_db()
    answered = police.post(
        url("information-request-answer", hub.police_request.pk),
        {"expected_version": hub.police_request.version},
        format="json",
    )

    assert added.status_code == 201, added.json()
    record = added.json()
    assert record["content"]["detail"] == "Detail ADDED"
    assert (record["sensitivity"], record["release_status"], record["signpost"]) == (
        "sensitive",
        "not_requested",
        None,
    )
    assert record["request"] == hub.police_request.pk
    assert record["actions"] == ["release", "correct", "withdraw"]
    assert answered.status_code == 200, answered.json()
    assert (answered.json()["status"], answered.json()["actions"]) == ("answered", [])
    assert answered.json()["answered_by"]["id"] == hub.police_officer.pk
    assert answered.json()["response_minutes"] is not None
    viewed = AccessLogEntry.objects.get(action=Log.VIEW)
    assert (viewed.user, viewed.record_id, viewed.channel) == (
        hub.police_officer,
        record["id"],
        "api",
    )


def test_a_record_with_gaps_is_refused_field_by_field_and_logged(hub):
    response = client_for(hub.police_officer).post(
        url("information-request-records", hub.police_request.pk),
        {"summary": " ", "sensitivity": ""},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {
        "person",
        "summary",
        "detail",
        "source_system",
        "information_date",
        "sensitivity",
    }
    assert not InformationRecord.objects.exists()
    assert len(denied(hub.police_officer, enquiry=hub.enquiry)) == 1


def test_a_record_dated_in_the_future_or_about_a_stranger_is_refused(hub, make_user):
    from enquiries.models import Person

    outsider = Person.objects.create(first_name="Not", last_name="Named")
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()

    response = client_for(hub.police_officer).post(
        url("information-request-records", hub.police_request.pk),
        record_body(hub, person=outsider.pk, information_date=tomorrow),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"person", "information_date"}
    assert not InformationRecord.objects.exists()


def test_answering_another_agencys_request_is_refused_logged_and_changes_nothing(hub):
    health = client_for(hub.health_visitor)
    request = hub.police_request

    add = health.post(url("information-request-records", request.pk), record_body(hub), "json")
    answer = health.post(
        url("information-request-answer", request.pk), {"expected_version": 1}, "json"
    )
    nothing = health.post(
        url("information-request-nothing-held", request.pk), {"expected_version": 1}, "json"
    )

    for response in (add, answer, nothing):
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only a practitioner of Thames Valley Police can answer this request."
        }
    request.refresh_from_db()
    assert (request.status, request.version) == ("requested", 1)
    assert not InformationRecord.objects.exists()
    assert len(denied(hub.health_visitor, enquiry=hub.enquiry)) == 3


def test_an_unseen_request_is_404_for_every_action_and_logged(hub, stranger):
    api = client_for(stranger)
    pk = hub.police_request.pk

    responses = [
        api.post(url("information-request-records", pk), record_body(hub), "json"),
        api.post(url("information-request-answer", pk), {"expected_version": 1}, "json"),
        api.post(url("information-request-nothing-held", pk), {"expected_version": 1}, "json"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert len(denied(stranger)) == 3
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == "requested"


def test_nothing_held_closes_the_request_once_and_a_repeat_answers_as_the_first(hub):
    police = client_for(hub.police_officer)
    address = url("information-request-nothing-held", hub.police_request.pk)

    # a double click, or a call retried after its answer was lost: the same version twice
    first = police.post(address, {"expected_version": 1}, format="json")
    again = police.post(address, {"expected_version": 1}, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "nothing_held"
    assert again.json() == first.json()
    hub.police_request.refresh_from_db()
    assert hub.police_request.version == 2  # closed once
    told = Notification.objects.filter(kind=Notification.Kind.INFORMATION_ANSWERED)
    assert told.count() == 1
    assert not denied(hub.police_officer)


def test_a_repeated_answer_answers_as_the_first(hub):
    hub.record("non_sensitive", marker="N")  # in progress, version 2
    police = client_for(hub.police_officer)
    address = url("information-request-answer", hub.police_request.pk)

    first = police.post(address, {"expected_version": 2}, format="json")
    again = police.post(address, {"expected_version": 2}, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "answered"
    assert again.json() == first.json()
    hub.police_request.refresh_from_db()
    assert hub.police_request.version == 3


def test_once_answered_another_answer_or_another_agency_is_still_refused(hub):
    police = client_for(hub.police_officer)
    nothing = url("information-request-nothing-held", hub.police_request.pk)
    answer = url("information-request-answer", hub.police_request.pk)
    assert police.post(nothing, {"expected_version": 1}, format="json").status_code == 200

    # the other answer is not a repeat of this one
    other_answer = police.post(answer, {"expected_version": 2}, format="json")
    # the health visitor's agency was not asked this request: the same refusal as before
    health = client_for(hub.health_visitor)
    other_agency = [
        health.post(address, {"expected_version": 2}, format="json")
        for address in (nothing, answer)
    ]

    assert other_answer.status_code == 403
    assert other_answer.json() == {"detail": "This request has been answered already."}
    for response in other_agency:
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only a practitioner of Thames Valley Police can answer this request."
        }
    assert len(denied(hub.health_visitor, enquiry=hub.enquiry)) == 2
    hub.police_request.refresh_from_db()
    assert (hub.police_request.status, hub.police_request.version) == ("nothing_held", 2)


def test_answering_needs_the_version_read_and_a_stale_one_is_409(hub):
    police = client_for(hub.police_officer)
    hub.record("non_sensitive", marker="N")  # the request is now in progress, version 2

    missing = police.post(url("information-request-answer", hub.police_request.pk), {}, "json")
    stale = police.post(
        url("information-request-answer", hub.police_request.pk), {"expected_version": 1}, "json"
    )
    empty = client_for(hub.health_visitor).post(
        url("information-request-answer", hub.health_request.pk), {"expected_version": 1}, "json"
    )

    assert missing.status_code == 400
    assert list(missing.json()) == ["expected_version"]
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert empty.status_code == 400
    assert empty.json()["non_field_errors"][0].startswith("Add at least one information record")
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == "in_progress"


# Information records: listing, searching, reading


def test_the_list_shows_content_or_a_signpost_never_hidden_content(hub):
    plain = hub.record("non_sensitive", marker="PLAIN-7c1")
    secret = hub.record("sensitive", marker="SECRET-9f2")

    response = client_for(hub.researcher).get(url("information-record-list"))

    rows = {row["id"]: row for row in results(response)}
    assert list(rows) == [secret.pk, plain.pk]
    assert rows[plain.pk]["content"]["summary"] == "Summary PLAIN-7c1"
    assert rows[plain.pk]["signpost"] is None
    assert rows[secret.pk]["content"] is None
    assert rows[secret.pk]["signpost"].startswith(
        "Thames Valley Police holds sensitive information about Amy Firewall, recorded on "
        "1 October 2025."
    )
    assert rows[secret.pk]["actions"] == ["request_release"]
    assert rows[secret.pk]["agency"] == {"id": hub.police.pk, "name": "Thames Valley Police"}
    assert rows[secret.pk]["person"] == {"id": hub.enquiry.subject_id, "name": "Amy Firewall"}
    assert "SECRET-9f2" not in response.content.decode()
    assert "Niche RMS" not in str(rows[secret.pk])
    assert not AccessLogEntry.objects.filter(action=Log.VIEW).exists()


def test_the_owning_agency_reads_its_records_and_each_sensitive_view_is_logged(hub):
    plain = hub.record("non_sensitive", marker="PLAIN-7c1")
    secret = hub.record("sensitive", marker="SECRET-9f2")
    requested = hub.record("release_requested", marker="ASKED-3d4")

    rows = results(client_for(hub.police_officer).get(url("information-record-list")))

    by_id = {row["id"]: row for row in rows}
    assert by_id[secret.pk]["content"]["detail"].startswith("Detail SECRET-9f2")
    # and, as its practitioner, correct or withdraw each (sharing.revisions)
    assert by_id[secret.pk]["actions"] == ["release", "correct", "withdraw"]
    assert by_id[requested.pk]["actions"] == ["release", "refuse", "correct", "withdraw"]
    assert by_id[plain.pk]["actions"] == ["correct", "withdraw"]
    views = AccessLogEntry.objects.filter(action=Log.VIEW, user=hub.police_officer)
    assert sorted(views.values_list("record_id", flat=True)) == sorted([secret.pk, requested.pk])
    assert set(views.values_list("channel", flat=True)) == {"api"}


def test_search_finds_only_what_the_user_may_read(hub):
    hub.record("sensitive", marker="NEEDLE-s")
    plain = hub.record("non_sensitive", marker="NEEDLE-p", agency="health")
    released = hub.record("released", marker="NEEDLE-r")

    def hits(user):
        response = client_for(user).get(url("information-record-list", q="needle"))
        return response, [row["id"] for row in results(response)]

    researcher, researcher_hits = hits(hub.researcher)
    _, police_hits = hits(hub.police_officer)

    assert researcher_hits == [released.pk, plain.pk]
    assert "NEEDLE-s" not in researcher.content.decode()
    assert len(police_hits) == 3
    _, by_detail = hits(hub.health_visitor)
    assert by_detail == [released.pk, plain.pk]
    response = client_for(hub.researcher).get(url("information-record-list", q="intelligence"))
    assert [row["id"] for row in results(response)] == [released.pk, plain.pk]


def test_records_filter_by_enquiry_agency_request_and_release_status(hub):
    police = hub.record("release_requested", marker="A")
    health = hub.record("non_sensitive", marker="B", agency="health")
    api = client_for(hub.health_visitor)

    def ids(**params):
        return [row["id"] for row in results(api.get(url("information-record-list", **params)))]

    assert ids(enquiry=hub.enquiry.reference) == [health.pk, police.pk]
    assert ids(enquiry="MASH-1999-000001") == []
    assert ids(agency="mine") == [health.pk]
    assert ids(agency=hub.police.pk) == [police.pk]
    assert ids(request=hub.police_request.pk) == [police.pk]
    assert ids(release_status="requested") == [police.pk]
    bad = api.get(url("information-record-list", release_status="maybe", agency="x"))
    assert bad.status_code == 400
    assert set(bad.json()) == {"release_status", "agency"}


def test_a_practitioner_sees_no_records_of_enquiries_their_agency_was_not_asked_about(
    hub, stranger
):
    hub.record("non_sensitive", marker="PLAIN-7c1")

    response = client_for(stranger).get(url("information-record-list"))

    assert results(response) == []
    assert "PLAIN-7c1" not in response.content.decode()


@pytest.mark.parametrize("role", ["analyst", "auditor", "administrator"])
def test_roles_that_never_work_on_enquiries_find_nothing_and_guesses_are_logged(hub, role):
    record = hub.record("released", marker="RELEASED-5e6")
    user = getattr(hub, role)
    api = client_for(user)

    lists = [api.get(url("information-record-list")), api.get(url("information-request-list"))]
    guesses = [
        api.get(url("information-record-detail", record.pk)),
        api.get(url("information-request-detail", hub.police_request.pk)),
        api.post(url("information-record-release-request", record.pk), {"reason": "x"}, "json"),
        api.post(url("information-record-release", record.pk), RELEASE, "json"),
    ]
    sent = send(api, hub, agencies=[hub.csc.pk])

    assert [results(response) for response in lists] == [[], []]
    assert [response.status_code for response in guesses] == [404, 404, 404, 404]
    assert sent.status_code == 400  # they see no enquiry to send about
    assert list(sent.json()) == ["enquiry"]
    for response in [*lists, *guesses, sent]:
        assert "RELEASED-5e6" not in response.content.decode()
    assert len(denied(user)) == 4
    assert len(denied(user, record=record)) == 3
    assert not ReleaseRequest.objects.filter(requested_by=user).exists()
    assert not AccessLogEntry.objects.filter(user=user, action=Log.VIEW).exists()


def test_nobody_signed_in_gets_401(hub):
    for name in ("information-record-list", "information-request-list"):
        assert APIClient().get(url(name)).status_code == 401


@pytest.mark.parametrize("records", [3, 30])
def test_the_record_list_runs_a_fixed_number_of_queries(
    hub, django_assert_max_num_queries, records
):
    states = ("non_sensitive", "sensitive", "released")
    readable = 0
    for n in range(records):
        state, agency = states[n % 3], ("police", "health")[n % 2]
        hub.record(state, marker=f"M{n}", agency=agency)
        readable += (state, agency) != ("sensitive", "police")
    client = token_client(hub.health_visitor)

    # token with its user, its last use (written once a minute), the user's groups, count, the
    # page's ids, the page's records as shown, when the agency was asked about each enquiry
    # (the justification), one write to the access log for the search and the sensitive
    # content shown (lock, last hash, insert), and the first read of the records from outside
    # their agency (one update, this once: sharing.reads)
    with django_assert_max_num_queries(11):
        response = client.get(url("information-record-list", q="intelligence"))

    assert response.json()["count"] == readable
    assert len(response.json()["results"]) == min(readable, 50)


def test_one_record_reads_through_the_firewall_and_a_view_is_logged(hub):
    released = hub.record("released", marker="RELEASED-5e6")
    secret = hub.record("sensitive", marker="SECRET-9f2")
    api = client_for(hub.researcher)

    shown = api.get(url("information-record-detail", released.pk))
    signposted = api.get(url("information-record-detail", secret.pk))

    assert shown.status_code == 200
    assert shown.json()["content"]["conditions"].startswith("Condition RELEASED-5e6")
    assert shown.json()["release_status"] == "released"
    assert signposted.status_code == 200
    assert signposted.json()["content"] is None
    assert "SECRET-9f2" not in signposted.content.decode()
    view = AccessLogEntry.objects.get(action=Log.VIEW, user=hub.researcher)
    assert (view.record_id, view.enquiry_id, view.channel) == (released.pk, hub.enquiry.pk, "api")


def test_guessed_record_ids_are_404_and_logged(hub, stranger):
    secret = hub.record("sensitive", marker="SECRET-9f2")

    invisible = client_for(stranger).get(url("information-record-detail", secret.pk))
    missing = client_for(hub.researcher).get(url("information-record-detail", secret.pk + 100))
    nonsense = client_for(hub.researcher).get(url("information-record-detail", "1e3"))

    assert [r.status_code for r in (invisible, missing, nonsense)] == [404, 404, 404]
    assert invisible.json() == missing.json() == {"detail": "No such information record."}
    assert "SECRET-9f2" not in invisible.content.decode()
    assert denied(stranger, record=secret) == [
        f"see (record {secret.pk}): No such information record."
    ]
    assert len(denied(hub.researcher, record=None)) == 2


# Release requests, releases and refusals


def test_a_researcher_asks_for_release_once_and_it_is_logged(hub):
    secret = hub.record("sensitive", marker="SECRET-9f2")
    api = client_for(hub.researcher)
    address = url("information-record-release-request", secret.pk)

    asked = api.post(address, {"reason": "Needed to assess the risk."}, format="json")
    again = api.post(address, {"reason": "Still needed."}, format="json")

    assert asked.status_code == 201, asked.json()
    assert (asked.json()["release_status"], asked.json()["content"]) == ("requested", None)
    assert asked.json()["actions"] == []
    assert "SECRET-9f2" not in asked.content.decode() + again.content.decode()
    assert again.status_code == 403
    assert again.json() == {"detail": "Release of this record has already been requested."}
    logged = AccessLogEntry.objects.get(action=Log.RELEASE_REQUEST)
    assert (logged.user, logged.channel, logged.reason) == (
        hub.researcher,
        "api",
        "Needed to assess the risk.",
    )
    assert len(denied(hub.researcher, record=secret)) == 1
    assert ReleaseRequest.objects.count() == 1


def test_asking_without_a_reason_or_for_your_own_agencys_record_is_refused(hub):
    secret = hub.record("sensitive", marker="SECRET-9f2")
    plain = hub.record("non_sensitive", marker="PLAIN-7c1")

    blank = client_for(hub.manager).post(
        url("information-record-release-request", secret.pk), {}, format="json"
    )
    own = client_for(hub.police_officer).post(
        url("information-record-release-request", secret.pk), {"reason": "x"}, format="json"
    )
    not_sensitive = client_for(hub.manager).post(
        url("information-record-release-request", plain.pk), {"reason": "x"}, format="json"
    )

    assert blank.status_code == 400
    assert blank.json() == {"reason": ["Say why the hub needs this information."]}
    assert own.status_code == 403
    assert not_sensitive.status_code == 403
    assert unchanged(secret) and unchanged(plain)
    assert len(denied(hub.manager)) == 2
    assert len(denied(hub.police_officer, record=secret)) == 1


def test_the_owning_agency_releases_with_conditions_and_the_hub_then_reads_it(hub):
    record = hub.record("release_requested", marker="ASKED-3d4")

    released = client_for(hub.police_officer).post(
        url("information-record-release", record.pk), RELEASE, format="json"
    )
    seen = client_for(hub.researcher).get(url("information-record-detail", record.pk))

    assert released.status_code == 201, released.json()
    assert released.json()["release_status"] == "released"
    assert released.json()["content"]["conditions"] == "Not to be shared with the family."
    assert released.json()["actions"] == ["correct", "withdraw"]
    assert seen.json()["content"]["detail"].startswith("Detail ASKED-3d4")
    assert seen.json()["content"]["conditions"] == "Not to be shared with the family."
    release = AccessLogEntry.objects.get(action=Log.RELEASE)
    assert (release.user, release.channel, release.record_id) == (
        hub.police_officer,
        "api",
        record.pk,
    )
    assert "Children Act 1989, s.47" in release.reason


def test_releasing_another_agencys_record_or_twice_is_refused_logged_and_changes_nothing(hub):
    record = hub.record("release_requested", marker="ASKED-3d4")

    by_health = client_for(hub.health_visitor).post(
        url("information-record-release", record.pk), RELEASE, format="json"
    )
    by_researcher = client_for(hub.researcher).post(
        url("information-record-release", record.pk), RELEASE, format="json"
    )

    for response in (by_health, by_researcher):
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only a practitioner of Thames Valley Police can release this record."
        }
        assert "ASKED-3d4" not in response.content.decode()
    assert unchanged(record)
    assert not ReleaseDecision.objects.exists()
    assert len(denied(hub.health_visitor, record=record)) == 1
    assert len(denied(hub.researcher, record=record)) == 1

    police = client_for(hub.police_officer)
    assert (
        police.post(url("information-record-release", record.pk), RELEASE, "json").status_code
        == 201
    )
    twice = police.post(url("information-record-release", record.pk), RELEASE, format="json")

    assert twice.status_code == 403
    assert twice.json() == {"detail": "This record has already been released."}
    assert ReleaseDecision.objects.count() == 1
    assert len(denied(hub.police_officer, record=record)) == 1


def test_a_release_needs_a_reason_proportionality_and_a_lawful_basis(hub):
    record = hub.record("release_requested", marker="ASKED-3d4")

    response = client_for(hub.police_officer).post(
        url("information-record-release", record.pk), {"password": PASSWORD}, format="json"
    )
    bad_basis = client_for(hub.police_officer).post(
        url("information-record-release", record.pk),
        {**RELEASE, "lawful_basis": "because"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"reason", "necessary_and_proportionate", "lawful_basis"}
    assert bad_basis.status_code == 400
    assert list(bad_basis.json()) == ["lawful_basis"]
    assert unchanged(record)
    assert len(denied(hub.police_officer, record=record)) == 1


def test_refusing_needs_a_reason_and_the_content_stays_behind_the_signpost(hub):
    record = hub.record("release_requested", marker="ASKED-3d4")
    police = client_for(hub.police_officer)
    address = url("information-record-refuse", record.pk)

    blank = police.post(address, {"reason": "  "}, format="json")
    assert blank.status_code == 400
    assert blank.json() == {"reason": ["Say why your agency will not release this."]}
    assert unchanged(record)
    by_health = client_for(hub.health_visitor).post(address, {"reason": "No."}, format="json")
    refused = police.post(address, {"reason": "Live investigation."}, format="json")
    seen = client_for(hub.researcher).get(url("information-record-detail", record.pk))

    assert by_health.status_code == 403
    assert refused.status_code == 201
    assert refused.json()["release_status"] == "refused"
    assert seen.json()["content"] is None
    assert seen.json()["actions"] == ["request_release"]
    assert "ASKED-3d4" not in seen.content.decode()
    assert AccessLogEntry.objects.get(action=Log.REFUSE).reason == "Live investigation."
    assert len(denied(hub.police_officer, record=record)) == 1
    assert len(denied(hub.health_visitor, record=record)) == 1


def test_refusing_when_nobody_asked_is_refused(hub):
    record = hub.record("sensitive", marker="SECRET-9f2")

    response = client_for(hub.police_officer).post(
        url("information-record-refuse", record.pk), {"reason": "No."}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Nobody has asked for this record")
    assert unchanged(record)


def test_acting_on_an_unseen_record_is_404_whatever_the_body(hub, stranger):
    record = hub.record("release_requested", marker="ASKED-3d4")
    api = client_for(stranger)

    responses = [
        api.post(url("information-record-release-request", record.pk), {}, format="json"),
        api.post(url("information-record-release", record.pk), {"lawful_basis": "x"}, "json"),
        api.post(url("information-record-refuse", record.pk), {"reason": "No."}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert unchanged(record)
    assert len(denied(stranger, record=record)) == 3
    assert record.release_status == ReleaseStatus.REQUESTED


# The schema


def test_the_schema_describes_every_sharing_endpoint(hub):
    response = client_for(hub.researcher).get(reverse("api:schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert SHARING_PATHS <= set(schema["paths"])
    release = schema["paths"]["/api/v1/information-records/{id}/release/"]["post"]
    assert {"201", "400", "403", "404"} <= set(release["responses"])
    answer = schema["paths"]["/api/v1/information-requests/{id}/answer/"]["post"]
    assert "409" in answer["responses"]
    content = schema["components"]["schemas"]["InformationRecord"]["properties"]["content"]
    assert content.get("nullable") or "oneOf" in content or "allOf" in content
