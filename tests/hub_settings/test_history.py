"""The history of hub settings: every saved change, the latest first, a page at a time, in
the same few queries however many there are."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enquiries.models import HubSettingsChange

pytestmark = pytest.mark.django_db

HISTORY = reverse("hub-settings:history")


def make_changes(who, count: int) -> None:
    now = timezone.now()
    HubSettingsChange.objects.bulk_create(
        HubSettingsChange(
            area=HubSettingsChange.Area.ALLOWANCES,
            changed_by=who,
            changed_at=now - timedelta(minutes=number),
            reason=f"Reason number {number}",
            version_before=number,
            version_after=number + 1,
            before={"at_risk_percent": 75},
            after={"at_risk_percent": 70},
            changes=[["At risk from", "75% of the allowance", "70% of the allowance"]],
            effect="This will move 0 open deadlines (of 0 open enquiries).",
        )
        for number in range(count)
    )


def test_it_lists_who_when_why_and_what_the_latest_first(admin_client, administrator):
    make_changes(administrator, 2)

    page = admin_client.get(HISTORY).content.decode()

    assert page.index("Reason number 0") < page.index("Reason number 1")
    assert "Ada Admin" in page
    assert "RAG allowances and at-risk share" in page
    assert "At risk from: 75% of the allowance" in page
    assert "0 to 1" in page


def test_it_says_when_there_is_none_yet(admin_client):
    assert (
        "No change has been saved on these pages yet." in admin_client.get(HISTORY).content.decode()
    )


def test_it_pages_by_25(admin_client, administrator):
    make_changes(administrator, 26)

    first = admin_client.get(HISTORY).content.decode()
    second = admin_client.get(HISTORY, {"page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert "Reason number 24<" in first and "Reason number 25<" not in first
    assert "Reason number 25<" in second


def test_its_queries_do_not_grow_with_the_changes(
    admin_client, administrator, make_user, django_assert_max_num_queries
):
    make_changes(administrator, 1)
    with django_assert_max_num_queries(12) as one:
        admin_client.get(HISTORY)
    make_changes(make_user(), 20)  # and by someone else: their names come in the same query

    # Session, user, roles and the page's count and rows (the person joined in).
    with django_assert_max_num_queries(len(one.captured_queries)):
        admin_client.get(HISTORY)
