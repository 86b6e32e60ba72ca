"""The Content-Security-Policy in a real browser: every kind of page, the API docs with a call
made from them, a report's chart and the hub settings, with no violation reported by Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from agencies.models import User
from demo.hub import DEMO_USERS, seed_demo_hub
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails, enquiry_intake
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")

POLICY = "default-src 'self'"
VISITS = {
    "researcher": [
        "/",
        "/enquiries/new/",
        "{enquiry}",
        "/notifications/",
        "/sharing/search/",
        "/account/",
    ],
    "police": ["/inbox/"],
    "manager": ["/dashboard/", "/reports/"],
    "admin": ["/administration/", "/hub-settings/", "/hub-settings/agencies/"],
}


def violations_on(page: Page) -> list[str]:
    """Chromium reports each blocked script, style, image or frame on the console."""
    found: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", heard)
    page.on("pageerror", lambda error: found.append(f"{page.url}: {error}"))
    return found


def log_enquiry() -> Enquiry:
    return enquiry_intake(
        actor=User.objects.get(username="researcher"),
        received_at=timezone.now() - timedelta(minutes=20),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Cora", last_name="Policy")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Bruising noticed at school.",
        categories=["physical_abuse"],
        consent=Enquiry.Consent.YES,
    )[0]


def test_no_page_breaks_the_policy(page: Page, live_server):
    seed_demo_hub()
    enquiry = log_enquiry()
    violations = violations_on(page)

    response = page.goto(f"{live_server.url}/sign-in/")
    assert POLICY in response.headers["content-security-policy"]
    for username, paths in VISITS.items():
        page.context.clear_cookies()
        sign_in(page, live_server.url, username, passwords()[username])
        for path in paths:
            path = path.format(enquiry=enquiry.get_absolute_url())
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            assert POLICY in response.headers["content-security-policy"], path
            page.wait_for_load_state("networkidle")

    assert violations == [], "\n".join(violations)


def test_a_report_draws_its_chart_within_the_policy(page: Page, live_server):
    seed_demo_hub()
    log_enquiry()
    violations = violations_on(page)
    sign_in(page, live_server.url, "manager", passwords()["manager"])

    page.goto(f"{live_server.url}/reports/")
    page.locator("main a[href^='/reports/']").first.click()
    page.wait_for_load_state("networkidle")

    expect(page.locator("#report-chart")).to_be_visible()
    assert violations == [], "\n".join(violations)


def test_the_api_docs_make_a_call_within_the_policy(page: Page, live_server):
    seed_demo_hub()
    violations = violations_on(page)
    sign_in(page, live_server.url, "researcher", passwords()["researcher"])

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_role("heading", name=re.compile("API"))).to_be_visible()
    listing = page.locator("#operations-enquiries-enquiries_list")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    expect(listing.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    page.wait_for_load_state("networkidle")

    assert violations == [], "\n".join(violations)


def passwords() -> dict[str, str]:
    return {user.username: user.password for user in DEMO_USERS}
