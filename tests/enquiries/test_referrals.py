"""Onward referrals: recorded after the decision with the picture as sent, answered once by
the receiving team, read back only by the hub, and counted by the reports."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import hooks, mail, referrals
from enquiries.exceptions import StaleEdit
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    Notification,
    OnwardReferral,
    Outcome,
    OutgoingEmail,
)
from reports import selectors as reports
from reports.periods import Period

from .test_services import LONDON, NOW, at, decide, intake

pytestmark = pytest.mark.django_db

Destination = OnwardReferral.Destination
Method = OnwardReferral.Method
SENT_PICTURES: list[tuple[str, str]] = []


def _fake_picture(reader, enquiry) -> bytes:
    SENT_PICTURES.append((reader.username, enquiry.reference))
    return f"%PDF-1.7 picture of {enquiry.reference} for {reader.username}".encode()


@pytest.fixture(autouse=True)
def fake_picture(monkeypatch):
    """The picture's own tests (tests/sharing) render it; here any bytes say which was sent."""
    SENT_PICTURES.clear()
    monkeypatch.setattr(hooks, "picture_renderers", [_fake_picture])


@pytest.fixture
def decided(researcher, manager):
    (enquiry,) = intake(researcher)
    return decide(
        enquiry,
        manager,
        outcome=Outcome.objects.get(code="csc_assessment"),
        decided_at=at("2026-03-30T12:00"),
    )


def refer(enquiry, actor, **overrides) -> OnwardReferral:
    fields = {
        "enquiry": enquiry,
        "actor": actor,
        "destination": Destination.CSC_ASSESSMENT,
        "method": Method.SECURE_EMAIL,
        "now": NOW,
    }
    fields.update(overrides)
    return referrals.refer_on(**fields)


def answer(referral, actor, **overrides) -> OnwardReferral:
    fields = {
        "referral": referral,
        "actor": actor,
        "accepted": True,
        "expected_version": referral.version,
        "now": NOW + timedelta(hours=2),
    }
    fields.update(overrides)
    return referrals.record_referral_answer(**fields)


def test_a_referral_keeps_the_picture_as_sent_and_enters_the_history(decided, manager):
    referral = refer(decided, manager, sent_at=at("2026-04-01T11:58:30"), note="Spoke to Sam.")

    assert referral.sent_at == at("2026-04-01T11:58")
    sent = f"%PDF-1.7 picture of {decided.reference} for {manager.username}"
    assert bytes(referral.picture) == sent.encode()
    assert referral.picture_compiled_at == NOW
    assert (referral.status, referral.sent_by, referral.note) == ("sent", manager, "Spoke to Sam.")
    event = decided.events.last()
    assert (event.kind, event.to_value, event.rationale) == (
        EnquiryEvent.Kind.REFERRED_ON,
        "Children's social care: assessment",
        "Secure email",
    )
    assert Enquiry.objects.get(pk=decided.pk).version == decided.version + 1


def test_a_referral_to_another_authority_names_it(decided, manager):
    with pytest.raises(ValidationError) as refused:
        refer(decided, manager, destination=Destination.OTHER_LOCAL_AUTHORITY, team="  ")
    assert refused.value.message_dict == {
        "team": ["Name the team or authority the enquiry was referred to."]
    }

    refer(
        decided, manager, destination=Destination.OTHER_LOCAL_AUTHORITY, team="Leeds City Council"
    )
    assert decided.events.last().to_value == "Another local authority: Leeds City Council"


@pytest.mark.parametrize(
    ("subject_type", "destination", "message"),
    [
        (
            Enquiry.SubjectType.CHILD,
            Destination.ADULT_SOCIAL_CARE,
            "Adult social care does not take referrals about a child.",
        ),
        (
            Enquiry.SubjectType.ADULT,
            Destination.EARLY_HELP,
            "Early help does not take referrals about an adult.",
        ),
    ],
)
def test_a_referral_goes_where_the_subject_fits(
    researcher, manager, subject_type, destination, message
):
    (enquiry,) = intake(researcher, subject_type=subject_type)
    enquiry = decide(enquiry, manager, outcome=Outcome.objects.get(code="nfa"))

    with pytest.raises(ValidationError) as refused:
        refer(enquiry, manager, destination=destination)

    assert refused.value.message_dict == {"destination": [message]}
    assert destination not in dict(referrals.destinations_for(subject_type))
    assert not SENT_PICTURES, "nothing is compiled for a referral refused on its details"


