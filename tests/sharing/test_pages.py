"""The sharing pages: asking agencies, the agency inbox, answering, release and refusal."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries.clock import clock_in_force
from sharing import services
from sharing.models import InformationRecord, InformationRequest, ReleaseStatus, SharingPolicy
from tests.factories import PASSWORD, AgencyFactory

pytestmark = pytest.mark.django_db


def test_asking_agencies_is_a_form_then_a_confirmation_and_only_the_confirmation_sends(
    client, hub, django_assert_max_num_queries
):
    housing = AgencyFactory(name="Housing", asked_by_default=True)
    fire = AgencyFactory(name="Fire and Rescue", asked_by_default=False)
    policy = SharingPolicy.current()
    policy.lead_agency = hub.csc
    policy.save()
    client.force_login(hub.researcher)
    url = reverse("enquiry-send-requests", args=[hub.enquiry.reference])

    # the form: the usual agencies ticked, the occasional one not, the hub's own not listed
    # (sign-in 5, the enquiry, the policy, the agencies, the people, the session's touch)
    with django_assert_max_num_queries(13):
        form = client.get(url).content.decode()
    assert f'value="{housing.pk}" checked' in form
    assert f'value="{fire.pk}"' in form and f'value="{fire.pk}" checked' not in form
    assert f'name="agencies" type="checkbox" value="{hub.csc.pk}"' not in form
    assert f'name="agencies" type="checkbox" value="{housing.pk}"' in form
    # the first post shows what is about to be sent, and sends nothing
    chosen = {
        "agencies": [housing.pk, fire.pk],
        "question": "Anything?",
        "people": [hub.enquiry.subject.pk],
    }
    confirm = client.post(url, chosen)
    shown = confirm.content.decode()
    assert confirm.status_code == 200
    assert "You are about to ask 2 agencies" in shown
    assert "Send 2 requests" in shown and ">Change<" in shown
    assert f'<input type="hidden" name="agencies" value="{fire.pk}">' in shown
    assert not InformationRequest.objects.filter(agency__in=[housing, fire]).exists()
    # "Change" goes back to the form as filled in, sending nothing
    changed = client.post(url, {**chosen, "change": "1"}).content.decode()
    assert f'value="{fire.pk}" checked' in changed
    assert not InformationRequest.objects.filter(agency__in=[housing, fire]).exists()
    # only the confirmation sends
    sent = client.post(url, {**chosen, "confirmed": "1"})

    assert sent.status_code == 302
    asked = InformationRequest.objects.filter(enquiry=hub.enquiry).values_list(
        "agency__name", flat=True
    )
    assert set(asked) == {"Thames Valley Police", "Oxford Health", "Housing", "Fire and Rescue"}
    assert housing.information_requests.get().question == "Anything?"


def test_the_agency_that_runs_the_hub_is_refused_on_the_field(client, hub):
    policy = SharingPolicy.current()
    policy.lead_agency = hub.csc
    policy.save()

    with pytest.raises(ValidationError) as refused:
        services.send_information_requests(
            enquiry=hub.enquiry, actor=hub.researcher, agencies=[hub.csc]
        )

    assert refused.value.message_dict == {
        "agencies": ["Children's Social Care runs the hub: its information is already the hub's."]
    }
    assert hub.csc not in services.usual_agencies()
    assert hub.police in services.usual_agencies()


def test_choosing_agencies_needs_at_least_one(client, hub):
    client.force_login(hub.researcher)
    url = reverse("enquiry-send-requests", args=[hub.enquiry.reference])

    page = client.get(url)
    response = client.post(url, {"question": "Anything?", "people": [hub.enquiry.subject.pk]})

    assert "Children&#x27;s Social Care" in page.content.decode()
    assert "Thames Valley Police" not in page.content.decode()  # asked already
    assert response.status_code == 200
    assert "Choose at least one agency to ask." in response.content.decode()


def test_practitioners_cannot_send_requests(client, hub):
    client.force_login(hub.police_officer)
    response = client.post(
        reverse("enquiry-send-requests", args=[hub.enquiry.reference]),
        {"agencies": [hub.csc.pk], "people": [hub.enquiry.subject.pk], "confirmed": "1"},
    )
    assert response.status_code == 403


def test_a_practitioner_answers_with_a_record_then_sends_the_answer(client, hub):
    client.force_login(hub.police_officer)
    request_url = reverse("sharing-request", args=[hub.police_request.pk])

    inbox = client.get(reverse("agency-inbox"))
    added = client.post(
        reverse("sharing-request-add-record", args=[hub.police_request.pk]),
        {
            "person": hub.enquiry.subject.pk,
            "summary": "Domestic incident, October 2025",
            "detail": "Officers attended; father arrested.",
            "source_system": "Niche RMS",
            "information_date": "2025-10-02",
            "sensitivity": "sensitive",
        },
    )
    page = client.get(request_url)
    checked = client.post(
        reverse("sharing-request-answer", args=[hub.police_request.pk]),
        {"expected_version": 2},
    )
    answered = client.post(
        reverse("sharing-request-answer", args=[hub.police_request.pk]),
        {"expected_version": 2, "confirmed": "yes"},
    )

    assert hub.enquiry.reference in inbox.content.decode()
    assert added.status_code == 302
    assert "father arrested" in page.content.decode()
    assert checked.status_code == 200  # the check before sending (test_revisions.py)
    assert answered.status_code == 302
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == InformationRequest.Status.ANSWERED
    assert hub.police_request.answered_by == hub.police_officer


def test_bad_record_input_is_refused_field_by_field_and_nothing_is_saved(client, hub):
    client.force_login(hub.police_officer)
    response = client.post(
        reverse("sharing-request-add-record", args=[hub.police_request.pk]),
        {"person": hub.enquiry.subject.pk, "information_date": "2999-01-01"},
    )
    text = response.content.decode()
    assert response.status_code == 400
    for message in (
        "Give a one-line summary.",
        "Give the information itself.",
        "The date cannot be in the future.",
        "Say whether the information is sensitive.",
    ):
        assert message in text
    assert not InformationRecord.objects.exists()


def test_another_agency_cannot_answer_and_the_attempt_is_logged(client, hub):
    client.force_login(hub.health_visitor)
    response = client.post(
        reverse("sharing-request-nothing-held", args=[hub.police_request.pk]),
        {"expected_version": 1},
    )
    assert response.status_code == 403
    hub.police_request.refresh_from_db()
    assert hub.police_request.status == InformationRequest.Status.REQUESTED
    assert AccessLogEntry.objects.filter(user=hub.health_visitor, action="denied").exists()


def test_a_double_click_on_nothing_held_shows_the_saved_answer(client, hub):
    client.force_login(hub.police_officer)
    address = reverse("sharing-request-nothing-held", args=[hub.police_request.pk])

    # both posts carry the version of the page they were sent from
    first = client.post(address, {"expected_version": 1})
    again = client.post(address, {"expected_version": 1}, follow=True)

    assert first.status_code == 302
    assert again.redirect_chain == [(reverse("agency-inbox"), 302)]
    assert "Answered: nothing held." in again.content.decode()
    assert "Your role does not allow this" not in again.content.decode()
    hub.police_request.refresh_from_db()
    assert (hub.police_request.status, hub.police_request.version) == ("nothing_held", 2)
    assert not AccessLogEntry.objects.filter(user=hub.police_officer, action="denied").exists()


def test_a_double_click_on_send_the_answer_shows_the_saved_answer(client, hub):
    hub.record("non_sensitive", marker="N")  # in progress, version 2
    client.force_login(hub.police_officer)
    address = reverse("sharing-request-answer", args=[hub.police_request.pk])

    first = client.post(address, {"expected_version": 2, "confirmed": "yes"})
    again = client.post(address, {"expected_version": 2, "confirmed": "yes"}, follow=True)

    assert first.status_code == 302
    assert again.redirect_chain == [(reverse("agency-inbox"), 302)]
    assert "Answer sent." in again.content.decode()
    hub.police_request.refresh_from_db()
    assert (hub.police_request.status, hub.police_request.version) == ("answered", 3)


def test_once_answered_another_agency_is_refused_as_before(client, hub):
    client.force_login(hub.police_officer)
    address = reverse("sharing-request-nothing-held", args=[hub.police_request.pk])
    assert client.post(address, {"expected_version": 1}).status_code == 302

    client.force_login(hub.health_visitor)
    response = client.post(address, {"expected_version": 2})

    assert response.status_code == 403
    assert "Your role does not allow this" in response.content.decode()
    assert AccessLogEntry.objects.filter(user=hub.health_visitor, action="denied").exists()


def test_a_stale_answer_is_refused(client, hub):
    client.force_login(hub.police_officer)
    response = client.post(
        reverse("sharing-request-nothing-held", args=[hub.police_request.pk]),
        {"expected_version": 7},
    )
    assert response.status_code == 409
    assert "Someone else changed" in response.content.decode()


def test_guessing_a_record_id_is_not_found_and_logged(client, hub):
    record = hub.record("sensitive", marker="GUESS")
    stranger_agency = AgencyFactory(name="Housing")
    from tests.factories import UserFactory

    stranger = UserFactory(roles=[Role.PRACTITIONER], agency=stranger_agency)
    client.force_login(stranger)

    for pk in (record.pk, record.pk + 1000):
        assert client.get(reverse("sharing-record", args=[pk])).status_code == 404
    assert AccessLogEntry.objects.filter(user=stranger, action="denied").count() == 2


def test_release_from_the_record_page_with_a_condition(client, hub):
    record = hub.record("release_requested", marker="PAGE")
    client.force_login(hub.police_officer)

    page = client.get(reverse("sharing-record", args=[record.pk]))
    bad = client.post(reverse("sharing-record-release", args=[record.pk]), {"reason": ""})
    good = client.post(
        reverse("sharing-record-release", args=[record.pk]),
        {
            "necessary_and_proportionate": "on",
            "lawful_basis": "children_act_1989_s47",
            "reason": "Pertinent.",
            "conditions": "Not to be shared with the family.",
            "password": PASSWORD,
        },
    )

    assert 'data-testid="release-form"' in page.content.decode()
    assert 'data-testid="refuse-form"' in page.content.decode()
    assert bad.status_code == 400
    assert "Confirm that releasing this is necessary and proportionate." in bad.content.decode()
    assert good.status_code == 302
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED
    client.force_login(hub.researcher)
    seen = client.get(hub.enquiry.get_absolute_url()).content.decode()
    assert "Detail PAGE" in seen and "Not to be shared with the family." in seen


def test_the_export_carries_content_or_signpost_and_is_logged(client, hub):
    hub.record("sensitive", marker="HIDDEN")
    hub.record("non_sensitive", marker="OPEN")
    client.force_login(hub.researcher)

    response = client.get(reverse("enquiry-information-export", args=[hub.enquiry.reference]))

    text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "Detail OPEN" in text and "HIDDEN" not in text
    assert "Thames Valley Police holds sensitive information about Amy Firewall" in text
    assert AccessLogEntry.objects.filter(user=hub.researcher, action="export").exists()


def test_export_cells_never_start_like_a_formula(client, hub):
    from sharing import services

    services.add_information_record(
        request=hub.police_request,
        actor=hub.police_officer,
        person=hub.enquiry.subject,
        summary='=HYPERLINK("http://example.invalid")',
        detail="+1 attended",
        source_system="@system",
        information_date=date(2026, 1, 1),
        sensitivity="non_sensitive",
    )
    client.force_login(hub.researcher)
    text = client.get(
        reverse("enquiry-information-export", args=[hub.enquiry.reference])
    ).content.decode()
    assert "'=HYPERLINK" in text and "'+1 attended" in text and "'@system" in text


def test_a_practitioner_of_an_asked_agency_opens_the_enquiry(client, hub):
    client.force_login(hub.health_visitor)
    response = client.get(hub.enquiry.get_absolute_url())
    assert response.status_code == 200
    assert 'data-testid="enquiry-actions"' not in response.content.decode()


@pytest.mark.parametrize("requests", [2, 25])
def test_the_inbox_runs_a_fixed_number_of_queries(
    client, hub, make_user, django_assert_max_num_queries, requests
):
    from enquiries.models import Enquiry
    from sharing import services

    for n in range(requests):
        enquiry = Enquiry.objects.get(pk=hub.enquiry.pk)
        enquiry.pk = None
        enquiry.reference = f"MASH-2026-9{n:05d}"
        enquiry.save()
        services.send_information_requests(
            enquiry=enquiry, actor=hub.researcher, agencies=[hub.police]
        )
        hub.record("release_requested", marker=f"M{n}")
    client.force_login(hub.police_officer)

    # session, user, groups, open requests (count and page), records awaiting a release
    # decision (count and page), when the agency was asked about their enquiries (the
    # justification), the access log write for reading them (lock and last hash, insert),
    # requests answered lately,
    # requests withdrawn lately, colleagues and their groups, unread notifications
    with django_assert_max_num_queries(15):
        response = client.get(reverse("agency-inbox"))
    assert response.status_code == 200


@pytest.mark.parametrize("records", [1, 20])
def test_the_enquiry_page_adds_a_fixed_number_of_queries_for_its_information(
    client, hub, django_assert_max_num_queries, records
):
    for n in range(records):
        hub.record(["sensitive", "non_sensitive", "released"][n % 3], marker=f"E{n}")
    client.force_login(hub.police_officer)
    clock_in_force()  # read once per process and kept, as a running server has it

    # the enquiry page's own (14: its feedback email, and the staff it names read by primary
    # key rather than joined) plus: can the practitioner
    # see it, the requests, the records through the firewall, and one write to the access
    # log for the page and the sensitive content on it (lock, last hash, insert); the
    # justification reuses the requests. The same for any enquiry:
    # tests/sharing/test_enquiry_page_queries.py
    with django_assert_max_num_queries(20):
        response = client.get(hub.enquiry.get_absolute_url())
    assert response.status_code == 200


def test_search_finds_only_what_the_person_may_read(client, hub):
    hub.record("sensitive", marker="SEARCHME")
    client.force_login(hub.researcher)
    assert (
        "0 records found"
        in client.get(reverse("sharing-search"), {"q": "SEARCHME"}).content.decode()
    )
    client.force_login(hub.police_officer)
    assert (
        "1 record found"
        in client.get(reverse("sharing-search"), {"q": "SEARCHME"}).content.decode()
    )


def test_the_inbox_shows_and_logs_a_page_of_records_awaiting_a_decision_at_a_time(
    client, hub, django_assert_max_num_queries
):
    """Oldest first, twenty to a page with their count: the inbox's cost and the views it
    logs are a page's, whatever the agency has waiting (issue 23)."""
    records = [hub.record("release_requested", marker=f"W{n:02d}") for n in range(23)]
    hub.record("released", marker="decided")  # decided already: not listed
    client.force_login(hub.police_officer)
    viewed = AccessLogEntry.objects.filter(
        user=hub.police_officer, action=AccessLogEntry.Action.VIEW
    )

    with django_assert_max_num_queries(16):
        first = client.get(reverse("agency-inbox")).content.decode()

    assert "Awaiting your release decision (23)" in first
    assert [f"Summary W{n:02d}" in first for n in range(23)] == [True] * 20 + [False] * 3
    assert set(viewed.values_list("record_id", flat=True)) == {r.pk for r in records[:20]}
    assert 'aria-label="Pages of records awaiting your release decision"' in first
    assert 'href="?awaiting=2"' in first

    second = client.get(reverse("agency-inbox"), {"awaiting": 2, "page": 1}).content.decode()

    assert [f"Summary W{n:02d}" in second for n in range(23)] == [False] * 20 + [True] * 3
    assert "Page 2 of 2" in second
    assert 'href="?page=1&amp;awaiting=1"' in second
    assert set(viewed.values_list("record_id", flat=True)) == {r.pk for r in records}
    # Past the last page, the last page; nonsense, the first.
    assert "Summary W22" in client.get(reverse("agency-inbox"), {"awaiting": 9}).content.decode()
    assert "Summary W00" in client.get(reverse("agency-inbox"), {"awaiting": "x"}).content.decode()
