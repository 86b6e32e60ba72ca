"""Intake, the enquiry page and its actions, through the HTML views."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from enquiries import services
from enquiries.forms import nhs_number_is_valid
from enquiries.models import Enquiry, EnquiryEvent, Outcome, Person, ReferrerType
from enquiries.services import PersonDetails
from tests.factories import police_notification

pytestmark = pytest.mark.django_db


def log(actor, *names, received_at=None, last_name="Smith", **people):
    given = {"others": people.get("others", ())}
    if people.get("subjects"):
        given["subjects"] = people["subjects"]
    return police_notification(actor, *names, last_name=last_name, received_at=received_at, **given)


def decide(enquiry, manager, *, decided_at=None, code="nfa"):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code=code),
        rationale="Parents engaging with early help.",
        expected_version=enquiry.version,
        decided_at=decided_at,
    )


def intake_data(**overrides):
    received = timezone.localtime() - timedelta(hours=1)
    data = {
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "referrer_name": "Ms Head",
        "referrer_organisation": "Oak Primary School",
        "referrer_type": ReferrerType.objects.get(code="school").pk,
        "referrer_contact": "01234 567890",
        "subject_type": "child",
        "categories": ["neglect", "emotional_abuse"],
        "concern": "Both children arrive hungry.\nThe younger one is often not collected.",
        "consent": "no",
        "consent_reason": "Mother would move the children away.",
        "lawful_basis": "children_act_1989_s47",
        "subjects-TOTAL_FORMS": "2",
        "subjects-INITIAL_FORMS": "0",
        "subjects-0-first_name": "Amy",
        "subjects-0-last_name": "Smith",
        "subjects-0-date_of_birth": "2018-05-01",
        "subjects-1-first_name": "Ben",
        "subjects-1-last_name": "Smith",
        "subjects-1-approximate_age": "4",
        "others-TOTAL_FORMS": "2",
        "others-INITIAL_FORMS": "0",
        "others-0-role": "parent_carer",
        "others-0-first_name": "Jo",
        "others-0-last_name": "Smith",
        "others-0-address": "1 Mill Lane",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_nhs_numbers_are_checked_by_their_check_digit():
    assert nhs_number_is_valid("9434765919")
    assert not nhs_number_is_valid("9434765918")
    assert not nhs_number_is_valid("943476591")


@pytest.mark.any_instant
def test_the_intake_page_opens_at_now_with_room_for_two_children(client, researcher):
    client.force_login(researcher)

    html = client.get(reverse("enquiry-intake")).content.decode()

    assert 'name="subjects-TOTAL_FORMS" value="2"' in html
    assert 'name="others-TOTAL_FORMS" value="2"' in html
    assert timezone.localtime().strftime('value="%Y-%m-%dT') in html


@pytest.mark.parametrize(
    "role", [Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR, Role.ADMINISTRATOR]
)
def test_only_researchers_and_managers_open_intake(client, make_user, role):
    client.force_login(make_user(role))

    assert client.get(reverse("enquiry-intake")).status_code == 403


@pytest.mark.any_instant
def test_a_family_of_two_is_logged_with_its_parent(client, researcher):
    client.force_login(researcher)

    response = client.post(reverse("enquiry-intake"), intake_data(), follow=True)

    amy, ben = Enquiry.objects.order_by("reference")
    assert response.redirect_chain[-1][0] == amy.get_absolute_url()
    assert f"Enquiry logged: {amy.reference}, {ben.reference}." in response.content.decode()
    assert amy.family_id == ben.family_id
    assert amy.categories == ["emotional_abuse", "neglect"]
    assert amy.subject.date_of_birth == date(2018, 5, 1)
    assert ben.subject.approximate_age == 4
    assert {(p.person.first_name, p.role) for p in ben.involvements.all()} == {
        ("Ben", "subject"),
        ("Amy", "sibling"),
        ("Jo", "parent_carer"),
    }
    expected = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=1)
    assert abs(amy.received_at - expected) <= timedelta(minutes=1)


def test_bad_input_names_each_field_keeps_what_was_typed_and_saves_nothing(client, researcher):
    client.force_login(researcher)
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("enquiry-intake"),
        intake_data(
            received_at=future,
            categories=None,
            consent_reason="",
            **{"subjects-1-nhs_number": "1234567890", "others-0-role": ""},
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one category of concern." in html
    assert "Record why the hub proceeds without consent to share." in html
    assert "Enter a 10-digit NHS number" in html
    assert "Other person 1, part in the enquiry: Select their part in the enquiry" in html
    assert "Both children arrive hungry." in html
    assert 'value="Mother would move' not in html
    assert not Enquiry.objects.exists()
    assert not Person.objects.exists()

    response = client.post(reverse("enquiry-intake"), intake_data(received_at=future))
    assert "An enquiry cannot be received in the future." in response.content.decode()
    assert not Enquiry.objects.exists()


def test_an_intake_needs_at_least_one_subject(client, researcher):
    client.force_login(researcher)
    data = intake_data(
        **{f"subjects-{i}-{f}": "" for i in (0, 1) for f in ("first_name", "last_name")}
    )
    data = {k: v for k, v in data.items() if not k.startswith("subjects-") or k.endswith("FORMS")}

    html = client.post(reverse("enquiry-intake"), data).content.decode()

    assert "Name at least one child or adult the concern is about." in html
    assert not Enquiry.objects.exists()


def test_adding_a_row_keeps_everything_and_shows_no_errors(client, researcher):
    client.force_login(researcher)

    response = client.post(reverse("enquiry-intake"), intake_data(concern="", add_subject="1"))

    html = response.content.decode()
    assert 'name="subjects-TOTAL_FORMS" value="3"' in html
    assert 'name="subjects-2-first_name"' in html
    assert 'value="Amy"' in html
    assert "There is a problem" not in html
    assert not Enquiry.objects.exists()


def test_people_already_known_are_offered_before_anyone_new_is_added(client, researcher):
    (earlier,) = log(
        researcher,
        subjects=[
            PersonDetails(first_name="Amy", last_name="Smith", date_of_birth=date(2018, 5, 1))
        ],
    )
    known = earlier.subject
    client.force_login(researcher)

    response = client.post(reverse("enquiry-intake"), intake_data())

    html = response.content.decode()
    assert "Some of these people may already be known" in html
    assert "Same name; Same date of birth" in html
    assert f'name="subjects-0-existing" type="radio" value="{known.pk}"' in html
    assert Enquiry.objects.count() == 1

    data = intake_data(**{"subjects-0-existing": str(known.pk), "others-0-existing": "new"})
    response = client.post(reverse("enquiry-intake"), data)

    assert response.status_code == 302
    amy = Enquiry.objects.exclude(pk=earlier.pk).get(subject__first_name="Amy")
    assert amy.subject == known
    assert Person.objects.filter(first_name="Amy").count() == 1
    assert Person.objects.filter(first_name="Jo").count() == 1


def test_choosing_someone_new_adds_them_to_the_register(client, researcher):
    log(
        researcher,
        subjects=[
            PersonDetails(first_name="Amy", last_name="Smith", date_of_birth=date(2018, 5, 1))
        ],
    )
    client.force_login(researcher)

    client.post(reverse("enquiry-intake"), intake_data(**{"subjects-0-existing": "new"}))

    assert Person.objects.filter(first_name="Amy").count() == 2


def test_a_made_up_register_choice_is_refused(client, researcher):
    client.force_login(researcher)

    html = client.post(
        reverse("enquiry-intake"), intake_data(**{"subjects-0-existing": "999999"})
    ).content.decode()

    assert "Choose one of the people listed" in html
    assert not Enquiry.objects.exists()


def test_the_enquiry_page_shows_people_timing_history_and_the_family(client, researcher):
    mother = PersonDetails(first_name="Jo", last_name="Smith", nhs_number="9434765919")
    amy, ben = log(researcher, "Amy", "Ben", others=[(mother, "parent_carer")])
    amy = services.enquiry_rate(
        enquiry=amy,
        actor=researcher,
        rating="amber",
        rationale="Neglect over weeks.",
        expected_version=amy.version,
    )
    client.force_login(researcher)

    html = client.get(amy.get_absolute_url()).content.decode()

    assert f"{amy.reference}: Amy Smith" in html
    assert "Parent or carer" in html and "9434765919" in html
    assert "RAG rating changed: Amber (was No RAG)" in html
    assert "Neglect over weeks." in html
    assert "State changed: Screening (was Received)" in html
    assert ben.reference in html
    assert "left" in html
    assert "Record decision" not in html
    assert "Set RAG rating" in html and "Escalate now" in html


def test_a_manager_may_decide_from_the_enquiry_page(client, researcher, manager):
    (amy,) = log(researcher, "Amy")
    client.force_login(manager)

    html = client.get(amy.get_absolute_url()).content.decode()

    assert reverse("enquiry-decide", args=[amy.reference]) in html


def test_a_subject_decided_on_in_the_last_12_months_is_flagged_as_a_re_referral(
    client, researcher, manager
):
    received = timezone.now() - timedelta(days=200)
    (first,) = log(researcher, "Amy", received_at=received)
    decide(first, manager, decided_at=received + timedelta(hours=2))
    (second,) = log(researcher, subjects=[first.subject])
    (unrelated,) = log(researcher, "Zed", last_name="Ward")
    client.force_login(researcher)

    html = client.get(second.get_absolute_url()).content.decode()
    other = client.get(unrelated.get_absolute_url()).content.decode()

    assert 'data-testid="re-referral"' in html
    assert first.reference in html
    assert "Amy Smith (subject)" in html
    assert 'data-testid="re-referral"' not in other
    assert "nobody named here appears in another enquiry" in other


def test_a_decision_more_than_12_months_before_is_not_a_re_referral(client, researcher, manager):
    received = timezone.now() - timedelta(days=500)
    (first,) = log(researcher, "Amy", received_at=received)
    decide(first, manager, decided_at=received + timedelta(hours=2))
    (second,) = log(researcher, subjects=[first.subject])
    client.force_login(researcher)

    html = client.get(second.get_absolute_url()).content.decode()

    assert 'data-testid="re-referral"' not in html
    assert first.reference in html  # still listed among previous enquiries


@pytest.mark.parametrize("size", [1, 12])
def test_the_enquiry_page_runs_a_fixed_number_of_queries(
    client, researcher, manager, django_assert_max_num_queries, size
):
    family = log(researcher, *[f"Child{i}" for i in range(size)])
    enquiry = family[0]
    for n in range(size):
        (earlier,) = log(researcher, subjects=[enquiry.subject])
        decide(earlier, manager)
        enquiry = services.enquiry_rate(
            enquiry=enquiry,
            actor=researcher,
            rating="green" if n % 2 else "amber",
            rationale="Triage.",
            expected_version=enquiry.version,
        )
    client.force_login(manager)

    # session, user, groups; the enquiry with its people, history and family; the staff it
    # names (by primary key, not four joins); the clock's version; earlier decisions; related
    # enquiries with the people they share (one query); its feedback email; outcome names;
    # onward referrals; the unread-notification count; information requests, the records
    # through the firewall, and the agencies not yet asked; the view written to the access
    # log (lock, last hash, insert). The same for any enquiry:
    # tests/sharing/test_enquiry_page_queries.py
    with django_assert_max_num_queries(21):
        response = client.get(enquiry.get_absolute_url())

    assert response.status_code == 200


def test_an_unknown_reference_is_not_found(client, researcher):
    client.force_login(researcher)

    assert client.get(reverse("enquiry-detail", args=["MASH-1999-000001"])).status_code == 404


def test_rating_from_its_page_moves_the_deadline_and_returns_to_the_enquiry(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)
    url = reverse("enquiry-rate", args=[amy.reference])

    assert 'name="expected_version" value="1"' in client.get(url).content.decode()
    response = client.post(
        url, {"rating": "red", "rationale": "Disclosure at school.", "expected_version": 1}
    )

    assert response.status_code == 302 and response.url == amy.get_absolute_url()
    amy.refresh_from_db()
    assert (amy.rating, amy.allowance_minutes, amy.version) == ("red", 240, 2)


def test_a_rating_without_a_rationale_is_refused_on_its_field(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    response = client.post(
        reverse("enquiry-rate", args=[amy.reference]),
        {"rating": "red", "rationale": "", "expected_version": 1},
    )

    assert "Give the reason for this rating." in response.content.decode()
    amy.refresh_from_db()
    assert amy.rating == "none"


def test_a_stale_edit_is_refused_shows_what_changed_and_keeps_the_input(
    client, researcher, manager
):
    (amy,) = log(researcher, "Amy")
    services.enquiry_rate(
        enquiry=amy, actor=manager, rating="amber", rationale="Manager's view.", expected_version=1
    )
    client.force_login(researcher)
    url = reverse("enquiry-rate", args=[amy.reference])

    response = client.post(url, {"rating": "green", "rationale": "My view.", "expected_version": 1})

    html = response.content.decode()
    assert 'data-testid="stale-edit"' in html
    assert f"rag rating changed by {manager}" in html
    assert "My view." in html
    assert 'name="expected_version" value="2"' in html
    amy.refresh_from_db()
    assert amy.rating == "amber"

    response = client.post(url, {"rating": "green", "rationale": "My view.", "expected_version": 2})
    amy.refresh_from_db()
    assert amy.rating == "green"


def test_moving_offers_only_the_allowed_stages(client, researcher):
    (amy,) = log(researcher, "Amy")
    amy = services.enquiry_rate(
        enquiry=amy, actor=researcher, rating="green", rationale="Low.", expected_version=1
    )
    client.force_login(researcher)
    url = reverse("enquiry-move", args=[amy.reference])

    html = client.get(url).content.decode()
    refused = client.post(url, {"to_state": "closed", "expected_version": amy.version})
    client.post(url, {"to_state": "researching", "expected_version": amy.version})

    assert 'value="researching"' in html and 'value="closed"' not in html
    assert "Select where to move the enquiry from the options shown" in refused.content.decode()
    amy.refresh_from_db()
    assert amy.state == "researching"


def test_assigning_and_escalating_from_their_pages(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    client.post(
        reverse("enquiry-assign", args=[amy.reference]),
        {"assignee": researcher.pk, "expected_version": 1},
    )
    client.post(
        reverse("enquiry-escalate", args=[amy.reference]),
        {"reason": "Child says she is afraid to go home.", "expected_version": 1},
    )

    amy.refresh_from_db()
    assert amy.assignee == researcher
    assert (amy.rating, amy.escalated_at is not None) == ("red", True)
    assert amy.events.filter(kind=EnquiryEvent.Kind.ESCALATED).exists()


def test_a_researcher_cannot_decide(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    response = client.post(
        reverse("enquiry-decide", args=[amy.reference]),
        {"outcome": Outcome.objects.get(code="nfa").pk, "rationale": "x", "expected_version": 1},
    )

    assert response.status_code == 403
    amy.refresh_from_db()
    assert amy.state == "received"


def test_a_decision_before_receipt_is_refused_on_its_field(client, researcher, manager):
    (amy,) = log(researcher, "Amy")
    client.force_login(manager)
    # A day before: an hour before can be the same wall time on the night the clocks go back.
    before = timezone.localtime(amy.received_at - timedelta(days=1))

    response = client.post(
        reverse("enquiry-decide", args=[amy.reference]),
        {
            "outcome": Outcome.objects.get(code="nfa").pk,
            "rationale": "No concerns.",
            "decided_at": before.strftime("%Y-%m-%dT%H:%M"),
            "expected_version": 1,
        },
    )

    assert "A decision cannot come before the enquiry." in response.content.decode()
    amy.refresh_from_db()
    assert amy.decided_at is None


def test_a_manager_decides_nfa_and_feedback_closes_the_enquiry(client, researcher, manager):
    (amy,) = log(researcher, "Amy")
    client.force_login(manager)

    client.post(
        reverse("enquiry-decide", args=[amy.reference]),
        {
            "outcome": Outcome.objects.get(code="nfa").pk,
            "rationale": "Parents engaging; no role for social care.",
            "expected_version": 1,
        },
    )
    amy.refresh_from_db()
    assert (amy.state, amy.decided_by, amy.decided_on_time) == ("decided", manager, True)
    html = client.get(amy.get_absolute_url()).content.decode()
    assert "Decision: No further action" in html
    assert "Record feedback to the referrer" in html

    client.force_login(researcher)
    client.post(
        reverse("enquiry-feedback", args=[amy.reference]),
        {
            "method": "Telephone",
            "text": "No further action; school to monitor.",
            "expected_version": 2,
        },
    )
    amy.refresh_from_db()
    assert amy.state == "closed"
    assert amy.feedback_method == "Telephone"
    assert "Set RAG rating" not in client.get(amy.get_absolute_url()).content.decode()


PAGES = ["enquiry-detail", "enquiry-rate", "enquiry-move", "enquiry-assign", "enquiry-escalate"]
ALLOWED = {
    Role.RESEARCHER: {*PAGES},
    Role.MANAGER: {*PAGES, "enquiry-decide"},
    Role.PRACTITIONER: set(),
    Role.ANALYST: set(),
    Role.AUDITOR: set(),
    Role.ADMINISTRATOR: set(),
}


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("url_name", [*PAGES, "enquiry-decide"])
def test_who_may_open_each_enquiry_page(client, researcher, make_user, role, url_name):
    # A name no made-up colleague has: the page shows the signed-in person's own name.
    (amy,) = log(researcher, "Amyzlyn")
    amy = services.enquiry_rate(
        enquiry=amy, actor=researcher, rating="green", rationale="Low.", expected_version=1
    )
    client.force_login(make_user(role))

    response = client.get(reverse(url_name, args=[amy.reference]))

    # A practitioner sees an enquiry only once their agency is asked about it; until then it
    # does not exist for them.
    hidden = role == Role.PRACTITIONER and url_name == "enquiry-detail"
    assert response.status_code == (200 if url_name in ALLOWED[role] else 404 if hidden else 403)
    if response.status_code != 200:
        assert "Amyzlyn" not in response.content.decode()


def test_signing_in_comes_first(client, researcher):
    (amy,) = log(researcher, "Amy")

    response = client.get(amy.get_absolute_url())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- times on the nights the clocks change ----------------------------------------------------


@pytest.mark.instant("2026-10-25T01:40+00:00")  # 01:40 GMT, the second time round
def test_a_time_in_the_repeated_hour_that_has_happened_twice_is_the_later(client, researcher):
    client.force_login(researcher)

    client.post(reverse("enquiry-intake"), intake_data(received_at="2026-10-25T01:30"))

    (amy, _) = Enquiry.objects.order_by("reference")
    assert amy.received_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT


@pytest.mark.instant("2026-10-25T01:20+00:00")  # 01:20 GMT: 01:30 GMT is still to come
def test_a_time_in_the_repeated_hour_still_to_come_the_second_time_is_the_first(client, researcher):
    client.force_login(researcher)

    client.post(reverse("enquiry-intake"), intake_data(received_at="2026-10-25T01:30"))

    (amy, _) = Enquiry.objects.order_by("reference")
    assert amy.received_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST


@pytest.mark.instant("2026-10-25T01:30+00:00")
def test_the_intake_page_offers_a_time_it_then_accepts_on_the_night_the_clocks_go_back(
    client, researcher
):
    client.force_login(researcher)
    offered = re.search(
        r'name="received_at" value="([^"]+)"', client.get(reverse("enquiry-intake")).text
    ).group(1)

    client.post(reverse("enquiry-intake"), intake_data(received_at=offered))

    assert offered == "2026-10-25T01:30"
    assert (
        Enquiry.objects.filter(received_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)).count() == 2
    )


@pytest.mark.instant("2026-03-29T10:00")
def test_a_time_the_clocks_skipped_is_refused_with_the_time_they_showed(client, researcher):
    client.force_login(researcher)

    response = client.post(reverse("enquiry-intake"), intake_data(received_at="2026-03-29T01:30"))

    assert (
        "There was no 01:30 on 29 March 2026: the clocks went forward an hour. Did you mean "
        "02:30?" in response.text
    )
    assert not Enquiry.objects.exists()


def test_the_decision_form_offers_only_outcomes_that_fit_the_subject(client, researcher, manager):
    enquiry = log(researcher, "Cal")[0]
    client.force_login(manager)
    page = client.get(reverse("enquiry-decide", args=[enquiry.reference]))
    offered = {outcome.code for outcome in page.context["form"].fields["outcome"].queryset}
    assert "adult_social_care" not in offered
    assert {"csc_assessment", "early_help", "nfa"} <= offered