def test_an_open_enquiry_is_not_referred_on(researcher, manager):
    (enquiry,) = intake(researcher)

    with pytest.raises(ValidationError) as refused:
        refer(enquiry, manager)

    assert refused.value.messages == [
        "An enquiry is referred on after its decision: this one is not decided yet."
    ]
    assert not OnwardReferral.objects.exists()


@pytest.mark.parametrize(
    ("sent_at", "field_message"),
    [
        (at("2026-03-30T11:59"), "A referral is sent after the decision, not before it."),
        (NOW + timedelta(minutes=1), "A referral cannot be recorded as sent in the future."),
    ],
    ids=["before_the_decision", "in_the_future"],
)
def test_a_referral_is_sent_between_the_decision_and_now(decided, manager, sent_at, field_message):
    with pytest.raises(ValidationError) as refused:
        refer(decided, manager, sent_at=sent_at)

    assert refused.value.message_dict == {"sent_at": [field_message]}


def test_only_a_manager_refers_on(decided, researcher):
    with pytest.raises(PermissionDenied):
        refer(decided, researcher)


def test_a_stale_version_saves_nothing(decided, manager):
    with pytest.raises(StaleEdit):
        refer(decided, manager, expected_version=decided.version - 1)

    assert not OnwardReferral.objects.exists()


def test_the_receiving_team_accepts_once(decided, manager, researcher):
    referral = refer(decided, manager)

    accepted = answer(referral, researcher, answered_by_name="Sam Duty", answered_at=NOW)

    assert (accepted.status, accepted.answered_at, accepted.answered_by_name) == (
        "accepted",
        NOW,
        "Sam Duty",
    )
    assert accepted.answer_recorded_by == researcher
    event = decided.events.last()
    assert (event.kind, event.from_value, event.to_value) == (
        EnquiryEvent.Kind.REFERRAL_ANSWERED,
        "Children's social care: assessment",
        "accepted",
    )
    with pytest.raises(StaleEdit):
        answer(referral, researcher, accepted=False, returned_reason="Changed our minds.")
    with pytest.raises(ValidationError, match="already recorded: Accepted"):
        answer(accepted, researcher, accepted=False, returned_reason="Changed our minds.")


def test_a_returned_referral_needs_a_reason_and_tells_whoever_sent_it(decided, manager, researcher):
    referral = refer(decided, manager)

    with pytest.raises(ValidationError) as refused:
        answer(referral, researcher, accepted=False, returned_reason=" ")
    assert refused.value.message_dict == {
        "returned_reason": ["Say why the receiving team returned the referral."]
    }

    returned = answer(referral, researcher, accepted=False, returned_reason="Not our area.")

    assert (returned.status, returned.returned_reason) == ("returned", "Not our area.")
    told = Notification.objects.get(kind=Notification.Kind.REFERRAL_RETURNED)
    assert told.recipient == manager
    assert told.message == (
        f"{decided.reference}: Children's social care: assessment returned the referral: "
        "Not our area."
    )


def test_a_returned_referral_is_emailed_to_whoever_chose_it(decided, manager, researcher):
    mail.email_preference_save(user=manager, kinds=[Notification.Kind.REFERRAL_RETURNED])

    answer(refer(decided, manager), researcher, accepted=False, returned_reason="Not our area.")

    email = OutgoingEmail.objects.get()
    assert (email.to_address, email.kind, email.enquiry_id) == (
        manager.email,
        OutgoingEmail.Kind.NOTIFICATION,
        decided.pk,
    )
    assert email.subject.endswith(f"Referral returned: {decided.reference}")
    assert "Not our area" not in email.body


def test_an_answer_comes_after_the_referral(decided, manager, researcher):
    referral = refer(decided, manager)

    with pytest.raises(ValidationError) as refused:
        answer(referral, researcher, answered_at=at("2026-04-01T11:00"))

    assert "answered_at" in refused.value.message_dict
    assert OnwardReferral.objects.get().status == "sent"


