"""Information behind the firewall in a real browser: a researcher asks the usual agencies
(ticked, then confirmed); the police answer with a sensitive record; the researcher sees only
its signpost and asks for it; the police release it with a condition; the researcher reads it
with the condition; the auditor finds every step in the access log."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from agencies.models import Agency, User
from demo.hub import seed_demo_hub
from enquiries.models import Enquiry, EnquiryPerson, ReferrerType
from enquiries.services import PersonDetails, enquiry_intake
from sharing.services import send_information_requests
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")

MARKER = "FW-MARKER-7Q2X"
CONDITION = "Not to be disclosed to the family or the referrer."


def log_enquiry(researcher: User, first: str, last: str, *, others=()) -> Enquiry:
    return enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=20),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        referrer_organisation="Oak Primary School",
        subjects=[PersonDetails(first_name=first, last_name=last)],
        subject_type=Enquiry.SubjectType.CHILD,
        concern=f"{first} said a man at home hit her mother.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.YES,
        others=others,
    )[0]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_a_sensitive_record_from_answer_to_release_and_audit(page: Page, live_server, screenshot):
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    police = Agency.objects.get(name="Police")
    # Two other enquiries already waiting in the police inbox, so it looks like a working day.
    for first, last in (("Leo", "Hart"), ("Mia", "Quinn")):
        send_information_requests(
            enquiry=log_enquiry(researcher, first, last), actor=researcher, agencies=[police]
        )
    enquiry = log_enquiry(
        researcher,
        "Kira",
        "Marsh",
        others=[
            (
                PersonDetails(first_name="Dean", last_name="Cole"),
                EnquiryPerson.Role.ALLEGED_PERPETRATOR,
            )
        ],
    )

    # The researcher asks the usual agencies: the form comes ticked, then a confirmation.
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    page.goto(f"{live_server.url}{enquiry.get_absolute_url()}")
    page.get_by_role("link", name="Ask agencies").click()
    expect(page.get_by_label("Police", exact=True)).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("confirm-requests")).to_contain_text("You are about to ask")
    page.get_by_role("button", name=re.compile(r"^Send \d+ requests?$")).click()
    expect(page.get_by_text(re.compile(r"^Asked "))).to_contain_text("Police")
    requests = page.get_by_test_id("information-requests")
    expect(requests.locator("tr", has_text="Police")).to_contain_text("Requested")
    sign_out(page)

    # The police practitioner answers from the inbox with a sensitive record.
    sign_in(page, live_server.url, "police", "police-demo-2026")
    expect(page.get_by_role("heading", level=1)).to_have_text("Police inbox")
    inbox = page.get_by_test_id("inbox")
    expect(inbox.locator("tr", has_text=enquiry.reference)).to_contain_text("Kira Marsh")
    inbox.get_by_role("link", name=enquiry.reference).click()
    expect(page.get_by_test_id("request-status")).to_have_text("Requested")
    form = page.get_by_test_id("record-form")
    form.get_by_label("Dean Cole").check()
    form.get_by_label("Summary").fill(f"Intelligence on Dean Cole {MARKER}")
    form.get_by_label("Detail").fill(
        f"Alleged but unconvicted sexual offence against a child in 2024; {MARKER}. "
        "Investigation closed without charge."
    )
    form.get_by_label("Source system").fill("Niche RMS")
    form.get_by_label("Date the information was recorded").fill("2026-03-02")
    form.get_by_label("Sensitive", exact=True).check()
    form.get_by_role("button", name="Add the record").click()
    expect(page.get_by_text("Record added.")).to_be_visible()
    expect(page.get_by_test_id("request-status")).to_have_text("In progress")
    page.get_by_role("button", name="Send the answer").click()
    # the check before it goes: what is sent, each with its sensitivity
    expect(page.get_by_test_id("confirm-count")).to_contain_text("You are about to send 1 record")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_text("Answer sent.")).to_be_visible()
    expect(page.get_by_test_id("answered")).to_contain_text(enquiry.reference)
    sign_out(page)

    # The researcher sees only the signpost, and asks for release.
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    page.goto(f"{live_server.url}{enquiry.get_absolute_url()}")
    # (the demo may signpost other agencies' records on the same enquiry)
    signpost = page.get_by_test_id("signpost").filter(has_text="Police holds")
    expect(signpost).to_contain_text("Police holds sensitive information about Dean Cole")
    expect(signpost).to_contain_text("recorded on 2 March 2026")
    assert MARKER not in page.content()
    assert MARKER not in page.locator("body").inner_text()
    page.get_by_role("link", name="Request release").click()
    assert MARKER not in page.content()
    page.get_by_label("Why the hub needs it").fill(
        "Dean Cole lives with Kira; we need to know whether he poses a risk to her."
    )
    screenshot(page, "record-signpost")
    page.get_by_role("button", name="Request release").click()
    expect(page.get_by_text("Release requested.")).to_be_visible()
    expect(page.get_by_test_id("release-history")).to_contain_text("Release requested")
    assert MARKER not in page.content()
    sign_out(page)

    # The police practitioner sees it awaiting a decision and releases it with a condition.
    sign_in(page, live_server.url, "police", "police-demo-2026")
    awaiting = page.get_by_test_id("awaiting-release")
    expect(awaiting).to_contain_text(f"{enquiry.reference}: Intelligence on Dean Cole {MARKER}")
    screenshot(page, "agency-inbox")
    awaiting.get_by_role("link", name=enquiry.reference).click()
    form = page.get_by_test_id("release-form")
    form.get_by_label("I am satisfied that releasing this is necessary").check()
    form.get_by_label("Lawful basis").select_option(label="Children Act 1989, s.47 enquiries")
    form.get_by_label("Why it is necessary and proportionate").fill(
        "He lives in the household; the hub cannot assess the risk to Kira without it."
    )
    form.get_by_label("Conditions on its use (optional)").fill(CONDITION)
    form.get_by_label("Your password").fill("police-demo-2026")
    screenshot(page, "record-release")
    form.get_by_role("button", name="Release").click()
    expect(page.get_by_text("Released to the hub for this enquiry.")).to_be_visible()
    expect(page.get_by_test_id("release-history")).to_contain_text("Children Act 1989")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agency inbox").click()
    expect(page.get_by_test_id("awaiting-release")).to_have_count(0)
    sign_out(page)

    # The researcher now reads the content, with the condition.
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    page.goto(f"{live_server.url}{enquiry.get_absolute_url()}#information")
    expect(page.get_by_test_id("signpost").filter(has_text="Police holds")).to_have_count(0)
    record = page.locator(".mash-record", has_text=MARKER)
    expect(record).to_contain_text("Released")
    expect(record).to_contain_text("From Niche RMS.")
    expect(record.get_by_test_id("conditions")).to_contain_text(CONDITION)
    screenshot(page, "enquiry-information")
    sign_out(page)

    # The auditor finds each step in the access log, filtered by the enquiry.
    sign_in(page, live_server.url, "auditor", "auditor-demo-2026")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    filters = page.get_by_test_id("audit-filters")
    filters.get_by_label("Enquiry").fill(enquiry.reference)
    filters.get_by_role("button", name="Filter").click()
    log = page.get_by_test_id("access-table")
    rows = log.locator("tbody tr")
    expect(rows.filter(has_text="Requested release")).to_contain_text("Rosa Reid")
    expect(rows.filter(has_text="Requested release")).to_contain_text("poses a risk to her")
    released = rows.filter(has_text="Released")
    expect(released).to_contain_text("Paul Patel")
    expect(released).to_contain_text("Children Act 1989")
    expect(released).to_contain_text(CONDITION)
    views = rows.filter(has_text="Viewed sensitive content")
    expect(views.filter(has_text="Rosa Reid")).to_have_count(1)
    expect(views.filter(has_text="Paul Patel").first).to_be_visible()
    for row in rows.all():
        expect(row).to_contain_text(enquiry.reference)
    assert MARKER not in page.content()
    screenshot(page, "audit-access-log")
