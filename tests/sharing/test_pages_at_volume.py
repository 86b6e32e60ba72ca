"""The sharing pages read the same way whatever the hub holds (bench/pages.py times them at a
million enquiries): the record search looks among the newest records first, the auditor's
log pages from a place in the log and counts only so far, and the inbox pages through its
open requests by their index."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from audit.models import AccessLogEntry
from enquiries.models import Enquiry
from sharing import log_pages, selectors, services
from sharing.filters import RecordSearch
from sharing.firewall import visible_records
from sharing.models import InformationRecord, InformationRequest

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action
Channel = AccessLogEntry.Channel
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# The record search.


def searched(user, words: str) -> list[int]:
    search = RecordSearch({"q": words}, visible_records(user))
    return [record.pk for record in selectors.search_records(user, search.qs)]


def newest_first(records: list[InformationRecord]) -> list[int]:
    return [r.pk for r in sorted(records, key=lambda r: (r.recorded_at, r.pk), reverse=True)]


@pytest.fixture
def school_records(hub) -> list[InformationRecord]:
    """Nine records saying "school", recorded an hour apart (two at the same minute), among
    others that do not."""
    records = []
    for n in range(12):
        record = hub.record("non_sensitive", marker=f"{'school' if n % 4 else 'home'} {n}")
        at = START + timedelta(hours=n if n != 7 else 6)
        InformationRecord.objects.filter(pk=record.pk).update(recorded_at=at)
        record.recorded_at = at
        if n % 4:
            records.append(record)
    return records


@pytest.mark.parametrize("newest", [1, 3, 8, 100])
def test_the_search_finds_the_newest_hits_however_many_of_the_newest_records_it_reads_first(
    hub, school_records, monkeypatch, newest
):
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 4)
    monkeypatch.setattr(selectors, "SEARCH_NEWEST", newest)

    assert searched(hub.researcher, "SCHOOL") == newest_first(school_records)[:4]


def test_the_search_among_the_newest_keeps_to_the_firewall(hub, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_NEWEST", 2)
    readable = hub.record("non_sensitive", marker="truancy A")
    hub.record("sensitive", marker="truancy B")  # the police's, not released: a signpost

    assert searched(hub.researcher, "truancy") == [readable.pk]
    assert searched(hub.analyst, "truancy") == []


def test_the_search_reads_among_the_newest_records_in_one_query(
    hub, school_records, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 2)
    monkeypatch.setattr(selectors, "SEARCH_NEWEST", 6)

    searched(hub.researcher, "school")  # the researcher's roles, read once

    # the hits among the newest, then their rows
    with django_assert_max_num_queries(2):
        assert searched(hub.researcher, "school") == newest_first(school_records)[:2]


# The auditor's log, a page at a time.


def fill(hub, n: int) -> list[int]:
    """`n` entries a minute apart (every fifth at the minute before it too), their ids newest
    first."""
    entries = [
        AccessLogEntry(
            at=START + timedelta(minutes=i - (i % 5 == 4)),
            user=hub.researcher,
            agency_id=hub.researcher.agency_id,
            action=Action.VIEW_PERSON,
            channel=Channel.PAGE,
            enquiry=hub.enquiry,
            person=hub.enquiry.subject,
            reason=f"look {i}",
        )
        for i in range(n)
    ]
    AccessLogEntry.objects.bulk_create(entries)
    return [e.pk for e in sorted(entries, key=lambda e: (e.at, e.pk), reverse=True)]


def page_of(client, hub, query: str = ""):
    """The auditor's page of everything logged about the hub's child."""
    response = client.get(f"{reverse('audit-log')}?person={hub.enquiry.subject_id}{query}")
    assert response.status_code == 200
    return response


def following(client, response, rel: str):
    return client.get(f"{reverse('audit-log')}?{links(response)[rel]}")


def links(response) -> dict[str, str]:
    html = response.content.decode()
    found = dict(re.findall(r'href="\?([^"]*)" rel="(prev|next)"', html))
    return {rel: query.replace("&amp;", "&") for query, rel in found.items()}


def ids(response) -> list[int]:
    return [entry.pk for entry in response.context["page"].object_list]


def test_next_and_previous_walk_the_log_from_their_places(client, hub):
    newest = fill(hub, 130)
    client.force_login(hub.auditor)

    first = page_of(client, hub)
    assert ids(first) == newest[:50]
    assert "130 entries" in first.content.decode()
    assert "Page 1 of 3" in first.content.decode()
    second = following(client, first, "next")
    assert "before=" in links(first)["next"]
    third = following(client, second, "next")
    assert ids(second) == newest[50:100]
    assert ids(third) == newest[100:]
    assert "next" not in links(third)
    assert "Page 3 of 3" in third.content.decode()

    back = following(client, third, "prev")
    assert ids(back) == newest[50:100]
    assert "Page 2 of 3" in back.content.decode()
    assert links(back)["prev"].endswith("page=1")
    # a page by its number, as links were before, is still the same page
    assert ids(page_of(client, hub, "&page=2")) == newest[50:100]


def test_the_log_says_there_are_more_entries_than_it_counted(client, hub, monkeypatch):
    monkeypatch.setattr(log_pages, "COUNTED_UP_TO", 60)
    newest = fill(hub, 70)
    client.force_login(hub.auditor)

    first = page_of(client, hub)

    html = first.content.decode()
    assert "More than 60 entries" in html
    assert "Page 1</li>" in html and "Page 1 of" not in html
    last = following(client, first, "next")
    assert ids(last) == newest[50:]


def test_a_token_that_is_not_a_place_reads_the_first_page(client, hub):
    newest = fill(hub, 60)
    client.force_login(hub.auditor)

    assert ids(page_of(client, hub, "&before=yesterday")) == newest[:50]
    assert ids(page_of(client, hub, "&after=1~x&page=2")) == newest[50:]


@pytest.mark.parametrize("entries", [110, 180])
def test_a_later_page_of_the_log_runs_the_queries_the_first_does(
    client, hub, django_assert_max_num_queries, entries
):
    fill(hub, entries)
    client.force_login(hub.auditor)
    first = client.get(reverse("audit-log"))

    # session, user + agency, groups, agencies for the filter, count, page of entries, what
    # they name (five lookups by key, whatever they name), the read written to the access log
    # (lock and last hash in one call, insert), unread notifications
    with django_assert_max_num_queries(14):
        later = following(client, first, "next")
    assert later.status_code == 200
    assert len(ids(later)) == 50


# The inbox.


def test_the_inbox_pages_through_its_open_requests_soonest_due_first(client, hub):
    for n in range(55):
        enquiry = Enquiry.objects.get(pk=hub.enquiry.pk)
        enquiry.pk = None
        enquiry.reference = f"MASH-2026-8{n:05d}"
        enquiry.save()
        services.send_information_requests(
            enquiry=enquiry, actor=hub.researcher, agencies=[hub.police]
        )
    hub.record("non_sensitive", marker="given")
    open_requests = InformationRequest.objects.filter(
        agency=hub.police, status__in=InformationRequest.OPEN_STATUSES
    ).order_by("due_at", "id")
    expected = list(open_requests.values_list("enquiry__reference", flat=True))
    client.force_login(hub.police_officer)

    first = client.get(reverse("agency-inbox"))
    second = client.get(reverse("agency-inbox"), {"page": 2})

    shown = [line for response in (first, second) for line in response.context["requests"]]
    assert [line.reference for line in shown] == expected
    assert len(first.context["requests"]) == 50
    assert f"Open requests ({len(expected)})" in first.content.decode()
    assert {line.pk: line.record_count for line in shown} == {
        request.pk: request.records.count() for request in open_requests
    }