def test_the_picture_as_sent_is_read_by_the_hub_only_and_logged(decided, manager, make_user):
    referral = refer(decided, manager)
    practitioner = make_user(Role.PRACTITIONER)

    pdf = referrals.referral_picture(referral=referral, reader=manager, channel="export")

    assert pdf.startswith(b"%PDF")
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.EXPORT)
    assert (entry.user, entry.enquiry_id, entry.terms) == (
        manager,
        decided.pk,
        f"onward referral {referral.pk}",
    )
    assert entry.reason == (
        "Read the picture sent with the referral to Children's social care: assessment on "
        "01 April 2026"
    )
    with pytest.raises(PermissionDenied):
        referrals.referral_picture(referral=referral, reader=practitioner, channel="export")


# Pages


def test_the_manager_refers_on_from_the_enquiry_page_and_records_the_answer(
    client, decided, manager
):
    client.force_login(manager)
    page = client.get(decided.get_absolute_url())
    assert reverse("enquiry-refer", args=[decided.reference]) in page.content.decode()

    form = client.get(reverse("enquiry-refer", args=[decided.reference]))
    choices = [value for value, _ in form.context["form"].fields["destination"].choices]
    assert Destination.ADULT_SOCIAL_CARE not in choices

    done = client.post(
        reverse("enquiry-refer", args=[decided.reference]),
        {
            "expected_version": decided.version,
            "destination": Destination.EARLY_HELP,
            "method": Method.CASE_SYSTEM,
            "team": "",
            "note": "",
            "sent_at": "",
        },
    )
    assert done.status_code == 302
    referral = OnwardReferral.objects.get()
    assert referral.destination == Destination.EARLY_HELP

    shown = client.get(decided.get_absolute_url()).content.decode()
    assert "Awaiting answer" in shown
    answer_url = reverse("enquiry-referral-answer", args=[decided.reference, referral.pk])
    assert answer_url in shown

    missing = client.post(answer_url, {"expected_version": 1, "answer": "returned"})
    assert missing.status_code == 200
    assert missing.context["form"].errors == {
        "returned_reason": ["Say why the receiving team returned the referral."]
    }
    client.post(
        answer_url, {"expected_version": 1, "answer": "returned", "returned_reason": "Full."}
    )
    assert OnwardReferral.objects.get().status == "returned"

    pdf = client.get(reverse("enquiry-referral-picture", args=[decided.reference, referral.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content.startswith(b"%PDF")


def test_the_refer_page_shows_field_errors_and_keeps_what_was_typed(client, decided, manager):
    client.force_login(manager)

    page = client.post(
        reverse("enquiry-refer", args=[decided.reference]),
        {
            "expected_version": decided.version,
            "destination": Destination.OTHER_LOCAL_AUTHORITY,
            "method": Method.PHONE,
            "note": "Rang the duty desk.",
        },
    )

    assert page.status_code == 200
    assert page.context["form"].errors == {
        "team": ["Name the team or authority the enquiry was referred to."]
    }
    body = page.content.decode()
    assert "Rang the duty desk." in body
    assert body.count('href="#id_team"') == 1
    assert not OnwardReferral.objects.exists()


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR, Role.RESEARCHER])
def test_nobody_but_a_manager_opens_the_refer_page(client, decided, make_user, role):
    client.force_login(make_user(role))

    assert client.get(reverse("enquiry-refer", args=[decided.reference])).status_code == 403


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR])
def test_outside_the_hub_nobody_reads_a_referral_or_its_picture(
    client, decided, manager, make_user, role
):
    referral = refer(decided, manager)
    client.force_login(make_user(role))

    for name in ("enquiry-referral-answer", "enquiry-referral-picture"):
        url = reverse(name, args=[decided.reference, referral.pk])
        assert client.get(url).status_code == 403
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()


def test_a_referral_of_another_enquiry_is_not_found(client, decided, manager, researcher):
    (other,) = intake(researcher, children=("Zed",))
    referral = refer(decided, manager)
    client.force_login(manager)

    url = reverse("enquiry-referral-picture", args=[other.reference, referral.pk])
    assert client.get(url).status_code == 404


