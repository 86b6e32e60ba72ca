"""The front door to feedback in a real browser: a researcher logs a family enquiry for two
children and rates one Amber; a manager decides No further action and records feedback. The
queue and the history show each step."""

import re

import pytest
from playwright.sync_api import Page, expect

from demo.hub import seed_demo_hub
from enquiries.models import Enquiry
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def fill_person(page: Page, prefix: str, first: str, last: str, born: str = "") -> None:
    page.locator(f"#id_{prefix}-first_name").fill(first)
    page.locator(f"#id_{prefix}-last_name").fill(last)
    if born:
        page.locator(f"#id_{prefix}-date_of_birth").fill(born)


def test_a_family_enquiry_from_intake_to_feedback(page: Page, live_server, screenshot):
    seed_demo_hub()
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")

    page.get_by_test_id("log-enquiry-link").click()
    page.get_by_label("Referrer's name").fill("Ms Head")
    page.get_by_label("Type of referrer").select_option(label="School")
    page.get_by_label("Organisation").fill("Oak Primary School")
    page.get_by_label("How to reach them for feedback").fill("01234 567890")
    page.get_by_label("Child", exact=True).check()
    page.get_by_label("Neglect").check()
    page.get_by_label("The concern, as the referrer told it").fill(
        "Amy and Ben arrive hungry most days; Ben was not collected on Friday."
    )
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Why the hub proceeds without consent").fill(
        "Asking the mother first could lead her to keep the children off school."
    )
    page.get_by_label("Children Act 1989, s.47: a child may be suffering significant harm").check()
    fill_person(page, "subjects-0", "Amy", "Smith", "2018-05-01")
    fill_person(page, "subjects-1", "Ben", "Smith", "2021-09-14")
    page.locator("#id_others-0-role").select_option(label="Parent or carer")
    fill_person(page, "others-0", "Jo", "Smith")
    screenshot(page, "enquiry-intake")
    page.get_by_test_id("log-enquiry").click()

    amy, ben = Enquiry.objects.order_by("reference")
    expect(page.get_by_test_id("enquiry-heading")).to_have_text(f"{amy.reference}: Amy Smith")
    expect(page.get_by_text(f"Enquiry logged: {amy.reference}, {ben.reference}.")).to_be_visible()
    expect(page.get_by_test_id("siblings")).to_contain_text(f"{ben.reference}: Ben Smith")
    expect(page.get_by_test_id("people")).to_contain_text("Parent or carer")

    page.get_by_role("button", name="Set RAG rating").click()
    page.get_by_label("Amber").check()
    page.get_by_label("Why this rating").fill("Chronic neglect, no immediate danger.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("enquiry-status")).to_contain_text("Amber")
    expect(page.get_by_test_id("history")).to_contain_text("RAG rating changed: Amber")
    expect(page.get_by_test_id("history")).to_contain_text("Chronic neglect")

    page.get_by_role("link", name="Triage queue").click()
    amy_row = page.get_by_test_id("queue-table").locator("tr", has_text=amy.reference)
    expect(amy_row).to_contain_text("Amber")
    expect(amy_row).to_contain_text("Screening")
    expect(
        page.get_by_test_id("queue-table").locator("tr", has_text=ben.reference)
    ).to_contain_text("No RAG")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "manager", "manager-demo-2026")
    page.get_by_role("link", name="Triage queue").click()
    page.get_by_role("link", name=amy.reference).click()
    page.get_by_role("button", name="Record decision").click()
    page.get_by_label("No further action").check()
    page.get_by_label("Rationale").fill(
        "School and health visitor already supporting; parents engaging with early help."
    )
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("enquiry-decision")).to_contain_text("No further action")
    expect(page.get_by_test_id("history")).to_contain_text("Decision: No further action")
    expect(page.get_by_test_id("enquiry-status")).to_contain_text("Decided on time")
    screenshot(page, "enquiry-decided")

    page.get_by_role("button", name="Record feedback to the referrer").click()
    page.get_by_label("How the referrer was told").select_option("Telephone")
    page.get_by_label("What they were told").fill(
        "No further action by the hub; the school will keep supporting the family."
    )
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("enquiry-status")).to_contain_text("Closed")
    expect(page.get_by_test_id("history")).to_contain_text("Feedback sent to the referrer")
    # Closed, nothing is left to do on it but hand it on, if the hub does.
    expect(page.get_by_test_id("enquiry-actions")).to_have_text("Record an onward referral")
    screenshot(page, "enquiry-page")

    page.get_by_role("link", name="Triage queue").click()
    queue = page.get_by_test_id("queue-table")
    expect(queue).not_to_contain_text(amy.reference)
    expect(queue).to_contain_text(ben.reference)
    assert re.search(r"1 open enquiry", queue.inner_text())
