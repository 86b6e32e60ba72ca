"""An escalation out of hours in a real browser (issue 20, item 1): at 20:00 on a Saturday, the
hub closed, a researcher escalates; the manager, told at once, opens their notifications and
acknowledges from the notification; the dashboard shows it acknowledged, by whom and when,
beside an earlier escalation still waiting and repeated to the manager meanwhile."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import Page, expect

from agencies.models import User
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.escalations import escalations_repeat
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails
from tests.browser.test_firewall_journey import sign_out
from tests.browser.test_sign_in import sign_in
from tests.instants import LONDON

pytestmark = pytest.mark.usefixtures("migration_data")

# The browser tests run at the suite's instant (a Wednesday morning); this one travels to a
# Saturday evening, in UTC (a zone would make time-machine change the process's zone too).
SATURDAY = datetime(2026, 11, 28, 20, 0, tzinfo=LONDON).astimezone(UTC)


def saturday(hours: int, minutes: int) -> datetime:
    return datetime(2026, 11, 28, hours, minutes, tzinfo=LONDON)


def log(researcher: User, first: str, *, received: datetime) -> Enquiry:
    return services.enquiry_intake(
        actor=researcher,
        received_at=received,
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name=first, last_name="Hart")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern=f"{first} rang 999: her stepfather hit her mother and her tonight.",
        categories=["domestic_abuse", "physical_abuse"],
        consent=Enquiry.Consent.NOT_SOUGHT,
        consent_reason="Asking could put the child at greater risk.",
        lawful_basis="children_act_1989_s47",
        now=received,
    )[0]


def test_a_saturday_evening_escalation_acknowledged_from_the_notification(
    page: Page, live_server, screenshot
):
    seed_demo_hub()
    researcher = User.objects.get(username="researcher")
    # An earlier escalation nobody has acknowledged: repeated to the manager every 15 minutes.
    waiting = services.enquiry_escalate(
        enquiry=log(researcher, "Leo", received=saturday(19, 0)),
        actor=researcher,
        reason="Missing from home since teatime.",
        now=saturday(19, 20),
    )
    for repeat in (saturday(19, 35), saturday(19, 50)):
        escalations_repeat(now=repeat)
    enquiry = log(researcher, "Kira", received=saturday(19, 40))

    with time_machine.travel(SATURDAY, tick=True):
        # The researcher escalates with the hub closed.
        sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
        page.goto(f"{live_server.url}{enquiry.get_absolute_url()}")
        page.get_by_role("button", name="Escalate now").click()
        page.get_by_label("Why the child or adult needs protection now").fill(
            "Kira has bruises on her arms and is afraid to go home."
        )
        page.locator("form[data-testid=action-form] button[type=submit]").click()
        status = page.get_by_test_id("enquiry-status")
        expect(status).to_contain_text("Escalated Sat 28 Nov 20:0")
        expect(status).to_contain_text("No manager has acknowledged it yet")
        sign_out(page)

        # The manager is told at once, in the hub and by email, and acknowledges from the
        # notification.
        sign_in(page, live_server.url, "manager", "manager-demo-2026")
        expect(page.get_by_test_id("unacknowledged-count")).to_have_text("2 not acknowledged")
        page.get_by_test_id("notifications-link").click()
        told = page.get_by_test_id("notification").filter(
            has_text=f"{enquiry.reference} escalated by Rosa Reid"
        )
        expect(told).to_contain_text("Escalated")
        repeated = page.get_by_test_id("notification").filter(
            has_text="no manager has acknowledged it after 30 minutes"
        )
        expect(repeated).to_contain_text("Escalation not yet acknowledged")
        told.get_by_role("button", name=re.compile("^Acknowledge")).click()

        expect(
            page.get_by_text("Escalation acknowledged: it is no longer repeated")
        ).to_be_visible()
        expect(status).to_contain_text("Acknowledged by Maya Morgan Sat 28 Nov 20:0")
        expect(page.get_by_test_id("history")).to_contain_text("Escalation acknowledged")
        expect(page.get_by_role("button", name="Acknowledge escalation")).to_have_count(0)

        # The dashboard shows it acknowledged, and the earlier one still waiting.
        page.get_by_role("link", name="Manager dashboard").click()
        expect(page.get_by_test_id("acknowledged-count")).to_have_text("1 acknowledged")
        expect(page.get_by_test_id("unacknowledged-count")).to_have_text("1 not acknowledged")
        rows = page.get_by_test_id("escalation")
        expect(rows.filter(has_text=enquiry.reference)).to_contain_text(
            re.compile(r"Acknowledged\s+by Maya Morgan, Sat 28 Nov 20:0\d")
        )
        expect(rows.filter(has_text=waiting.reference)).to_contain_text(
            re.compile(r"Not acknowledged\s+4\d minutes waiting, 2 repeats sent")
        )
        screenshot(page, "escalation-acknowledged")

    acknowledged = Enquiry.objects.get(pk=enquiry.pk)
    assert acknowledged.escalation_acknowledged_by.username == "manager"
    assert timedelta(0) <= acknowledged.escalation_acknowledged_at - SATURDAY < timedelta(hours=1)
    assert [message.to for message in mail.outbox if enquiry.reference in message.subject] == [
        [User.objects.get(username="manager").email]
    ]
