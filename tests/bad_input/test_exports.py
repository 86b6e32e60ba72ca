"""Every CSV and Excel download neutralises cells a spreadsheet would run as formulas (=, +, -,
@, tab, carriage return), keeps figures as numbers, and takes characters Excel files cannot
hold (a control character in an agency's name, say) without failing."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AccessLogEntry
from core.text import FORMULA_STARTS
from sharing import services as sharing_services
from sharing.models import LawfulBasis
from tests.bad_input.conftest import client_for
from tests.factories import PASSWORD, AgencyFactory

pytestmark = pytest.mark.django_db


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_the_information_download_neutralises_every_text_cell(stage, start):
    hub = stage.hub
    subject = hub.enquiry.subject
    subject.first_name = f"{start}Amy"
    subject.save(update_fields=["first_name"])
    record = sharing_services.add_information_record(
        request=hub.police_request,
        actor=hub.police_officer,
        person=subject,
        summary=f"{start}summary",
        detail=f"{start}detail",
        source_system=f"{start}source",
        information_date=date(2026, 1, 5),
        sensitivity="sensitive",
    )
    sharing_services.release_record(
        record_pk=record.pk,
        actor=hub.police_officer,
        reason="Pertinent.",
        necessary_and_proportionate=True,
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
        conditions=f"{start}conditions",
        password=PASSWORD,
    )
    client = client_for(stage, "researcher", api=False)

    content = client.get(
        reverse("enquiry-information-export", args=[hub.enquiry.reference])
    ).content

    row = next(row for row in csv_rows(content) if row["summary"].endswith("summary"))
    assert not [cell for cell in row.values() if cell.startswith(FORMULA_STARTS)]
    assert row["person"].startswith(f"'{start}")
    # Typed text loses leading tabs and line breaks on the way in; the rest keep their start.
    texts = ("summary", "detail", "source system", "conditions")
    if not start.isspace():
        assert all(row[column].startswith(f"'{start}") for column in texts)


@pytest.mark.parametrize("log", ["access", "changes"])
@pytest.mark.parametrize("start", ["\t", "\r"], ids=repr)
def test_the_audit_downloads_neutralise_tabs_and_carriage_returns_too(stage, log, start):
    hub = stage.hub
    AccessLogEntry.objects.create(
        user=hub.researcher,
        agency=hub.csc,
        action=AccessLogEntry.Action.VIEW,
        channel=AccessLogEntry.Channel.PAGE,
        reason=f"{start}=1+1",
    )
    hub.researcher.first_name = f"{start}=Rosa"
    hub.researcher.save(update_fields=["first_name"])
    # Changed, so the change log names the person as they are now: "\t=Amy Firewall".
    subject = hub.enquiry.subject
    subject.first_name = f"{start}=Amy"
    subject.save(update_fields=["first_name"])
    client = client_for(stage, "auditor", api=False)

    content = b"".join(client.get(reverse("audit-export"), {"log": log}).streaming_content)

    cells = [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert any(cell.startswith(f"'{start}=") for cell in cells)


def test_a_falling_figure_stays_a_number_in_the_downloads(stage):
    client = client_for(stage, "manager", api=False)
    # February 2026 has 20 working days, March 2026 has 22: a 9.1% fall.
    query = {
        "start": "2026-02-01",
        "to": "2026-02-28",
        "compare_start": "2026-03-01",
        "compare_to": "2026-03-31",
    }

    content = b"".join(
        client.get(reverse("report-csv", args=["comparison"]), query).streaming_content
    )
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("report-xlsx", args=["comparison"]), query).content)
    ).active

    days = next(row for row in csv_rows(content) if row["measure"] == "Working days")
    assert days["change_percent"] == "-9.1"
    row = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Working days")
    assert row[-1] == pytest.approx(-0.091)


def test_a_control_character_in_a_name_does_not_break_the_excel_download(stage):
    belled = AgencyFactory(name="Bell\x07 Agency")
    sharing_services.send_information_requests(
        enquiry=stage.enquiry, actor=stage.researcher, agencies=[belled]
    )
    client = client_for(stage, "manager", api=False)
    today = timezone.localdate().isoformat()
    query = {"start": today, "to": today}

    xlsx = client.get(reverse("report-xlsx", args=["agency-response"]), query)
    content = b"".join(
        client.get(reverse("report-csv", args=["agency-response"]), query).streaming_content
    )

    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    labels = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert "Bell\ufffd Agency" in labels
    assert "Bell\ufffd Agency" in content.decode("utf-8-sig")
