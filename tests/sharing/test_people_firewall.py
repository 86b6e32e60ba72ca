"""The firewall's rows for people: the people search, the header's search box, the person page,
its chronology and their API, as role x agency x record state x action.

The subject, Amy Firewall, is on an enquiry police and health were asked about; children's
social care was not asked. A record's content reaches a reader exactly when the enquiry page
would show it; to anyone else it is a signpost; to a practitioner whose agency was not asked
the person does not exist, not even as a count."""

import pytest
from django.urls import reverse

from agencies.models import Role
from audit.models import AccessLogEntry

from .conftest import STATES

pytestmark = pytest.mark.django_db

# Who reads a police record's content in each state (its own agency always does).
CONTENT_READERS = {
    "non_sensitive": {"researcher", "manager", "police_officer", "health_visitor"},
    "sensitive": {"police_officer"},
    "release_requested": {"police_officer"},
    "released": {"researcher", "manager", "police_officer", "health_visitor"},
    "refused": {"police_officer"},
}
WORKERS = ("researcher", "manager", "police_officer", "health_visitor")
NO_CASE_WORK = ("analyst", "auditor", "administrator")


def pages(client, person_pk):
    """What each way in shows of a person, as text."""
    return {
        "page": client.get(reverse("person-detail", args=[person_pk])).content.decode(),
        "csv": b"".join(
            client.get(reverse("person-chronology-csv", args=[person_pk])).streaming_content
        ).decode("utf-8-sig"),
        "api": client.get(f"/api/v1/people/{person_pk}/chronology/").content.decode(),
    }


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("viewer", WORKERS)
def test_the_chronology_shows_a_record_exactly_as_the_firewall_does(client, hub, state, viewer):
    hub.record(state, marker=f"M-{state}")
    client.force_login(getattr(hub, viewer))

    shown = pages(client, hub.enquiry.subject_id)

    for channel, text in shown.items():
        if viewer in CONTENT_READERS[state]:
            assert f"Detail M-{state}" in text, channel
        else:
            assert f"M-{state}" not in text, channel
            assert "holds sensitive information about Amy Firewall" in text, channel


@pytest.mark.parametrize("state", ["sensitive", "released"])
def test_each_content_view_in_the_chronology_is_logged_with_the_person(client, hub, state):
    record = hub.record(state, marker="logged")
    client.force_login(hub.researcher)
    client.get(reverse("person-detail", args=[hub.enquiry.subject_id]))
    views = AccessLogEntry.objects.filter(user=hub.researcher, record=record, action="view")
    assert views.exists() == (state == "released")
    assert AccessLogEntry.objects.filter(
        user=hub.researcher, action="view_person", person_id=hub.enquiry.subject_id
    ).exists()


def test_a_refusal_says_why_only_to_whoever_may_read_the_record(client, hub):
    hub.record("refused", marker="why")
    for viewer, sees_why in (("police_officer", True), ("researcher", False)):
        client.force_login(getattr(hub, viewer))
        page = client.get(reverse("person-detail", args=[hub.enquiry.subject_id]))
        assert ("Live investigation." in page.content.decode()) is sees_why, viewer


@pytest.mark.parametrize("viewer", WORKERS)
def test_workers_on_the_enquiry_find_the_person(client, hub, viewer):
    client.force_login(getattr(hub, viewer))
    found = client.get("/api/v1/people/", {"q": "Amy Firewall"}).json()["results"]
    page = client.get(reverse("people-search"), {"q": "Amy Firewall"}).content.decode()
    assert [result["person"]["id"] for result in found] == [hub.enquiry.subject_id]
    assert hub.enquiry.reference in page


def test_a_practitioner_whose_agency_was_not_asked_learns_nothing(client, hub, make_user):
    outsider = make_user(Role.PRACTITIONER, agency=hub.csc)
    client.force_login(outsider)
    person = hub.enquiry.subject_id
    number = str(int(hub.enquiry.reference.rsplit("-", 1)[1]))

    api_search = client.get("/api/v1/people/", {"q": "Amy Firewall"})
    page_search = client.get(reverse("people-search"), {"q": "Amy Firewall"}).content.decode()
    by_reference = client.get(reverse("find"), {"q": hub.enquiry.reference})
    by_number = client.get(reverse("find"), {"q": number}).content.decode()
    by_name = client.get(reverse("find"), {"q": "Amy Firewall"}).content.decode()

    assert api_search.json()["results"] == []
    for text in (page_search, by_number, by_name, by_reference.content.decode()):
        assert reverse("person-detail", args=[person]) not in text
        assert 'data-testid="person-result"' not in text
        assert hub.enquiry.get_absolute_url() not in text
        assert 'data-testid="enquiries-found"' not in text
    assert by_reference.status_code == 200
    assert 'data-testid="nothing-found"' in by_reference.content.decode()
    assert client.get(reverse("person-detail", args=[person])).status_code == 404
    assert client.get(reverse("person-chronology-csv", args=[person])).status_code == 404
    assert client.get(f"/api/v1/people/{person}/").status_code == 404
    assert client.get(f"/api/v1/people/{person}/chronology/").status_code == 404


def test_an_unknown_person_and_a_hidden_one_look_the_same(client, hub, make_user):
    client.force_login(make_user(Role.PRACTITIONER, agency=hub.csc))
    hidden = client.get(f"/api/v1/people/{hub.enquiry.subject_id}/")
    unknown = client.get("/api/v1/people/999999/")
    assert (hidden.status_code, hidden.json()) == (unknown.status_code, unknown.json())


@pytest.mark.parametrize("viewer", NO_CASE_WORK)
def test_roles_without_case_work_get_nothing(client, hub, viewer):
    client.force_login(getattr(hub, viewer))
    person = hub.enquiry.subject_id
    assert client.get("/api/v1/people/", {"q": "Amy"}).status_code == 403
    assert client.get(f"/api/v1/people/{person}/").status_code == 403
    assert client.get(f"/api/v1/people/{person}/chronology/").status_code == 403
    assert client.get(reverse("person-detail", args=[person])).status_code == 403


def test_a_download_logs_each_sensitive_record_it_carries_as_an_export(client, hub):
    released = hub.record("released", marker="exported")
    hidden = hub.record("sensitive", marker="not-exported")
    client.force_login(hub.researcher)
    response = client.get(reverse("person-chronology-csv", args=[hub.enquiry.subject_id]))
    b"".join(response.streaming_content)
    exports = AccessLogEntry.objects.filter(user=hub.researcher, action="export")
    assert set(exports.values_list("record_id", flat=True)) == {None, released.pk}
    assert not exports.filter(record=hidden).exists()
