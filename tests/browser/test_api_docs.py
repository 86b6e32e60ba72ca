"""A signed-in researcher reads the API docs in a real browser and tries a call from them,
with every file the page needs coming from the hub itself."""

import re

import pytest
from playwright.sync_api import Page, expect

from demo.hub import seed_demo_hub
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def test_the_docs_page_renders_from_our_own_files_and_calls_the_api(page: Page, live_server):
    seed_demo_hub()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")

    page.goto(f"{live_server.url}/api/docs/")

    expect(page.get_by_role("heading", name=re.compile("Countyshire MASH API"))).to_be_visible()
    listing = page.locator("#operations-enquiries-enquiries_list")
    expect(listing).to_be_visible()
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    expect(listing.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    outside = [url for url in requested if not url.startswith(live_server.url)]
    assert outside == []
