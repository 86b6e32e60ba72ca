"""The hand-on in a real browser (issue 19): a manager decides on an enquiry the agencies have
answered, checks the picture, refers it on to children's social care, records that the
receiving team accepted it, and emails the referrer feedback."""

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from demo.hub import seed_demo_hub
from enquiries.models import Enquiry, OnwardReferral
from tests.browser.test_picture_journey import enquiry_with_information
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def test_decide_check_the_picture_refer_on_and_record_the_answer(
    page: Page, live_server, screenshot
):
    seed_demo_hub()
    enquiry = enquiry_with_information()

    sign_in(page, live_server.url, "manager", "manager-demo-2026")
    page.goto(f"{live_server.url}{enquiry.get_absolute_url()}")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_label("Referral to children's social care for assessment").check()
    page.get_by_label("Rationale").fill(
        "Two police call-outs and a withdrawn child at school: assessment needed."
    )
    page.locator("form[data-testid=action-form] button[type=submit]").click()
    expect(page.get_by_test_id("enquiry-decision")).to_contain_text("(leads to referral)")

    page.get_by_role("button", name="Record an onward referral").click()
    expect(page.get_by_role("heading", name="Record an onward referral")).to_be_visible()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Check the picture (opens in a new tab)").click()
    picture = opened.value
    expect(picture.get_by_test_id("picture-heading")).to_have_text("The picture")
    expect(picture.get_by_test_id("conditions")).to_contain_text(
        "Not to be shared with the family."
    )
    picture.close()

    page.get_by_role("button", name="Record the referral").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text(
        "Choose where the enquiry was referred."
    )
    expect(page.get_by_label("Adult social care")).to_have_count(0)
    page.get_by_label("Children's social care: assessment").check()
    page.get_by_label("Secure email").check()
    page.get_by_label("Note for the hub (optional)").fill("Sent to the duty inbox.")
    page.get_by_role("button", name="Record the referral").click()

    referrals = page.get_by_test_id("onward-referrals")
    expect(referrals).to_contain_text("Children's social care: assessment")
    expect(referrals).to_contain_text("Awaiting answer")
    expect(page.get_by_test_id("history")).to_contain_text(
        "Referred on to Children's social care: assessment"
    )
    referral = OnwardReferral.objects.get(enquiry=enquiry)
    assert bytes(referral.picture).startswith(b"%PDF")

    page.get_by_test_id("record-referral-answer").click()
    page.get_by_label("Accepted").check()
    page.get_by_label("Who answered (optional)").fill("Sam Duty, team manager")
    page.get_by_role("button", name="Save the answer").click()
    expect(referrals).to_contain_text("Accepted")
    expect(referrals).to_contain_text("Sam Duty, team manager")
    screenshot(page, "onward-referral")

    page.get_by_role("button", name="Record feedback to the referrer").click()
    page.get_by_label("How the referrer was told").select_option("Email")
    page.get_by_label("The referrer's email address").fill("duty@oak-primary.example.org")
    page.get_by_label("What they were told").fill(
        "Referred to children's social care for an assessment; they will be in touch."
    )
    page.locator("form[data-testid=action-form] button[type=submit]").click()
    expect(page.get_by_test_id("enquiry-status")).to_contain_text("Closed")
    expect(page.get_by_test_id("feedback-email")).to_contain_text(
        "duty@oak-primary.example.org: Sent"
    )
    assert Enquiry.objects.get(pk=enquiry.pk).state == Enquiry.State.CLOSED
    (sent,) = mail.outbox
    assert sent.to == ["duty@oak-primary.example.org"]
    assert sent.body.startswith("Referred to children's social care for an assessment;")
    assert f"Our reference: {enquiry.reference}." in sent.body
