"""A researcher works the triage queue in a real browser: urgency order, RAG filter, badges, the
countdown recounting each minute in working time, a dozen rows on a desktop and cards on a
phone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from agencies.models import User
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails
from tests import instants
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")

LONDON = ZoneInfo("Europe/London")


def log(researcher: User, received_at: datetime, *names: str) -> list[Enquiry]:
    return services.enquiry_intake(
        actor=researcher,
        received_at=received_at,
        referrer_name="Ms Head",
        referrer_organisation="Oak Primary School",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name=name, last_name="Nowak") for name in names],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Children arriving hungry; younger child has unexplained bruising.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )


def rate(enquiry: Enquiry, researcher: User, rating: str) -> None:
    services.enquiry_rate(
        enquiry=enquiry,
        actor=researcher,
        rating=rating,
        rationale="Screened.",
        expected_version=enquiry.version,
    )


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

    page.get_by_label("RAG").select_option("red")
    page.get_by_role("button", name="Filter").click()

    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(enquiries[0].reference)


@pytest.mark.instant("2026-11-27T16:58:00")
def test_time_left_counts_down_each_minute_and_pauses_when_the_hub_closes(page: Page, live_server):
    # given: Friday 16:58, two minutes before the hub closes for the weekend: a red enquiry
    # with 32 working minutes left, and one due on Thursday at 13:00
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    (due_soon,) = log(researcher, datetime(2026, 11, 27, 13, 30, tzinfo=LONDON), "Ola")
    (overdue,) = log(researcher, datetime(2026, 11, 26, 9, 0, tzinfo=LONDON), "Piotr")
    rate(due_soon, researcher, "red")
    rate(overdue, researcher, "red")
    page.clock.install()
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    rows = page.get_by_test_id("queue-table").locator("tbody tr")
    overdue_left, due_soon_left = (rows.nth(i).get_by_test_id("time-left") for i in (0, 1))
    paused = page.get_by_test_id("clock-paused")
    expect(due_soon_left).to_have_text("32 min left At risk")
    expect(overdue_left).to_have_text("Overdue by 11 h 58 min Breached")
    expect(paused).to_be_hidden()

    # when: a minute passes, without a reload, the hub still open
    page.clock.fast_forward("01:00")

    # then
    expect(due_soon_left).to_have_text("31 min left At risk")
    expect(overdue_left).to_have_text("Overdue by 11 h 59 min Breached")
    expect(paused).to_be_hidden()

    # when: 17:00 comes and goes, and ten minutes of the evening
    page.clock.fast_forward("01:00")
    expect(paused).to_have_text("Clock paused: the hub opens Monday 09:00")
    page.clock.fast_forward("10:00")

    # then: the working clock stood still from 17:00
    expect(due_soon_left).to_have_text("30 min left At risk")
    expect(overdue_left).to_have_text("Overdue by 12 h 00 min Breached")
    expect(paused).to_have_text("Clock paused: the hub opens Monday 09:00")

    # and the enquiry's own page, counted by the server at 17:10, stands still too
    with time_machine.travel(datetime(2026, 11, 27, 17, 10, tzinfo=LONDON), tick=True):
        page.get_by_role("link", name=overdue.reference).click()
        expect(page.get_by_test_id("time-left")).to_have_text("Overdue by 12 h 00 min")
        page.clock.fast_forward("01:00")
        expect(page.get_by_test_id("time-left")).to_have_text("Overdue by 12 h 00 min")
        expect(page.get_by_test_id("clock-paused")).to_have_text(
            "Clock paused: the hub opens Monday 09:00"
        )


def test_a_dozen_rows_fit_a_desktop_and_a_phone_shows_cards(
    page: Page, live_server, screenshot, _fixed_instant
):
    # given: fifteen open enquiries of every rating, one escalated (the suite's Wednesday)
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    names = [f"Child{i:02d}" for i in range(15)]
    enquiries = log(researcher, datetime(2026, 12, 1, 9, 0, tzinfo=LONDON), *names)
    for enquiry, rating in zip(enquiries, ["red", "amber", "green"] * 5, strict=True):
        rate(enquiry, researcher, rating)
    services.enquiry_escalate(enquiry=enquiries[-1], actor=researcher, reason="Disclosure.")

    # when: on a desktop
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    rows = page.get_by_test_id("queue-table").locator("tbody tr")
    expect(rows).to_have_count(15)

    # then: at least twelve rows above the fold
    above_the_fold = page.evaluate(
        "[...document.querySelectorAll('[data-testid=queue-table] tbody tr')]"
        ".filter(row => row.getBoundingClientRect().bottom <= 900).length"
    )
    assert above_the_fold >= 12
    screenshot(page, "triage-queue")

    # a tablet's narrower page wraps the rows rather than scrolling sideways
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800

    # when: on a phone
    page.set_viewport_size({"width": 375, "height": 812})

    # then: no sideways scrolling; each card starts with the reference, its RAG beside it,
    # then the time left, then the rest labelled
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    first = rows.first
    reference = first.locator("td").nth(0).bounding_box()
    rag = first.locator("td").nth(2).bounding_box()
    time_left = first.get_by_test_id("time-left").bounding_box()
    subject = first.locator("td").nth(1).bounding_box()
    assert reference and rag and time_left and subject
    assert rag["x"] > reference["x"] and abs(rag["y"] - reference["y"]) < 10
    assert reference["y"] < time_left["y"] < subject["y"]
    assert time_left["x"] + time_left["width"] <= 375
    expect(first.get_by_test_id("time-left")).to_be_visible()
    expect(first.locator("td").nth(1)).to_have_text("Child14 Nowak")
    # The label is the cell's ::before, so the page reads "Subject: Child14 Nowak".
    assert (
        first.locator("td").nth(1).evaluate("cell => getComputedStyle(cell, '::before').content")
        == '"Subject: "'
    )
    if _fixed_instant == instants.DEFAULT:  # as the `screenshot` fixture; the first cards
        page.get_by_test_id("queue-table").evaluate("table => table.scrollIntoView()")
        page.screenshot(path=SCREENSHOTS / "queue-375.png")
