"""The GOV.UK timeout warning in a real browser (issue 22 item 3): two minutes before the idle
limit a modal dialog takes focus, "Stay signed in" keeps the session, and when the countdown
runs out the page lands on sign-in saying why, with what was typed kept.

Two clocks move together: Playwright's for the page's timers, time-machine's for the server
(the live server runs in this process)."""

import time

import pytest
import time_machine
from playwright.sync_api import Page, expect

from agencies import kept_forms
from agencies.models import Role
from tests.browser.test_sign_in import sign_in
from tests.enquiries.test_pages import log
from tests.factories import PASSWORD, UserFactory
from tests.two_factor import app_for, code_now

pytestmark = pytest.mark.usefixtures("migration_data")

RATIONALE = "Mother engaging with early help; typed before the warning."
SIGNED_OUT = "You were signed out after 30 minutes without activity. What you typed has been kept."


def test_the_warning_keeps_the_session_or_signs_out_keeping_what_was_typed(page: Page, live_server):
    researcher = UserFactory(roles=[Role.RESEARCHER])
    manager = UserFactory(roles=[Role.MANAGER])
    (amy,) = log(researcher, "Amy")
    decide = f"{live_server.url}/enquiries/{amy.reference}/decide/"

    with time_machine.travel(int(time.time()), tick=True) as server_clock:

        def both_clocks_on(seconds: int) -> None:
            server_clock.shift(seconds)
            page.clock.fast_forward(seconds * 1000)

        sign_in(page, live_server.url, manager.username, PASSWORD)
        page.clock.install()
        page.goto(decide)
        page.get_by_label("Rationale").fill(RATIONALE)
        dialog = page.get_by_test_id("timeout-warning")

        both_clocks_on(28 * 60 + 1)

        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text("You're about to be signed out")
        expect(dialog.get_by_role("heading")).to_be_focused()
        expect(page.get_by_test_id("timeout-countdown")).to_contain_text("1 minute")

        # Kept alive, the page asks the server again how long is left before it goes on.
        with page.expect_response(f"{live_server.url}/session/"):
            dialog.get_by_role("button", name="Stay signed in").click()

        expect(dialog).to_be_hidden()
        # Kept alive: 28 more minutes is within the limit again, and warns again.
        both_clocks_on(28 * 60 + 1)
        expect(dialog).to_be_visible()

        both_clocks_on(2 * 60)

        expect(page).to_have_url(
            f"{live_server.url}/sign-in/?next=%2Fenquiries%2F{amy.reference}%2Fdecide%2F"
        )
        expect(page.get_by_text(SIGNED_OUT)).to_be_visible()

        page.get_by_label("Username").fill(manager.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Code").fill(code_now(app_for(manager)))
        page.get_by_role("button", name="Continue").click()

        expect(page).to_have_url(decide)
        expect(page.get_by_text(kept_forms.RESTORED)).to_be_visible()
        expect(page.get_by_label("Rationale")).to_have_value(RATIONALE)
