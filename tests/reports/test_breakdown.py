"""Volumes, timeliness and NFA by category of concern and by child or adult (issue 20, item
5), on hand-worked data, on the page, in downloads, on the analysts' home and the command."""

import json
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from agencies.models import Role
from enquiries.models import Enquiry, Rag
from reports import selectors
from reports.periods import Period

pytestmark = pytest.mark.django_db

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))


@pytest.fixture
def march(make_enquiry):
    def made(received, *, categories, adult=False, **fields) -> Enquiry:
        enquiry = make_enquiry(received, **fields)
        Enquiry.objects.filter(pk=enquiry.pk).update(
            categories=categories,
            subject_type=Enquiry.SubjectType.ADULT if adult else Enquiry.SubjectType.CHILD,
        )
        return enquiry

    # Neglect and domestic abuse, decided on time with NFA.
    made("2026-03-02 09:00", categories=["neglect", "domestic_abuse"], decided="2026-03-02 10:00")
    # Neglect, Red, decided late with a referral.
    made(
        "2026-03-09 09:00",
        categories=["neglect"],
        rating=Rag.RED,
        decided="2026-03-09 13:01",
        outcome="csc_assessment",
    )
    # An adult's mental health, received in March, still open.
    made("2026-03-20 09:00", categories=["mental_health"], adult=True)
    # Received in February, decided in March: decided counts, received does not.
    made("2026-02-27 09:00", categories=["cse"], decided="2026-03-02 09:00")
    # Outside March altogether.
    made("2026-04-02 09:00", categories=["neglect"], decided="2026-04-02 10:00")


def test_each_category_and_subject_counts_its_own_enquiries(march):
    rows = {(row["breakdown"], row["group"]): row for row in selectors.breakdown(MARCH).rows}

    assert rows[("Category", "Neglect")] == {
        "breakdown": "Category",
        "group": "Neglect",
        "received": 2,
        "decided": 2,
        "on_time": 1,
        "on_time_percent": 50.0,
        "nfa": 1,
        "nfa_percent": 50.0,
    }
    assert (
        rows[("Category", "Domestic abuse")]["received"],
        rows[("Category", "Domestic abuse")]["nfa"],
    ) == (1, 1)
    assert rows[("Category", "Child sexual exploitation")]["received"] == 0
    assert rows[("Category", "Child sexual exploitation")]["decided"] == 1
    assert rows[("Category", "Mental health")]["decided"] == 0
    assert rows[("Category", "Mental health")]["on_time_percent"] is None
    assert (rows[("Subject", "Child")]["received"], rows[("Subject", "Child")]["decided"]) == (2, 3)
    assert (
        rows[("Subject", "Adult at risk")]["received"],
        rows[("Subject", "Adult at risk")]["decided"],
    ) == (1, 0)
    assert len(rows) == len(Enquiry.SubjectType.choices) + len(Enquiry.Concern.choices)


def test_the_breakdown_is_one_query_at_any_size(march, make_enquiry, django_assert_num_queries):
    with django_assert_num_queries(1):  # the NFA outcome is a subquery of the one aggregate
        selectors.breakdown(MARCH)
    for day in range(3, 28):
        make_enquiry(f"2026-03-{day:02d} 09:00", decided=f"2026-03-{day:02d} 10:00")
    with django_assert_num_queries(1):
        selectors.breakdown(MARCH)


def test_the_page_the_downloads_and_the_command(client, make_user, march, capsys):
    client.force_login(make_user(Role.ANALYST))

    page = client.get(
        reverse("report", args=["breakdown"]), {"start": "2026-03-01", "to": "2026-03-31"}
    )
    html = page.content.decode()
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html).group(1))
    assert chart["labels"][:2] == ["Neglect", "Physical abuse"]
    assert chart["datasets"][0]["data"][0] == 2
    csv = client.get(
        reverse("report-csv", args=["breakdown"]), {"start": "2026-03-01", "to": "2026-03-31"}
    )
    first = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[:2]
    assert first[0] == "breakdown,group,received,decided,on_time,on_time_percent,nfa,nfa_percent"
    assert first[1] == "Subject,Child,2,3,2,66.7,2,66.7"

    call_command(
        "report", "breakdown", "--start", "2026-03-01", "--end", "2026-04-01", "--format", "csv"
    )
    assert capsys.readouterr().out.splitlines()[1] == "Subject,Child,2,3,2,66.7,2,66.7"


@pytest.mark.instant("2026-04-15T12:00")
def test_the_analysts_home_shows_last_month_at_a_glance(client, make_user, march):
    client.force_login(make_user(Role.ANALYST))

    html = client.get(reverse("reports-index")).content.decode()

    assert 'data-testid="reports-glance"' in html
    assert "March 2026" in html
    assert re.search(
        r'<th scope="row"[^>]*>Category</th>\s*<td[^>]*>Neglect</td>\s*<td[^>]*>2</td>', html
    )
