"""The picture in a real browser: a researcher opens it from the enquiry page and downloads its
PDF, whose first page is drawn for the README (docs/screenshots/picture-pdf.png)."""

from datetime import date, timedelta

import pypdfium2
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from agencies.models import User
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.models import Enquiry, EnquiryPerson, ReferrerType
from enquiries.services import PersonDetails
from sharing import services as sharing
from sharing.models import LawfulBasis, Sensitivity
from tests import instants
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("migration_data")


def enquiry_with_information() -> Enquiry:
    """A child's enquiry with a released police record, a sensitive one unreleased and a
    school's non-sensitive one."""
    researcher = User.objects.get(username="researcher")
    officer = User.objects.get(username="police")
    teacher = User.objects.get(username="education")
    enquiry = services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(minutes=50),
        referrer_name="Ms Okafor",
        referrer_organisation="Riverside Primary School",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name="Leah", last_name="Marsh")],
        others=[
            (PersonDetails(first_name="Dawn", last_name="Marsh"), EnquiryPerson.Role.PARENT_CARER),
            (
                PersonDetails(first_name="Craig", last_name="Doyle"),
                EnquiryPerson.Role.HOUSEHOLD_MEMBER,
            ),
        ],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Leah said her mum's partner locks her in her room when he has been drinking.",
        categories=["emotional_abuse", "domestic_abuse"],
        consent=Enquiry.Consent.YES,
    )[0]
    enquiry = services.enquiry_rate(
        enquiry=enquiry,
        actor=User.objects.get(username="manager"),
        rating="amber",
        rationale="No injury, but a pattern at home: amber.",
        expected_version=enquiry.version,
    )
    police, school = sharing.send_information_requests(
        enquiry=enquiry, actor=researcher, agencies=[officer.agency, teacher.agency]
    )
    released = sharing.add_information_record(
        request=police,
        actor=officer,
        person=enquiry.subject,
        summary="Two domestic incidents at the address in 2026",
        detail="Officers attended in March and August; Craig Doyle was arrested in August and "
        "released without charge.",
        source_system="Niche RMS",
        information_date=date(2026, 8, 14),
        sensitivity=Sensitivity.SENSITIVE,
    )
    sharing.release_record(
        record_pk=released.pk,
        actor=officer,
        reason="Needed to judge the risk at home.",
        necessary_and_proportionate=True,
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
        password="police-demo-2026",
        conditions="Not to be shared with the family.",
    )
    sharing.add_information_record(
        request=police,
        actor=officer,
        person=enquiry.subject,
        summary="Intelligence",
        detail="Intelligence about an associate of the household.",
        source_system="Niche RMS",
        information_date=date(2026, 9, 2),
        sensitivity=Sensitivity.SENSITIVE,
    )
    sharing.add_information_record(
        request=school,
        actor=teacher,
        person=enquiry.subject,
        summary="Attendance 82% this term",
        detail="Late most Mondays; withdrawn in class since September.",
        source_system="SIMS",
        information_date=date(2026, 11, 20),
        sensitivity=Sensitivity.NON_SENSITIVE,
    )
    return enquiry


def test_the_picture_from_the_enquiry_page_and_its_pdf(
    page: Page, live_server, screenshot, _fixed_instant
):
    seed_demo_hub()
    enquiry = enquiry_with_information()

    sign_in(page, live_server.url, "researcher", "researcher-demo-2026")
    page.goto(f"{live_server.url}{enquiry.get_absolute_url()}")
    page.get_by_test_id("picture-links").get_by_role("link", name="The picture", exact=True).click()
    expect(page.get_by_test_id("picture-heading")).to_have_text("The picture")
    expect(page.get_by_test_id("conditions")).to_contain_text("Not to be shared with the family.")
    expect(page.get_by_test_id("signpost")).to_contain_text(
        "holds sensitive information about Leah Marsh"
    )
    expect(page.get_by_test_id("picture-leaves-out")).to_contain_text("not released to you")
    screenshot(page, "picture-page")

    with page.expect_download() as download:
        page.get_by_test_id("picture-pdf").click()
    assert download.value.suggested_filename == f"{enquiry.reference}-picture.pdf"
    pdf = pypdfium2.PdfDocument(download.value.path())
    first = pdf[0]
    assert "The picture" in first.get_textpage().get_text_range()
    # As the `screenshot` fixture does: only at the suite's usual instant.
    if _fixed_instant == instants.DEFAULT:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        first.render(scale=150 / 72).to_pil().save(SCREENSHOTS / "picture-pdf.png")
