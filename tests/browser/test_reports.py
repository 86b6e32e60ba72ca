"""A manager reads the dashboard and a report with its chart, and downloads it, in Chromium."""

import pytest
from playwright.sync_api import Page, expect

from demo.enquiries import seed_demo_enquiries
from demo.hub import seed_demo_hub
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def test_a_manager_reads_the_dashboard_and_the_timeliness_report(
    page: Page, live_server, screenshot
):
    seed_demo_hub()
    seed_demo_enquiries(target=400)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and errors.append(response.url))

    sign_in(page, live_server.url, "manager", "manager-demo-2026")

    expect(page.get_by_role("heading", name="Manager dashboard")).to_be_visible()
    expect(page.get_by_test_id("dashboard-backlog")).to_contain_text("Overall")
    expect(page.get_by_test_id("dashboard-timeliness")).to_contain_text("Red")
    screenshot(page, "manager-dashboard")

    page.get_by_role("link", name="All reports").click()
    page.get_by_role("link", name="Timeliness").click()
    table = page.get_by_test_id("report-table")
    expect(table).to_contain_text("Overall")
    page.wait_for_function("() => window.Chart && window.Chart.getChart('report-chart')")
    drawn = page.evaluate("() => window.Chart.getChart('report-chart').data.labels.join(',')")
    assert drawn == "Red,Amber,Green,No RAG"
    screenshot(page, "report-timeliness")

    with page.expect_download() as download:
        page.get_by_test_id("report-csv").click()
    assert download.value.suggested_filename.startswith("timeliness_")
    first_line = open(download.value.path(), encoding="utf-8-sig").readline().strip()
    assert first_line == (
        "rag,allocated_minutes,enquiries,on_time,on_time_percent,referred_on,referral_accepted"
    )

    page.get_by_role("link", name="All reports").click()
    page.get_by_role("link", name="Comparison of two periods").click()
    expect(page.get_by_test_id("report-table")).to_contain_text("Working days")
    page.wait_for_function("() => window.Chart && window.Chart.getChart('report-chart')")
    # The comparison table (six columns) and its chart never overlap, from a phone to a desktop,
    # and the page never scrolls sideways: a wide table scrolls in its own box.
    for width in (375, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        # Chart.js fits its canvas to the new width on a later frame (a ResizeObserver): until
        # then the canvas keeps the old width, so the page is read once it has settled.
        page.wait_for_function(
            "width => document.documentElement.scrollWidth <= width", arg=width, timeout=5000
        )
        table = page.get_by_test_id("report-table").bounding_box()
        chart = page.get_by_test_id("report-chart").bounding_box()
        assert table and chart
        assert not overlap(table, chart), (width, table, chart)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 900})

    # The last full month's NFA is one month: bars, with a caption, never a lone dot.
    page.get_by_role("link", name="All reports").click()
    page.get_by_role("link", name="No further action").first.click()
    page.wait_for_function("() => window.Chart && window.Chart.getChart('report-chart')")
    drawn = page.evaluate(
        "() => { const c = window.Chart.getChart('report-chart');"
        " return [c.config.type, c.data.labels.length, c.canvas.clientHeight]; }"
    )
    assert drawn[:2] == ["bar", 1] and drawn[2] > 200
    expect(page.get_by_test_id("report-chart")).to_contain_text("Bar chart of % NFA by month")
    assert errors == []


def overlap(one: dict, other: dict) -> bool:
    """Whether two bounding boxes share any area."""
    return (
        one["x"] < other["x"] + other["width"]
        and other["x"] < one["x"] + one["width"]
        and one["y"] < other["y"] + other["height"]
        and other["y"] < one["y"] + one["height"]
    )
