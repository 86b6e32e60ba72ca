"""A researcher works the triage queue in a real browser: urgency order, RAG filter, badges."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from agencies.models import User
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def test_a_researcher_filters_the_queue_to_red_enquiries(page: Page, live_server, screenshot):
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    enquiries = services.enquiry_intake(
        actor=researcher,
        # A fixed Monday long past: every rating is breached, whatever day the tests run.
        received_at=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")),
        referrer_name="Ms Head",
        referrer_organisation="Oak Primary School",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[
            PersonDetails(first_name=name, last_name="Nowak") for name in ("Ola", "Piotr", "Zofia")
        ],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Children arriving hungry; younger child has unexplained bruising.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )
    for enquiry, rating in zip(enquiries, ["red", "amber", "green"], strict=True):
        services.enquiry_rate(
            enquiry=enquiry,
            actor=researcher,
            rating=rating,
            rationale="Screened.",
            expected_version=1,
        )

    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")

    table = page.get_by_test_id("queue-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text("Ola Nowak")
    expect(table).to_contain_text("Breached")
    screenshot(page, "triage-queue")

    page.get_by_label("RAG").select_option("red")
    page.get_by_role("button", name="Filter").click()

    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(enquiries[0].reference)
