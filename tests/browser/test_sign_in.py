"""The first journey: each demo role signs in, sees its own home and navigation, signs out."""

import re

import pytest
from playwright.sync_api import Page, expect

from agencies.demo import DEMO_USERS, seed_demo_hub

pytestmark = pytest.mark.usefixtures("migration_data")

HOMES = {
    "researcher": ("Triage queue", ["Triage queue"]),
    "police": ("Police inbox", ["Agency inbox"]),
    "health": ("Community Health inbox", ["Agency inbox"]),
    "education": ("Education inbox", ["Agency inbox"]),
    "manager": (
        "Manager dashboard",
        ["Manager dashboard", "Triage queue", "Agency inbox", "Reports"],
    ),
    "analyst": ("Reports", ["Reports"]),
    "auditor": ("Audit log", ["Audit log"]),
    "admin": ("Administration", ["Administration"]),
}
ALL_LINKS = {
    "Manager dashboard",
    "Triage queue",
    "Agency inbox",
    "Reports",
    "Audit log",
    "Administration",
}


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_each_demo_role_signs_in_to_its_own_home_and_navigation(
    page: Page, live_server, screenshot
):
    seed_demo_hub()
    assert {demo.username for demo in DEMO_USERS} == set(HOMES)

    for demo in DEMO_USERS:
        heading, links = HOMES[demo.username]

        sign_in(page, live_server.url, demo.username, demo.password)

        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_test_id("signed-in-as")).to_contain_text(demo.agency)
        menu = page.get_by_role("navigation", name="Menu")
        for label in links:
            expect(menu.get_by_role("link", name=label)).to_be_visible()
        for label in ALL_LINKS - set(links):
            expect(menu.get_by_role("link", name=label)).to_have_count(0)
        if demo.username in {"researcher", "police", "manager", "auditor", "admin", "analyst"}:
            screenshot(page, f"home-{demo.username}")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/sign-in/$"))


def test_a_wrong_password_shows_a_clear_error(page: Page, live_server, screenshot):
    seed_demo_hub()

    sign_in(page, live_server.url, "researcher", "not-the-password")

    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("The username or password is not right")
    screenshot(page, "sign-in-error")


def test_an_unknown_address_shows_the_styled_404(page: Page, live_server):
    response = page.goto(f"{live_server.url}/no/such/page/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
