"""The amendment pages (enquiries/amendment_views.py), the enquiry page's links to them and its
history of amendments, and the lawful basis on the intake page."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from enquiries import amendments, services
from enquiries.models import (
    Enquiry,
    EnquiryPerson,
    LawfulBasis,
    Outcome,
    Person,
    ReferrerType,
)
from enquiries.services import PersonDetails
from sharing import services as sharing
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

Part = EnquiryPerson.Role
S47 = LawfulBasis.CHILDREN_ACT_1989_S47


def log(actor, *names, last_name="Smith", others=(), subjects=()):
    return services.enquiry_intake(
        actor=actor,
        received_at=timezone.now() - timedelta(hours=2),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=list(subjects)
        or [PersonDetails(first_name=name, last_name=last_name) for name in names],
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


def decide(enquiry, manager):
    return services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=enquiry.version,
    )


def url(name: str, enquiry: Enquiry, *args) -> str:
    return reverse(name, args=[enquiry.reference, *args])


def correct_url(enquiry: Enquiry, person: Person) -> str:
    return url("enquiry-person-correct", enquiry, person.pk)


def person_form(person: Person, **overrides) -> dict:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth or "",
        "approximate_age": "" if person.approximate_age is None else person.approximate_age,
        "address": person.address,
        "nhs_number": person.nhs_number,
        "expected_version": 1,
        "expected_person_version": person.version,
        "reason": "Corrected.",
    }
    return data | overrides


def referral_form(enquiry: Enquiry, **overrides) -> dict:
    data = {
        "referrer_name": enquiry.referrer_name,
        "referrer_organisation": enquiry.referrer_organisation,
        "referrer_type": enquiry.referrer_type_id,
        "referrer_contact": enquiry.referrer_contact,
        "categories": enquiry.categories,
        "concern": enquiry.concern,
        "consent": enquiry.consent,
        "consent_reason": enquiry.consent_reason,
        "lawful_basis": enquiry.lawful_basis,
        "expected_version": enquiry.version,
        "reason": "Corrected.",
    }
    return data | overrides


# The enquiry page


def test_the_enquiry_page_links_each_amendment_for_the_hub(client, researcher):
    amy, _ben = with_mother(researcher, "Amy", "Ben")
    mother = amy.involvements.get(role=Part.PARENT_CARER)
    client.force_login(researcher)

    html = client.get(amy.get_absolute_url()).content.decode()

    assert correct_url(amy, amy.subject) in html
    assert correct_url(amy, mother.person) in html
    assert url("enquiry-person-remove", amy, mother.pk) in html
    assert url("enquiry-person-add", amy) in html and "Add a person" in html
    assert url("enquiry-child-add", amy) in html and "Add a child to this family" in html
    assert url("enquiry-referral-correct", amy) in html and "Correct the referral" in html
    # Children of the family are never taken off.
    subject = amy.involvements.get(role=Part.SUBJECT)
    assert url("enquiry-person-remove", amy, subject.pk) not in html


def test_a_decided_enquiry_offers_corrections_only(client, researcher, manager):
    (amy,) = with_mother(researcher, "Amy")
    amy = decide(amy, manager)
    client.force_login(researcher)

    html = client.get(amy.get_absolute_url()).content.decode()

    assert correct_url(amy, amy.subject) in html
    assert "Correct the referral" in html
    assert "Add a person" not in html
    assert "Add a child to this family" not in html
    assert "/remove/" not in html


def test_a_practitioner_who_may_see_the_enquiry_is_offered_no_amendment(client, researcher):
    (amy,) = with_mother(researcher, "Amy")
    police = AgencyFactory(name="Police", kind="police")
    sharing.send_information_requests(enquiry=amy, actor=researcher, agencies=[police])
    client.force_login(UserFactory(roles=[Role.PRACTITIONER], agency=police))

    response = client.get(amy.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Correct details" not in html and "Correct the referral" not in html
    assert "Add a person" not in html and "Add a child" not in html


def test_the_history_shows_each_amendment_before_and_after(client, researcher):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    amendments.person_correct(
        enquiry=amy,
        person=amy.subject,
        actor=researcher,
        reason="Surname mistyped at intake.",
        expected_version=1,
        last_name="Smith",
    )
    amendments.referral_correct(
        enquiry=amy,
        actor=researcher,
        reason="Consent refused on the phone.",
        expected_version=2,
        consent="no",
        consent_reason="Mother refused.",
        lawful_basis=S47,
    )
    client.force_login(researcher)

    html = client.get(amy.get_absolute_url()).content.decode()

    assert "Person&#x27;s details corrected: Amy Smith" in html
    assert "Surname mistyped at intake." in html
    assert '<td class="govuk-table__cell mash-pre-line">Smtih</td>' in html
    assert "Referral corrected" in html
    assert S47.label in html  # in the history and beside consent
    assert 'data-testid="lawful-basis">Children Act 1989, s.47' in html


# Correcting a person


def test_correcting_a_person_from_their_page(client, researcher):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    client.force_login(researcher)
    page = correct_url(amy, amy.subject)

    html = client.get(page).content.decode()
    response = client.post(page, person_form(amy.subject, last_name="Smith"))

    assert 'value="Smtih"' in html
    assert 'name="expected_person_version" value="1"' in html
    assert response.status_code == 302 and response.url == amy.get_absolute_url()
    amy.subject.refresh_from_db()
    assert (amy.subject.last_name, amy.subject.version) == ("Smith", 2)


def test_a_correction_that_changes_nothing_is_refused_on_the_page(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    response = client.post(correct_url(amy, amy.subject), person_form(amy.subject))

    assert response.status_code == 200
    assert "Nothing has changed" in response.content.decode()
    amy.refresh_from_db()
    assert amy.version == 1


def test_bad_details_are_refused_on_their_fields_and_kept(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    response = client.post(
        correct_url(amy, amy.subject),
        person_form(amy.subject, nhs_number="9434765918", reason="", last_name="Smyth"),
    )

    html = response.content.decode()
    assert "Enter a 10-digit NHS number" in html
    assert "Say why these details are being corrected." in html
    assert 'value="Smyth"' in html
    amy.subject.refresh_from_db()
    assert amy.subject.last_name == "Smith"


def test_a_stale_correction_shows_what_changed_and_keeps_the_input(client, researcher, manager):
    (amy,) = log(researcher, "Amy", last_name="Smtih")
    services.enquiry_rate(
        enquiry=amy, actor=manager, rating="amber", rationale="Manager.", expected_version=1
    )
    client.force_login(researcher)
    page = correct_url(amy, amy.subject)

    response = client.post(page, person_form(amy.subject, last_name="Smith", reason="Typo."))

    html = response.content.decode()
    assert 'data-testid="stale-edit"' in html
    assert f"rag rating changed by {manager}" in html
    assert 'value="Smith"' in html and "Typo." in html
    assert 'name="expected_version" value="2"' in html
    amy.subject.refresh_from_db()
    assert amy.subject.last_name == "Smtih"

    client.post(page, person_form(amy.subject, last_name="Smith", expected_version=2))
    amy.subject.refresh_from_db()
    assert amy.subject.last_name == "Smith"


def test_a_correction_made_meanwhile_elsewhere_is_shown_not_undone(client, researcher, manager):
    (first,) = log(researcher, "Amy")
    person = first.subject
    (second,) = log(researcher, subjects=[person])
    client.force_login(researcher)
    stale_form = person_form(person, date_of_birth="2018-06-01")
    amendments.person_correct(
        enquiry=first,
        person=person,
        actor=manager,
        reason="Birth certificate.",
        expected_version=1,
        date_of_birth=date(2018, 5, 1),
    )

    response = client.post(correct_url(second, person), stale_form)

    html = response.content.decode()
    assert "Someone else changed this person" in html
    assert f"details corrected on {first.reference} by {manager}" in html
    assert 'data-testid="recorded-now"' in html and "1 May 2018" in html
    assert 'name="expected_person_version" value="2"' in html
    person.refresh_from_db()
    assert person.date_of_birth == date(2018, 5, 1)


def test_someone_not_in_the_enquiry_is_not_found(client, researcher):
    (amy,) = log(researcher, "Amy")
    (zed,) = log(researcher, "Zed", last_name="Ward")
    client.force_login(researcher)

    assert client.get(correct_url(amy, zed.subject)).status_code == 404


# Adding and removing people


def add_form(**overrides) -> dict:
    data = {
        "role": "household_member",
        "first_name": "Lee",
        "last_name": "Dunn",
        "date_of_birth": "1990-02-03",
        "approximate_age": "",
        "address": "1 Mill Lane",
        "nhs_number": "",
        "expected_version": 1,
        "reason": "Mother's partner, seen at the home visit.",
    }
    return data | overrides


def test_adding_someone_new_names_them_in_the_familys_open_enquiries(client, researcher):
    amy, ben = log(researcher, "Amy", "Ben")
    client.force_login(researcher)

    response = client.post(url("enquiry-person-add", amy), add_form(), follow=True)

    assert response.redirect_chain[-1][0] == amy.get_absolute_url()
    html = response.content.decode()
    assert "Person added." in html
    assert "Person added: Lee Dunn (household member)" in html
    lee = Person.objects.get(first_name="Lee")
    assert ben.involvements.filter(person=lee, role=Part.HOUSEHOLD_MEMBER).exists()


def test_someone_who_may_be_known_is_offered_before_anyone_new_is_added(client, researcher):
    amy, _ = log(researcher, "Amy", "Ben")
    (earlier,) = log(researcher, "Lee", last_name="Dunn")
    known = earlier.subject
    client.force_login(researcher)
    page = url("enquiry-person-add", amy)

    checking = client.post(page, add_form(date_of_birth=""))

    html = checking.content.decode()
    assert 'data-testid="duplicate-check"' in html
    assert f'name="existing" type="radio" value="{known.pk}"' in html
    assert Person.objects.filter(first_name="Lee").count() == 1
    assert not amy.involvements.filter(person=known).exists()

    client.post(page, add_form(date_of_birth="", existing=str(known.pk)))

    assert amy.involvements.filter(person=known, role=Part.HOUSEHOLD_MEMBER).exists()
    assert Person.objects.filter(first_name="Lee").count() == 1


def test_choosing_someone_new_adds_them_to_the_register(client, researcher):
    (amy,) = log(researcher, "Amy")
    log(researcher, "Lee", last_name="Dunn")
    client.force_login(researcher)

    client.post(url("enquiry-person-add", amy), add_form(date_of_birth="", existing="new"))

    assert Person.objects.filter(first_name="Lee").count() == 2
    assert amy.involvements.filter(role=Part.HOUSEHOLD_MEMBER).exists()


def test_adding_without_a_part_or_reason_is_refused_on_the_fields(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    html = client.post(
        url("enquiry-person-add", amy), add_form(role="", reason="")
    ).content.decode()

    assert "Say why this person is being added." in html
    assert "Select their part in the enquiry" in html
    assert not Person.objects.filter(first_name="Lee").exists()


def test_removing_someone_named_in_error(client, researcher):
    (amy,) = with_mother(researcher, "Amy")
    link = amy.involvements.get(role=Part.PARENT_CARER)
    client.force_login(researcher)
    page = url("enquiry-person-remove", amy, link.pk)

    html = client.get(page).content.decode()
    response = client.post(page, {"reason": "Neighbour, not mother.", "expected_version": 1})

    assert "Remove Jo Smith from this enquiry" in html
    assert 'data-testid="removal-refused"' not in html
    assert response.status_code == 302
    assert not amy.involvements.filter(person=link.person).exists()


def test_a_person_an_agency_was_asked_about_cannot_be_removed(client, researcher):
    (amy,) = with_mother(researcher, "Amy")
    sharing.send_information_requests(
        enquiry=amy, actor=researcher, agencies=[AgencyFactory(name="Police", kind="police")]
    )
    link = amy.involvements.get(role=Part.PARENT_CARER)
    client.force_login(researcher)
    page = url("enquiry-person-remove", amy, link.pk)

    warned = client.get(page).content.decode()
    refused = client.post(page, {"reason": "Error.", "expected_version": 2})

    assert 'data-testid="removal-refused"' in warned
    assert "An information request on this enquiry asks about Jo Smith." in warned
    assert "An information request on this enquiry asks about Jo Smith." in refused.text
    assert amy.involvements.filter(person=link.person).exists()


def test_a_child_is_added_to_the_family_from_the_page(client, researcher):
    amy, ben = log(researcher, "Amy", "Ben")
    client.force_login(researcher)

    response = client.post(
        url("enquiry-child-add", amy),
        {
            "first_name": "Dee",
            "last_name": "Smith",
            "approximate_age": "2",
            "expected_version": 1,
            "reason": "Toddler found at the home visit.",
        },
        follow=True,
    )

    dee = Enquiry.objects.get(subject__first_name="Dee")
    assert response.redirect_chain[-1][0] == dee.get_absolute_url()
    assert f"Child added to the family: {dee.reference}." in response.content.decode()
    assert dee.family_id == amy.family_id
    assert ben.involvements.filter(person=dee.subject, role=Part.SIBLING).exists()


# Correcting the referral


def test_the_referral_form_opens_with_the_referral_as_recorded(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)

    html = client.get(url("enquiry-referral-correct", amy)).content.decode()

    assert 'value="PC Jones"' in html
    assert 'value="children_act_2004_s11" checked' in html
    assert 'value="not_sought" checked' in html


def test_a_referral_without_consent_needs_a_lawful_basis_on_the_page(client, researcher):
    (amy,) = log(researcher, "Amy")
    client.force_login(researcher)
    page = url("enquiry-referral-correct", amy)

    refused = client.post(page, referral_form(amy, consent="no", lawful_basis=""))
    saved = client.post(page, referral_form(amy, consent="no", lawful_basis=S47))

    assert "Choose the lawful basis for sharing without consent." in refused.content.decode()
    assert saved.status_code == 302
    amy.refresh_from_db()
    assert (amy.consent, amy.lawful_basis) == ("no", S47)


def test_a_stale_referral_correction_keeps_the_input(client, researcher, manager):
    (amy,) = log(researcher, "Amy")
    form = referral_form(amy, concern="Corrected concern.")
    services.enquiry_assign(enquiry=amy, actor=manager, assignee=manager, expected_version=1)
    client.force_login(researcher)

    html = client.post(url("enquiry-referral-correct", amy), form).content.decode()

    assert 'data-testid="stale-edit"' in html
    assert f"assigned by {manager}" in html
    assert "Corrected concern." in html
    assert 'name="expected_version" value="2"' in html


# Who may open them


PAGES = {
    "correct": lambda amy: correct_url(amy, amy.subject),
    "add": lambda amy: url("enquiry-person-add", amy),
    "remove": lambda amy: url(
        "enquiry-person-remove", amy, amy.involvements.get(role=Part.PARENT_CARER).pk
    ),
    "child": lambda amy: url("enquiry-child-add", amy),
    "referral": lambda amy: url("enquiry-referral-correct", amy),
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize(
    "role",
    [Role.RESEARCHER, Role.MANAGER, Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR],
)
def test_only_researchers_and_managers_open_the_amendment_pages(
    client, researcher, make_user, page, role
):
    (amy,) = with_mother(researcher, "Amyzlyn")
    client.force_login(make_user(role))

    get = client.get(PAGES[page](amy))
    post = client.post(PAGES[page](amy), {"reason": "x", "expected_version": 1})

    if role in (Role.RESEARCHER, Role.MANAGER):
        assert get.status_code == 200
    else:
        assert (get.status_code, post.status_code) == (403, 403)
        assert "Amyzlyn" not in get.content.decode()
        amy.refresh_from_db()
        assert amy.version == 1


def test_an_unknown_reference_is_not_found(client, researcher):
    client.force_login(researcher)

    assert client.get(reverse("enquiry-child-add", args=["MASH-1999-000001"])).status_code == 404


# The lawful basis at intake


def test_the_intake_page_asks_for_the_lawful_basis_without_consent(client, researcher):
    client.force_login(researcher)
    received = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "received_at": received,
        "referrer_name": "Ms Head",
        "referrer_type": ReferrerType.objects.get(code="school").pk,
        "subject_type": "child",
        "categories": ["neglect"],
        "concern": "Hungry at school.",
        "consent": "no",
        "consent_reason": "Mother would move away.",
        "subjects-TOTAL_FORMS": "1",
        "subjects-INITIAL_FORMS": "0",
        "subjects-0-first_name": "Kit",
        "subjects-0-last_name": "Quillon",
        "subjects-0-existing": "new",
        "others-TOTAL_FORMS": "0",
        "others-INITIAL_FORMS": "0",
    }

    blank = client.get(reverse("enquiry-intake")).content.decode()
    refused = client.post(reverse("enquiry-intake"), data).content.decode()
    logged = client.post(reverse("enquiry-intake"), data | {"lawful_basis": S47})

    assert "Lawful basis for sharing without consent" in blank
    assert f'value="{S47}"' in blank
    assert "Choose the lawful basis for sharing without consent." in refused
    assert logged.status_code == 302
    assert Enquiry.objects.get().lawful_basis == S47
