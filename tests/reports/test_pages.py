"""Report pages, downloads, the dashboard and `manage.py report`."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries.models import Enquiry, Rag, RagAllowance
from reports.selectors import CATALOGUE, REPORTS
from sharing.models import InformationRequest
from tests.factories import AgencyFactory

from .conftest import at

pytestmark = pytest.mark.django_db

MARCH = {"start": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def march(make_enquiry):
    make_enquiry("2026-03-06 16:00", rating=Rag.RED, decided="2026-03-09 12:00")
    make_enquiry("2026-03-09 09:00", rating=Rag.RED, decided="2026-03-09 13:01")
    make_enquiry("2026-03-10 09:00", rating=Rag.AMBER, decided="2026-03-10 17:00", outcome="marac")
    make_enquiry("2026-03-20 10:00", referrer="school")


@pytest.fixture
def manager(client, make_user):
    user = make_user(Role.MANAGER)
    client.force_login(user)
    return user


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ANALYST])
def test_managers_and_analysts_open_every_report(client, make_user, role, march):
    client.force_login(make_user(role))

    index = client.get(reverse("reports-index")).content.decode()
    for kind in CATALOGUE:
        assert reverse("report", args=[kind.name]) in index
        response = client.get(reverse("report", args=[kind.name]), MARCH)
        assert response.status_code == 200, kind.name
        assert 'data-testid="report-table"' in response.content.decode()


@pytest.mark.parametrize(
    "roles", [(Role.RESEARCHER,), (Role.PRACTITIONER,), (Role.AUDITOR,), (Role.ADMINISTRATOR,), ()]
)
def test_other_roles_are_refused_reports_downloads_and_the_dashboard(client, make_user, roles):
    client.force_login(make_user(*roles))

    for url in [
        reverse("reports-index"),
        reverse("report", args=["timeliness"]),
        reverse("report-csv", args=["timeliness"]),
        reverse("report-xlsx", args=["timeliness"]),
    ]:
        assert client.get(url).status_code == 403, url
    if Role.MANAGER not in roles:
        assert client.get(reverse("manager-dashboard")).status_code == 403


def test_the_timeliness_page_shows_the_table_and_the_chart_data(client, manager, march):
    response = client.get(reverse("report", args=["timeliness"]), MARCH)
    html = response.content.decode()

    assert "Timeliness: 1 March 2026 to 31 March 2026" in html
    assert re.search(r"<th scope=\"row\"[^>]*>Red</th>\s*<td[^>]*>240</td>\s*<td[^>]*>2</td>", html)
    assert "50.0%" in html
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html).group(1))
    assert chart["labels"] == ["Red", "Amber", "Green", "No RAG"]
    assert chart["datasets"][0]["data"] == [50.0, 100.0, None, None]
    assert "chartjs/chart.umd.min.js" in html


def last_full_month() -> tuple[date, date]:
    """The first and last day of the month before today's, in the hub's zone."""
    last_day = timezone.localdate().replace(day=1) - timedelta(days=1)
    return last_day.replace(day=1), last_day


@pytest.mark.any_instant
def test_a_report_page_opens_on_the_last_full_month(client, manager):
    html = client.get(reverse("report", args=["volumes"])).content.decode()

    first, last = last_full_month()
    assert f"Volumes: 1 {first:%B %Y} to {last.day} {last:%B %Y}" in html


def test_a_wrong_period_is_said_on_its_field_and_nothing_is_counted(client, manager):
    response = client.get(
        reverse("report", args=["timeliness"]), {"start": "2026-03-31", "to": "2026-03-01"}
    )
    html = response.content.decode()

    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Date to must be the same as or after the date from" in html
    assert 'data-testid="report-table"' not in html

    response = client.get(reverse("report", args=["timeliness"]), {"start": "2026-02-30"})
    assert response.status_code == 400
    assert "Date from must be a real date" in response.content.decode()


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_asks_for_dates_with_the_govuk_date_input(client, manager, name):
    html = client.get(reverse("report", args=[name]), MARCH).content.decode()

    assert 'type="date"' not in html
    assert html.count('class="govuk-date-input"') == (4 if REPORTS[name].compares else 2)
    assert re.search(r'<legend class="govuk-fieldset__legend[^"]*">Date from</legend>', html)
    assert '<div class="govuk-hint" id="id_start-hint">For example, 27 3 2026</div>' in html
    # Filled in with the period shown, typed as people would: 1 3 2026.
    assert 'id="id_start_day" name="start_day" type="text" inputmode="numeric" value="1"' in html
    assert 'name="to_month" type="text" inputmode="numeric" value="3"' in html


def test_a_period_typed_as_day_month_and_year(client, manager, march):
    typed = {"start_day": " 1", "start_month": "03", "start_year": "2026"}
    typed |= {"to_day": "31", "to_month": "3", "to_year": "2026 "}

    html = client.get(reverse("report", args=["timeliness"]), typed).content.decode()

    assert "Timeliness: 1 March 2026 to 31 March 2026" in html
    # The downloads link to the same period, in the short form older links used too.
    assert "/reports/timeliness.csv?start=2026-03-01&amp;to=2026-03-31" in html


def test_a_date_missing_its_month_is_said_on_its_box_and_in_the_summary(client, manager):
    typed = {"start_day": "1", "start_month": "", "start_year": "2026"}
    typed |= {"to_day": "31", "to_month": "3", "to_year": "2026"}

    response = client.get(reverse("report", args=["timeliness"]), typed)
    html = response.content.decode()

    assert response.status_code == 400
    assert '<a href="#id_start_day">Date from must include a month</a>' in html
    assert (
        '<p class="govuk-error-message" id="id_start-error"><span class="govuk-visually-hidden">'
        "Error:</span> Date from must include a month</p>"
    ) in html
    # Only the month's box is marked; what was typed is kept.
    assert 'govuk-input--width-2 govuk-input--error" id="id_start_month"' in html
    assert 'govuk-input--width-2" id="id_start_day" name="start_day" type="text"' in html
    assert 'name="start_year" type="text" inputmode="numeric" value="2026"' in html


def test_the_comparison_page_takes_a_second_period(client, manager, make_enquiry):
    make_enquiry("2026-02-02 10:00")
    make_enquiry("2026-03-02 10:00")
    make_enquiry("2026-03-03 10:00")

    html = client.get(
        reverse("report", args=["comparison"]),
        MARCH | {"compare_start": "2026-02-01", "compare_to": "2026-02-28"},
    ).content.decode()

    assert "compared with 1 February 2026 to 28 February 2026" in html
    assert "100.0%" in html
    assert (
        "Bar chart of each measure per working day, in the two periods, 1 March 2026 to 31 March "
        "2026, compared with 1 February 2026 to 28 February 2026. The table above has the figures."
    ) in html


def test_csv_download_has_the_columns_as_the_command_and_is_logged(client, manager, march):
    response = client.get(reverse("report-csv", args=["timeliness"]), MARCH)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))

    assert response["Content-Disposition"] == (
        'attachment; filename="timeliness_2026-03-01_to_2026-03-31.csv"'
    )
    assert list(rows[0]) == [
        "rag",
        "allocated_minutes",
        "enquiries",
        "on_time",
        "on_time_percent",
        "referred_on",
        "referral_accepted",
    ]
    assert rows[0] == {
        "rag": "Red",
        "allocated_minutes": "240",
        "enquiries": "2",
        "on_time": "1",
        "on_time_percent": "50.0",
        "referred_on": "0",
        "referral_accepted": "0",
    }
    assert rows[2]["on_time_percent"] == ""
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.EXPORT)
    assert entry.user == manager
    assert entry.role == "manager"
    assert entry.channel == AccessLogEntry.Channel.EXPORT
    assert entry.request_id == response["X-Request-ID"]
    assert entry.address == "127.0.0.1"
    assert entry.reason == "Downloading a report as Manager"
    assert entry.terms == (
        "Timeliness: 1 March 2026 to 31 March 2026; file timeliness_2026-03-01_to_2026-03-31.csv"
    )


def test_excel_download_keeps_figures_as_numbers(client, manager, march):
    response = client.get(reverse("report-xlsx", args=["timeliness"]), MARCH)
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert cells[0][0] == "Timeliness"
    assert cells[1][0] == "1 March 2026 to 31 March 2026"
    header = cells.index(
        [
            "RAG",
            "Working minutes allocated",
            "Enquiries decided",
            "Decided on time",
            "% on time",
            "Referred on",
            "Referral accepted",
        ]
    )
    assert cells[header + 1] == ["Red", 240, 2, 1, 0.5, 0, 0]
    assert cells[header + 5][0] == "Overall"


def test_labels_that_look_like_formulas_are_neutralised_in_downloads(
    client, manager, make_user, make_enquiry
):
    InformationRequest.objects.create(
        enquiry=make_enquiry("2026-03-02 09:00"),
        agency=AgencyFactory(name="=HYPERLINK(1)"),
        question="What do you hold?",
        requested_at=at("2026-03-02 09:00"),
        requested_by=make_user(Role.RESEARCHER),
        due_at=at("2026-03-02 12:00"),
    )

    csv_text = b"".join(
        client.get(reverse("report-csv", args=["agency-response"]), MARCH).streaming_content
    ).decode()
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("report-xlsx", args=["agency-response"]), MARCH).content)
    ).active

    assert "'=HYPERLINK(1)" in csv_text
    assert "'=HYPERLINK(1)" in [row[0].value for row in sheet.iter_rows()]


def test_an_unknown_report_is_not_found(client, manager):
    assert client.get(reverse("report", args=["salaries"])).status_code == 404
    assert client.get(reverse("report-csv", args=["salaries"])).status_code == 404


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_pages_run_a_fixed_number_of_queries(
    client, manager, make_enquiry, name, django_assert_max_num_queries
):
    def page():
        with django_assert_max_num_queries(12):
            assert client.get(reverse("report", args=[name]), MARCH).status_code == 200

    page()
    for day in range(2, 28):
        make_enquiry(f"2026-03-{day:02d} 10:00", rating=Rag.RED, decided=f"2026-03-{day:02d} 16:00")
    page()


@pytest.mark.any_instant
def test_the_dashboard_shows_the_backlog_and_this_months_timeliness(
    client, manager, make_enquiry, django_assert_max_num_queries
):
    today = timezone.localdate()
    make_enquiry(f"{today} 00:01", rating=Rag.RED)  # breached by now only late on a working day
    make_enquiry("2020-01-06 10:00", rating=Rag.AMBER)
    breached = Enquiry.objects.filter(breached_from__lte=timezone.now()).count()

    # The backlog and timeliness, and what needs a manager now (tests/reports/test_running.py).
    with django_assert_max_num_queries(16):
        html = client.get(reverse("manager-dashboard")).content.decode()

    assert re.search(r'data-testid="open-count">2<', html)
    assert f'data-testid="breached-count">{breached}<' in html
    assert "Today&#x27;s backlog" in html or "Today's backlog" in html
    assert f"1 {today:%B %Y}" in html


def test_the_command_prints_a_table(march, capsys):
    call_command("report", "timeliness", "--start", "2026-03-01", "--end", "2026-04-01")
    out = capsys.readouterr().out

    assert "Timeliness: 1 March 2026 to 31 March 2026" in out
    assert re.search(r"Red\s+240\s+2\s+1\s+50\.0%", out)


def test_the_command_writes_csv_and_json_with_the_same_names(march, capsys):
    call_command(
        "report", "volumes", "--start", "2026-03-01", "--end", "2026-04-01", "--format", "csv"
    )
    header = capsys.readouterr().out.splitlines()[0]
    call_command(
        "report", "volumes", "--start", "2026-03-01", "--end", "2026-04-01", "--format", "json"
    )
    document = json.loads(capsys.readouterr().out)

    assert header == "measure,enquiries"
    assert document["start"] == "2026-03-01" and document["end"] == "2026-04-01"
    assert all(list(row) == header.split(",") for row in document["rows"])
    assert document["rows"][0] == {"measure": "New enquiries", "enquiries": 4}


def test_the_command_compares_two_periods(make_enquiry, capsys):
    make_enquiry("2026-02-02 10:00")
    make_enquiry("2026-03-02 10:00")

    call_command(
        "report",
        "comparison",
        "--start=2026-03-01",
        "--end=2026-04-01",
        "--compare-start=2026-02-01",
        "--compare-end=2026-03-01",
        "--format=json",
    )
    document = json.loads(capsys.readouterr().out)

    assert document["compare_start"] == "2026-02-01"
    assert document["rows"][0]["compared_with"] == 1
    assert document["rows"][0]["period"] == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["timeliness", "--start", "2026-03-01"], "Give both"),
        (["timeliness", "--start", "2026-03-01", "--end", "2026-03-01"], "must be after"),
        (["timeliness", "--start", "1 March", "--end", "2026-04-01"], "is not a date"),
        (
            ["volumes", "--compare-start", "2026-01-01", "--compare-end", "2026-02-01"],
            "does not compare",
        ),
    ],
)
def test_the_command_explains_wrong_arguments(arguments, message, db):
    with pytest.raises(CommandError, match=message):
        call_command("report", *arguments)


@pytest.mark.any_instant
def test_the_default_period_of_the_command_is_the_last_full_month(capsys, db):
    call_command("report", "volumes", "--format", "json")
    document = json.loads(capsys.readouterr().out)

    first, last = last_full_month()
    assert (document["start"], document["end"]) == (
        first.isoformat(),
        (last + timedelta(days=1)).isoformat(),
    )


@pytest.fixture
def amber_changed_on_1_december(make_enquiry):
    make_enquiry("2026-11-24 09:00", rating=Rag.AMBER, decided="2026-11-24 16:00")
    amber = RagAllowance.objects.get(rating=Rag.AMBER)
    amber.minutes = 120
    amber.save()
    make_enquiry("2026-12-01 09:00", rating=Rag.AMBER, decided="2026-12-01 10:30")


ACROSS_THE_CHANGE = {"start": "2026-11-15", "to": "2026-12-15"}


def test_every_download_of_a_period_across_a_change_says_both_allowances(
    client, manager, amber_changed_on_1_december, capsys
):
    html = client.get(reverse("report", args=["timeliness"]), ACROSS_THE_CHANGE).content.decode()
    csv_text = b"".join(
        client.get(reverse("report-csv", args=["timeliness"]), ACROSS_THE_CHANGE).streaming_content
    ).decode("utf-8-sig")
    xlsx = client.get(reverse("report-xlsx", args=["timeliness"]), ACROSS_THE_CHANGE)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    call_command("report", "timeliness", "--start", "2026-11-15", "--end", "2026-12-16")
    table = capsys.readouterr().out
    call_command(
        "report", "timeliness", "--start", "2026-11-15", "--end", "2026-12-16", "--format", "json"
    )
    document = json.loads(capsys.readouterr().out)

    assert re.search(r"<th scope=\"row\"[^>]*>Amber</th>\s*<td[^>]*>480 then 120</td>", html)
    assert re.search(r"<th scope=\"row\"[^>]*>Red</th>\s*<td[^>]*>–</td>", html)
    assert "The Amber allowance changed during the period" in html
    assert list(csv.DictReader(io.StringIO(csv_text)))[1]["allocated_minutes"] == "480 then 120"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["Amber", "480 then 120", 2, 2, 1.0, 0, 0] in rows
    assert re.search(r"Amber\s+480 then 120\s+2\s+2\s+100\.0%", table)
    assert document["rows"][1]["allocated_minutes"] == [480, 120]


@pytest.mark.instant("2026-12-03T12:00")
def test_the_dashboard_shows_each_months_own_allowance(
    client, manager, make_enquiry, amber_changed_on_1_december
):
    make_enquiry("2026-11-25 09:00", rating=Rag.RED, decided="2026-11-25 10:00")

    html = client.get(reverse("manager-dashboard")).content.decode()
    table = html[html.index('data-testid="dashboard-timeliness"') :]

    assert re.search(
        r"Amber</th>\s*<td[^>]*>120\s*<span class=\"govuk-body-s\">\(last month 480\s*\)", table
    )
    assert re.search(r"Red</th>\s*<td[^>]*>240\s*<span[^>]*>\(last month\)", table)
    assert re.search(r"Green</th>\s*<td[^>]*>–</td>", table)


def test_a_line_chart_of_one_month_is_drawn_as_bars(client, manager, march):
    html = client.get(reverse("report", args=["nfa"]), MARCH).content.decode()
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html).group(1))

    assert chart["kind"] == "bar"
    assert chart["labels"] == ["March 2026"]
    assert chart["datasets"][0]["data"] == [66.7]
    assert chart["summary"] == "Bar chart of % NFA by month"
    assert (
        '<figcaption class="govuk-body-s mash-chart__caption" id="report-chart-caption">'
        "Bar chart of % NFA by month, 1 March 2026 to 31 March 2026. The table above has the "
        "figures.</figcaption>"
    ) in html
    assert 'aria-describedby="report-chart-caption"' in html

    two_months = {"start": "2026-02-01", "to": "2026-03-31"}
    html = client.get(reverse("report", args=["nfa"]), two_months).content.decode()
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html).group(1))
    # February had no decisions: still one point, so still bars.
    assert (chart["kind"], chart["datasets"][0]["data"]) == ("bar", [None, 66.7])


def test_a_chart_with_nothing_to_draw_says_so_instead(client, manager):
    html = client.get(reverse("report", args=["timeliness"]), MARCH).content.decode()

    assert (
        "Bar chart of % on time by RAG: nothing to draw for 1 March 2026 to 31 March 2026.</"
    ) in html