def test_the_enquiry_page_reads_referrals_in_constant_queries(
    client, decided, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    refer(decided, manager)
    client.get(decided.get_absolute_url())  # warm the per-process caches
    with django_assert_max_num_queries(60) as one:
        client.get(decided.get_absolute_url())
    for _ in range(5):
        refer(decided, manager, destination=Destination.POLICE)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(decided.get_absolute_url())
    assert page.content.decode().count("Picture as sent") == 6


# API


@pytest.fixture
def manager_api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def test_the_api_refers_on_lists_and_answers(manager_api, decided):
    url = reverse("api:enquiry-referral-list", args=[decided.reference])

    made = manager_api.post(
        url,
        {
            "expected_version": decided.version,
            "destination": "marac",
            "method": "secure_email",
            "note": "",
        },
        format="json",
    )

    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["destination"], body["status"], body["version"]) == ("marac", "sent", 1)
    listed = manager_api.get(url).json()
    assert [row["id"] for row in listed] == [body["id"]]

    answered = manager_api.post(
        reverse("api:enquiry-referral-answer-api", args=[decided.reference, body["id"]]),
        {"expected_version": 1, "accepted": False},
        format="json",
    )
    assert answered.status_code == 400
    assert answered.json()["returned_reason"] == [
        "Say why the receiving team returned the referral."
    ]
    answered = manager_api.post(
        reverse("api:enquiry-referral-answer-api", args=[decided.reference, body["id"]]),
        {"expected_version": 1, "accepted": True, "answered_by_name": "Chair"},
        format="json",
    )
    assert answered.json()["status"] == "accepted"

    pdf = manager_api.get(
        reverse("api:enquiry-referral-picture-api", args=[decided.reference, body["id"]])
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert AccessLogEntry.objects.get(action="export").channel == "api"


def test_the_api_refuses_unknown_fields_and_researchers(make_user, decided, researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    url = reverse("api:enquiry-referral-list", args=[decided.reference])

    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        {"expected_version": decided.version, "destination": "police", "method": "phone"},
        format="json",
    )
    assert refused.status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(make_user(Role.PRACTITIONER))
    assert outsider.get(url).status_code == 403


def test_the_api_says_which_field_is_wrong(manager_api, decided):
    url = reverse("api:enquiry-referral-list", args=[decided.reference])
    sent = {"expected_version": decided.version, "destination": "police", "method": "phone"}

    misspelt = manager_api.post(url, {**sent, "destinaton": "x"}, format="json")
    unknown_method = manager_api.post(url, {**sent, "method": "pigeon"}, format="json")
    to_adults = manager_api.post(url, {**sent, "destination": "adult_social_care"}, format="json")

    assert misspelt.json() == {"destinaton": ["This field is not part of this request."]}
    assert set(unknown_method.json()) == {"method"}
    assert to_adults.json() == {
        "destination": ["Adult social care does not take referrals about a child."]
    }
    assert not OnwardReferral.objects.exists()


# Reports


def test_the_reports_count_referrals_sent_accepted_and_returned(researcher, manager):
    (first, second, third) = intake(researcher, children=("Amy", "Ben", "Cat"))
    outcome = Outcome.objects.get(code="csc_assessment")
    at_decision = at("2026-03-30T12:00")
    first = decide(first, manager, outcome=outcome, decided_at=at_decision)
    second = decide(second, manager, outcome=outcome, decided_at=at_decision)
    decide(third, manager, outcome=outcome, decided_at=at_decision)
    accepted = refer(first, manager)
    answer(accepted, manager)
    returned = refer(second, manager)
    answer(returned, manager, accepted=False, returned_reason="Not ours.")
    refer(second, manager, destination=Destination.EARLY_HELP)
    # Sent the month before: counted then, not now.
    OnwardReferral.objects.filter(pk=returned.pk).update(
        sent_at=datetime(2026, 3, 31, 9, 0, tzinfo=LONDON)
    )

    april = Period(date(2026, 4, 1), date(2026, 5, 1))
    volumes = {row["measure"]: row["enquiries"] for row in reports.volumes(april).rows}
    assert volumes["Onward referrals sent"] == 2
    assert volumes["Onward referrals accepted"] == 1
    assert volumes["Onward referrals returned"] == 1

    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    overall = reports.timeliness(march).rows[-1]
    assert (overall["enquiries"], overall["referred_on"], overall["referral_accepted"]) == (
        3,
        2,
        1,
    )
