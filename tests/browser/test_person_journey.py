"""A person at the centre, in a real browser: a researcher finds a child by a misspelt name
from the header's search box, opens the child's page and chronology, corrects the surname
and adds the mother's partner to the open enquiry."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from agencies.models import User
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.models import Enquiry, EnquiryEvent, EnquiryPerson, Outcome, ReferrerType
from enquiries.services import PersonDetails
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def log(researcher: User, subject, *, minutes_ago: int, concern: str, others=()) -> Enquiry:
    return services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[subject],
        subject_type=Enquiry.SubjectType.CHILD,
        concern=concern,
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
        others=others,
    )[0]


def test_find_a_child_read_the_chronology_correct_and_add_a_person(
    page: Page, live_server, screenshot
):
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    manager = User.objects.get(username="manager")
    mother = PersonDetails(first_name="Kerry", last_name="Smyth")
    earlier = log(
        researcher,
        PersonDetails(first_name="Jayden", last_name="Smtih"),
        minutes_ago=60 * 24 * 40,
        concern="Jayden came to school with a bruised arm.",
        others=[(mother, EnquiryPerson.Role.PARENT_CARER)],
    )
    services.enquiry_decide(
        enquiry=earlier,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="Explained by a fall; school to monitor.",
        expected_version=earlier.version,
    )
    kerry = earlier.involvements.get(role=EnquiryPerson.Role.PARENT_CARER).person
    current = log(
        researcher,
        earlier.subject,
        minutes_ago=45,
        concern="Jayden says his mum's new partner shouts and throws things.",
        others=[(kerry, EnquiryPerson.Role.PARENT_CARER)],
    )

    # From the header's search box, a misspelt name finds Jayden, with both enquiries.
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    page.get_by_test_id("header-search").fill("Jayden Smith")
    page.get_by_test_id("header-search").press("Enter")
    result = page.get_by_test_id("person-result").filter(has_text="Jayden Smtih")
    expect(result).to_contain_text(earlier.reference)
    expect(result).to_contain_text(current.reference)
    expect(result).to_contain_text("No further action")
    screenshot(page, "people-search")

    # His page: both enquiries, his mother, and the chronology across them.
    result.get_by_role("link", name="Jayden Smtih").click()
    expect(page.get_by_test_id("person-heading")).to_have_text("Jayden Smtih")
    expect(page.get_by_test_id("person-relationships")).to_contain_text("Kerry Smyth")
    chronology = page.get_by_test_id("chronology")
    expect(chronology).to_contain_text("Decided: No further action")
    expect(chronology).to_contain_text("Explained by a fall; school to monitor.")
    expect(chronology.locator("li").last).to_contain_text(earlier.reference)
    screenshot(page, "person-page")
    page.get_by_text("Filter by date or by what happened").click()
    page.get_by_label("Decided").check()
    page.get_by_role("button", name="Filter the chronology").click()
    expect(page.get_by_test_id("chronology").locator("li")).to_have_count(1)

    # The open enquiry: correct his surname, and add the mother's partner.
    page.get_by_role("link", name=current.reference).first.click()
    expect(page.get_by_test_id("enquiry-heading")).to_contain_text(current.reference)
    correct_and_add(page, current)

    jayden = earlier.subject
    jayden.refresh_from_db()
    assert jayden.last_name == "Smith"
    assert current.involvements.filter(
        person__first_name="Dean", role=EnquiryPerson.Role.HOUSEHOLD_MEMBER
    ).exists()
    corrected = current.events.get(kind=EnquiryEvent.Kind.PERSON_CORRECTED)
    assert corrected.person == jayden


def correct_and_add(page: Page, enquiry: Enquiry) -> None:
    """On the open enquiry: the surname corrected, with the reason, and the history keeping
    what it was; then the mother's partner added as a household member."""
    page.get_by_role("link", name="Correct details of Jayden Smtih").click()
    page.get_by_label("Last name").fill("Smith")
    page.get_by_label("Why these details are being corrected").fill(
        "Surname misspelt at intake; the school confirmed the spelling."
    )
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_test_id("enquiry-heading")).to_contain_text("Jayden Smith")
    changes = page.get_by_test_id("history").get_by_test_id("changes").first
    expect(changes).to_contain_text("Smtih")
    expect(changes).to_contain_text("Smith")

    page.get_by_role("button", name="Add a person").click()
    page.get_by_label("Part in the enquiry").select_option(label="Household member")
    page.get_by_label("First name").fill("Dean")
    page.get_by_label("Last name").fill("Carter")
    page.get_by_label("Why this person is being added").fill(
        "Mother's new partner, named by Jayden; lives at the family home."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("people")).to_contain_text("Dean Carter")
    expect(page.get_by_test_id("people").locator("tr", has_text="Dean Carter")).to_contain_text(
        "Household member"
    )
