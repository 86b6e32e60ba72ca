"""What the access log records for each way into person-level information: every page and API
response about one person, every search with its terms, every export, a refused attempt, and
the auditor reading the logs. Each entry says who, in which role and agency, from which
address, in which request (the response's X-Request-ID), about which person, record and
enquiry, why (the justification) and what was searched for."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, ReferrerType
from sharing.models import InformationRecord
from tests.factories import AgencyFactory, UserFactory

from .conftest import Hub

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel
ADDRESS = "127.0.0.1"  # the test client's REMOTE_ADDR


@dataclass(frozen=True)
class Logged:
    """One access log entry, as the auditor reads it."""

    action: str
    channel: str
    user: int
    role: str
    agency: int
    person: int | None
    enquiry: int | None
    record: int | None = None
    reason: str = ""
    terms: str = ""
    address: str | None = ADDRESS


def written_by(response) -> list[Logged]:
    """The entries the request behind `response` wrote, in order, found by its X-Request-ID."""
    entries = AccessLogEntry.objects.filter(request_id=response["X-Request-ID"]).order_by("id")
    return [
        Logged(
            action=entry.action,
            channel=entry.channel,
            user=entry.user_id,
            role=entry.role,
            agency=entry.agency_id,
            person=entry.person_id,
            enquiry=entry.enquiry_id,
            record=entry.record_id,
            reason=entry.reason,
            terms=entry.terms,
            address=entry.address,
        )
        for entry in entries
    ]


def by(user, role: str, action: str, channel: str, **about) -> Logged:
    return Logged(
        action=action, channel=channel, user=user.pk, role=role, agency=user.agency_id, **about
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def day(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def working_as_police(hub: Hub) -> str:
    return (
        f"Working on {hub.enquiry.reference} as Agency practitioner for Thames Valley Police, "
        f"which was asked for information on {day(hub.police_request.requested_at)}"
    )


# The enquiry: its page and the API.


def test_the_enquiry_page_logs_the_look_at_its_subject_and_at_sensitive_content(client, hub):
    released = hub.record("released", marker="R")
    hub.record("non_sensitive", marker="N", agency="health")
    hub.record("sensitive", marker="S")  # signposted for the researcher: not a view
    client.force_login(hub.researcher)

    response = client.get(hub.enquiry.get_absolute_url())

    assert response.status_code == 200
    why = f"Working on {hub.enquiry.reference} as Researcher"
    subject, enquiry = hub.enquiry.subject_id, hub.enquiry.pk
    assert written_by(response) == [
        by(
            hub.researcher,
            "researcher",
            Log.VIEW_PERSON,
            Channel.PAGE,
            person=subject,
            enquiry=enquiry,
            reason=why,
        ),
        by(
            hub.researcher,
            "researcher",
            Log.VIEW,
            Channel.PAGE,
            person=subject,
            enquiry=enquiry,
            record=released.pk,
            reason=why,
        ),
    ]


def test_the_justification_names_the_assignment_and_the_managers_part(client, hub):
    enquiry_services.enquiry_assign(
        enquiry=hub.enquiry,
        actor=hub.researcher,
        assignee=hub.researcher,
        expected_version=hub.enquiry.version,
    )
    reasons = {}
    for user in (hub.researcher, hub.manager):
        client.force_login(user)
        [entry] = written_by(client.get(hub.enquiry.get_absolute_url()))
        reasons[user.username] = entry.reason

    assert reasons == {
        "researcher": f"Working on {hub.enquiry.reference} as Researcher (assigned to them)",
        "manager": f"Working on {hub.enquiry.reference} as Manager",
    }


def test_a_practitioner_is_justified_by_their_agency_being_asked(client, hub):
    own = hub.record("sensitive", marker="OWN")
    client.force_login(hub.police_officer)

    response = client.get(hub.enquiry.get_absolute_url())

    assert [(entry.action, entry.record, entry.reason) for entry in written_by(response)] == [
        (Log.VIEW_PERSON, None, working_as_police(hub)),
        (Log.VIEW, own.pk, working_as_police(hub)),
    ]
    assert {entry.role for entry in written_by(response)} == {"practitioner"}


def test_the_enquiry_api_logs_each_enquiry_read(hub):
    response = api(hub.manager).get(reverse("api:enquiry-detail", args=[hub.enquiry.reference]))

    assert response.status_code == 200
    assert written_by(response) == [
        by(
            hub.manager,
            "manager",
            Log.VIEW_PERSON,
            Channel.API,
            person=hub.enquiry.subject_id,
            enquiry=hub.enquiry.pk,
            reason=f"Working on {hub.enquiry.reference} as Manager",
        )
    ]


# Information requests and records: pages and the API.


@pytest.mark.parametrize("surface", ["page", "api"])
def test_an_information_request_logs_the_look_and_the_content_it_shows(client, hub, surface):
    record = hub.record("sensitive", marker="REQ")
    if surface == "page":
        client.force_login(hub.police_officer)
        response = client.get(reverse("sharing-request", args=[hub.police_request.pk]))
    else:
        response = api(hub.police_officer).get(
            reverse("api:information-request-detail", args=[hub.police_request.pk])
        )

    assert response.status_code == 200
    channel = Channel.PAGE if surface == "page" else Channel.API
    about = {"person": hub.enquiry.subject_id, "enquiry": hub.enquiry.pk}
    expected = [by(hub.police_officer, "practitioner", Log.VIEW_PERSON, channel, **about)]
    if surface == "page":  # the API's request holds no records
        expected.append(
            by(hub.police_officer, "practitioner", Log.VIEW, channel, record=record.pk, **about)
        )
    assert written_by(response) == [
        Logged(**{**entry.__dict__, "reason": working_as_police(hub)}) for entry in expected
    ]


@pytest.mark.parametrize("surface", ["page", "api"])
@pytest.mark.parametrize("state", ["non_sensitive", "released", "sensitive"])
def test_a_record_logs_the_look_at_its_person_and_any_sensitive_content(
    client, hub, surface, state
):
    record = hub.record(state, marker="ONE")
    if surface == "page":
        client.force_login(hub.researcher)
        response = client.get(reverse("sharing-record", args=[record.pk]))
    else:
        response = api(hub.researcher).get(
            reverse("api:information-record-detail", args=[record.pk])
        )

    assert response.status_code == 200
    channel = Channel.PAGE if surface == "page" else Channel.API
    about = {
        "person": record.person_id,
        "enquiry": record.enquiry_id,
        "record": record.pk,
        "reason": f"Working on {hub.enquiry.reference} as Researcher",
    }
    expected = [by(hub.researcher, "researcher", Log.VIEW_PERSON, channel, **about)]
    if state == "released":  # sensitive content shown; a signpost or open record is not
        expected.append(by(hub.researcher, "researcher", Log.VIEW, channel, **about))
    assert written_by(response) == expected


@pytest.mark.parametrize("surface", ["page", "api"])
def test_a_refused_attempt_on_a_record_names_its_enquiry_and_person(client, hub, surface):
    record = hub.record("sensitive", marker="NOPE")
    stranger = UserFactory(roles=[Role.PRACTITIONER], agency=AgencyFactory(name="Housing"))
    if surface == "page":
        client.force_login(stranger)
        response = client.get(reverse("sharing-record", args=[record.pk]))
    else:
        response = api(stranger).get(reverse("api:information-record-detail", args=[record.pk]))

    assert response.status_code == 404
    [entry] = written_by(response)
    assert entry.action == Log.DENIED
    assert (entry.record, entry.enquiry, entry.person) == (
        record.pk,
        hub.enquiry.pk,
        hub.enquiry.subject_id,
    )
    assert entry.role == "practitioner"
    assert "No such information record." in entry.reason


def test_a_refused_release_names_the_records_enquiry(client, hub):
    record = hub.record("release_requested", marker="ASK")
    client.force_login(hub.health_visitor)

    response = client.post(
        reverse("sharing-record-refuse", args=[record.pk]), {"reason": "Not ours to refuse."}
    )

    assert response.status_code == 403
    [entry] = [entry for entry in written_by(response) if entry.action == Log.DENIED]
    assert (entry.record, entry.enquiry, entry.person) == (
        record.pk,
        hub.enquiry.pk,
        hub.enquiry.subject_id,
    )


# Searches: what was typed and the filters.


def test_a_queue_search_is_logged_with_its_terms_and_a_plain_queue_is_not(client, hub):
    client.force_login(hub.researcher)

    plain = client.get(reverse("triage-queue"), {"rating": "red"})
    searched = client.get(reverse("triage-queue"), {"q": "firewall", "mine": "on"})

    assert written_by(plain) == []
    assert written_by(searched) == [
        by(
            hub.researcher,
            "researcher",
            Log.SEARCH,
            Channel.SEARCH,
            person=None,
            enquiry=None,
            reason="Searching the triage queue as Researcher",
            terms="q: firewall; mine",
        )
    ]


def test_an_api_search_of_enquiries_is_logged_with_its_terms(hub):
    client = api(hub.manager)

    plain = client.get(reverse("api:enquiry-list"))
    searched = client.get(reverse("api:enquiry-list"), {"q": "Amy", "state": "screening"})

    assert written_by(plain) == []
    assert written_by(searched) == [
        by(
            hub.manager,
            "manager",
            Log.SEARCH,
            Channel.API,
            person=None,
            enquiry=None,
            reason="Searching enquiries as Manager",
            terms="q: Amy; state: screening",
        )
    ]


def test_a_register_check_names_each_person_it_showed(hub):
    client = api(hub.researcher)
    url = reverse("api:person-match-list")

    found = client.get(url, {"first_name": "Amy", "last_name": "Firewall"})
    nobody = client.get(
        url, {"first_name": "Zeb", "last_name": "Quux", "date_of_birth": "2019-04-05"}
    )

    assert [match["person"]["id"] for match in found.json()] == [hub.enquiry.subject_id]
    check = {"reason": "Checking the person register at intake as Researcher"}
    assert written_by(found) == [
        by(
            hub.researcher,
            "researcher",
            Log.SEARCH,
            Channel.API,
            person=hub.enquiry.subject_id,
            enquiry=None,
            terms="name: Amy Firewall",
            **check,
        )
    ]
    assert written_by(nobody) == [
        by(
            hub.researcher,
            "researcher",
            Log.SEARCH,
            Channel.API,
            person=None,
            enquiry=None,
            terms="name: Zeb Quux; born: 2019-04-05",
            **check,
        )
    ]


def intake_page_data() -> dict:
    received = timezone.localtime() - timedelta(hours=1)
    return {
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "referrer_name": "Ms Head",
        "referrer_type": ReferrerType.objects.get(code="school").pk,
        "subject_type": "child",
        "categories": ["neglect"],
        "concern": "Arrives hungry.",
        "consent": "yes",
        "subjects-TOTAL_FORMS": "1",
        "subjects-INITIAL_FORMS": "0",
        "subjects-0-first_name": "Amy",
        "subjects-0-last_name": "Firewall",
        "subjects-0-date_of_birth": "2018-05-01",
        "others-TOTAL_FORMS": "1",
        "others-INITIAL_FORMS": "0",
        "others-0-role": "parent_carer",
        "others-0-first_name": "Jo",
        "others-0-last_name": "Unknown-Parent",
    }


def test_the_intake_pages_register_check_is_logged_in_one_write(client, hub):
    client.force_login(hub.researcher)

    response = client.post(reverse("enquiry-intake"), intake_page_data())

    assert "Some of these people may already be known" in response.content.decode()
    assert not Enquiry.objects.exclude(pk=hub.enquiry.pk).exists()
    assert [(entry.action, entry.person, entry.terms) for entry in written_by(response)] == [
        (Log.SEARCH, hub.enquiry.subject_id, "name: Amy Firewall; born: 2018-05-01"),
        (Log.SEARCH, None, "name: Jo Unknown-Parent"),
    ]


def test_an_api_intake_refused_for_a_possible_duplicate_still_logs_the_check(hub):
    body = {
        "received_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_type": "school",
        "subject_type": "child",
        "subjects": [{"first_name": "Amy", "last_name": "Firewall"}],
        "concern": "Arrives hungry.",
        "categories": ["neglect"],
        "consent": "yes",
    }

    response = api(hub.researcher).post(reverse("api:enquiry-list"), body, format="json")

    assert response.status_code == 400
    assert "confirmed_new" in response.json()["subjects"]["0"]
    assert [(entry.action, entry.person, entry.terms) for entry in written_by(response)] == [
        (Log.SEARCH, hub.enquiry.subject_id, "name: Amy Firewall")
    ]


@pytest.mark.parametrize("surface", ["page", "api"])
def test_a_record_search_is_logged_with_its_terms_and_the_sensitive_hits(client, hub, surface):
    own = hub.record("sensitive", marker="HIT")
    hub.record("non_sensitive", marker="OPEN")
    if surface == "page":
        client.force_login(hub.police_officer)
        response = client.get(reverse("sharing-search"), {"q": "intelligence"})
    else:
        response = api(hub.police_officer).get(
            reverse("api:information-record-list"), {"q": "intelligence", "agency": "mine"}
        )

    assert response.status_code == 200
    channel = Channel.SEARCH if surface == "page" else Channel.API
    assert written_by(response) == [
        by(
            hub.police_officer,
            "practitioner",
            Log.SEARCH,
            channel,
            person=None,
            enquiry=None,
            reason="Searching agency records as Agency practitioner for Thames Valley Police",
            terms="q: intelligence" if surface == "page" else "q: intelligence; agency: mine",
        ),
        by(
            hub.police_officer,
            "practitioner",
            Log.VIEW,
            channel,
            person=own.person_id,
            enquiry=own.enquiry_id,
            record=own.pk,
            reason=working_as_police(hub),
        ),
    ]


# Exports.


def test_the_information_export_is_logged_with_its_terms_and_justification(client, hub):
    released = hub.record("released", marker="X")
    hub.record("non_sensitive", marker="Y")
    client.force_login(hub.researcher)

    response = client.get(reverse("enquiry-information-export", args=[hub.enquiry.reference]))

    why = f"Working on {hub.enquiry.reference} as Researcher"
    about = {"person": hub.enquiry.subject_id, "enquiry": hub.enquiry.pk, "reason": why}
    assert written_by(response) == [
        by(
            hub.researcher,
            "researcher",
            Log.EXPORT,
            Channel.EXPORT,
            terms=f"Information picture of {hub.enquiry.reference}: 2 records",
            **about,
        ),
        by(hub.researcher, "researcher", Log.VIEW, Channel.EXPORT, record=released.pk, **about),
    ]


# Nobody's justification is left blank.


def test_every_entry_a_day_of_work_writes_has_a_justification(client, hub):
    hub.record("released", marker="DAY")
    requested = hub.record("release_requested", marker="ASKED")
    responses = []
    client.force_login(hub.researcher)
    responses.append(client.get(hub.enquiry.get_absolute_url()))
    responses.append(client.get(reverse("triage-queue"), {"q": "amy"}))
    responses.append(client.get(reverse("sharing-search"), {"q": "DAY"}))
    responses.append(
        client.get(reverse("enquiry-information-export", args=[hub.enquiry.reference]))
    )
    client.force_login(hub.police_officer)
    responses.append(client.get(reverse("agency-inbox")))  # the record awaiting a decision
    responses.append(client.get(reverse("sharing-request", args=[hub.police_request.pk])))
    responses.append(client.get(reverse("sharing-record", args=[requested.pk])))

    for response in responses:
        entries = written_by(response)
        assert entries, response.request["PATH_INFO"]
        for entry in entries:
            assert entry.reason and entry.role and entry.address == ADDRESS, entry


def test_the_record_person_and_enquiry_agree_on_every_entry_about_a_record(client, hub):
    hub.record("released", marker="AGREE")
    client.force_login(hub.researcher)
    client.get(hub.enquiry.get_absolute_url())

    for entry in AccessLogEntry.objects.filter(record__isnull=False):
        record = InformationRecord.objects.get(pk=entry.record_id)
        assert (entry.enquiry_id, entry.person_id) == (record.enquiry_id, record.person_id)


def test_a_practitioner_whose_agency_was_never_asked_has_no_justification_to_invent(hub):
    from sharing import access_log

    stranger = UserFactory(roles=[Role.PRACTITIONER], agency=AgencyFactory(name="Housing"))

    assert access_log.justification(stranger, hub.enquiry) == (
        f"Working on {hub.enquiry.reference} as Agency practitioner for Housing"
    )
    assert access_log.justification(hub.police_officer, hub.enquiry) == working_as_police(hub)
