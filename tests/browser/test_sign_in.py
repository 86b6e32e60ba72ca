"""The first journey: each demo role signs in with a password and a one-time password, sees its
own home and navigation, signs out; and a newcomer's first sign-in sets up the app."""

import re
from base64 import b32decode

import pytest
from django.conf import settings
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from agencies.models import Role, User
from audit.models import AccountEvent
from demo.hub import DEMO_USERS, seed_demo_hub
from tests.factories import PASSWORD, UserFactory
from tests.two_factor import app_for, code_now

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
    "admin": ("Administration", ["Administration", "Hub settings"]),
}
ALL_LINKS = {
    "Manager dashboard",
    "Triage queue",
    "Agency inbox",
    "Reports",
    "Audit log",
    "Administration",
    "Hub settings",
}


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """The password, then, where the hub asks for it, the code the person's authenticator app
    shows now (computed from their device's secret, as the app does; one is made for them if
    they have none)."""
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/sign-in/two-factor/" not in page.url:
        return
    app = app_for(User.objects.get(username=username))
    if "/set-up/" in page.url:  # a first sign-in: this person now has an app, so ask again
        page.goto(f"{base_url}/sign-in/two-factor/?{page.url.partition('?')[2]}")
    page.get_by_label("Code").fill(code_now(app))
    page.get_by_role("button", name="Continue").click()


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


def test_a_first_sign_in_sets_up_the_app_with_a_qr_code_and_backup_codes(
    page: Page, live_server, screenshot
):
    from tests.browser.test_csp import violations_on  # which imports sign_in from here

    assert settings.TWO_FACTOR_REQUIRED
    newcomer = UserFactory(username="newcomer", roles=[Role.RESEARCHER])
    violations = violations_on(page)

    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/sign-in/two-factor/set-up/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu").get_by_role("link")).to_have_count(0)
    screenshot(page, "two-factor-set-up")
    # What an authenticator app does with the key typed in: the code for now.
    secret = page.get_by_test_id("secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code", exact=True).fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm").click()

    codes = page.get_by_test_id("backup-codes").locator("li")
    expect(codes).to_have_count(10)
    first_code = codes.first.inner_text()
    expect(page.get_by_text("This is the only time you will see these codes")).to_be_visible()
    screenshot(page, "two-factor-backup-codes")
    page.get_by_role("link", name="I have saved my backup codes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Triage queue")
    assert set(newcomer.account_events.values_list("kind", flat=True)) >= {
        AccountEvent.Kind.TWO_FACTOR_ADDED,
        AccountEvent.Kind.BACKUP_CODES_ISSUED,
    }
    # The codes on the page are the ones that work: the first signs in once instead of the app.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("I do not have my phone").click()
    page.get_by_label("Code").fill(first_code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage queue")
    assert violations == [], "\n".join(violations)
