"""In-app notifications: the page, the unread count in the header, marking read, and nobody
seeing or marking anyone else's."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from agencies.models import Role
from enquiries import services
from enquiries.models import (
    NOTIFICATION_TAGS,
    Enquiry,
    Notification,
    NotificationGroup,
    ReferrerType,
)
from enquiries.notifications import UnreadCount, navigation_unread_count
from enquiries.services import PersonDetails
from enquiries.sla_scan import record_sla_events

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
RECEIVED = datetime(2026, 3, 27, 13, 0, tzinfo=LONDON)


def log(actor, *names) -> list[Enquiry]:
    return services.enquiry_intake(
        actor=actor,
        received_at=RECEIVED,
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[PersonDetails(first_name=name, last_name="Smith") for name in names],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Arrived at school hungry three days running.",
        categories=["neglect"],
        consent=Enquiry.Consent.NO,
        consent_reason="Asking could put the child at greater risk.",
        lawful_basis="children_act_1989_s47",
        now=RECEIVED,
    )


def notify(user, enquiry, *, minutes=0, kind=Notification.Kind.AT_RISK, read=False):
    created = RECEIVED + timedelta(minutes=minutes)
    return Notification.objects.create(
        recipient=user,
        enquiry=enquiry,
        kind=kind,
        message=f"{enquiry.reference} note {minutes}",
        created_at=created,
        read_at=created if read else None,
    )


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def enquiries(researcher):
    return log(researcher, "Ann", "Bea")


def test_the_page_lists_my_notifications_newest_first_with_links_and_unread_marked(
    client, researcher, enquiries, make_user
):
    ann, bea = enquiries
    notify(researcher, ann, minutes=1, read=True)
    notify(researcher, bea, minutes=2, kind=Notification.Kind.BREACHED)
    notify(make_user(Role.MANAGER), ann, minutes=3)
    client.force_login(researcher)

    response = client.get(reverse("notifications"))

    assert response.status_code == 200
    rows = [n.message for n in response.context["page"].object_list]
    assert rows == [f"{bea.reference} note 2", f"{ann.reference} note 1"]
    html = response.content.decode()
    assert f"{ann.reference} note 3" not in html
    assert f'href="{bea.get_absolute_url()}"' in html
    assert f'href="{ann.get_absolute_url()}"' in html
    assert html.count('data-testid="unread"') == 1
    assert "2 notifications, 1 unread" in html
    assert "Mark all as read" in html


def test_with_nothing_to_read_the_page_says_so(client, researcher):
    client.force_login(researcher)

    html = client.get(reverse("notifications")).content.decode()

    assert "You have no notifications." in html
    assert "Mark all as read" not in html


def test_the_page_needs_signing_in(client):
    response = client.get(reverse("notifications"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_header_shows_the_unread_count_on_every_page(client, researcher, enquiries):
    notify(researcher, enquiries[0], minutes=1)
    notify(researcher, enquiries[1], minutes=2)
    notify(researcher, enquiries[1], minutes=3, read=True)
    client.force_login(researcher)

    html = client.get(reverse("triage-queue")).content.decode()

    assert 'data-testid="notifications-link"' in html
    assert "Notifications (2" in html


def test_past_99_unread_the_header_says_99_plus_and_the_page_says_how_many(
    client, researcher, enquiries
):
    Notification.objects.bulk_create(
        Notification(
            recipient=researcher,
            enquiry=enquiries[number % 2],
            kind=Notification.Kind.AT_RISK,
            message=f"note {number}",
            created_at=RECEIVED + timedelta(minutes=number),
        )
        for number in range(130)
    )
    client.force_login(researcher)

    queue = client.get(reverse("triage-queue")).content.decode()
    page = client.get(reverse("notifications")).content.decode()

    assert "Notifications (99+<" in queue
    assert "Notifications (99+<" in page
    assert "130 notifications, 130 unread" in page
    # The header stops counting one past its limit: it cannot tell 100 from 130.
    assert navigation_unread_count(user=researcher) == UnreadCount(100)
    Notification.objects.filter(message__in=[f"note {n}" for n in range(31)]).update(
        read_at=RECEIVED
    )
    assert "Notifications (99<" in client.get(reverse("triage-queue")).content.decode()


@pytest.mark.parametrize(
    ("counted", "shown", "any_unread"),
    [(0, "0", False), (1, "1", True), (99, "99", True), (100, "99+", True)],
)
def test_the_headers_count_reads_as_a_number_up_to_99(counted, shown, any_unread):
    assert str(UnreadCount(counted)) == shown
    assert bool(UnreadCount(counted)) is any_unread


def test_the_sign_in_page_does_not_count_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("login"))

    assert "Notifications (" not in response.content.decode()


def test_marking_one_read_keeps_the_others_unread_and_returns_to_the_page(
    client, researcher, enquiries
):
    first = notify(researcher, enquiries[0], minutes=1)
    second = notify(researcher, enquiries[1], minutes=2)
    client.force_login(researcher)
    back = reverse("notifications") + "?page=1"

    response = client.post(reverse("notification-read", args=[first.pk]), {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_reading_again_keeps_the_first_time(client, researcher, enquiries):
    notification = notify(researcher, enquiries[0], read=True)
    client.force_login(researcher)

    client.post(reverse("notification-read", args=[notification.pk]))

    notification.refresh_from_db()
    assert notification.read_at == RECEIVED


def test_marking_all_read_marks_only_mine(client, researcher, enquiries, make_user):
    mine = [notify(researcher, enquiry) for enquiry in enquiries]
    theirs = notify(make_user(Role.MANAGER), enquiries[0])
    client.force_login(researcher)

    response = client.post(reverse("notifications-read-all"))

    assert response.status_code == 302
    assert response["Location"] == reverse("notifications")
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[n.pk for n in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    html = client.get(reverse("notifications")).content.decode()
    assert "Notifications (0" in html


def test_someone_elses_notification_is_missing_not_forbidden(
    client, researcher, enquiries, make_user
):
    theirs = notify(make_user(Role.MANAGER), enquiries[0])
    client.force_login(researcher)

    response = client.post(reverse("notification-read", args=[theirs.pk]))
    missing = client.post(reverse("notification-read", args=[theirs.pk + 1000]))

    assert response.status_code == missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_is_a_post(client, researcher, enquiries):
    notification = notify(researcher, enquiries[0])
    client.force_login(researcher)

    assert client.get(reverse("notification-read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications-read-all")).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_needs_the_csrf_token(researcher, enquiries):
    from django.test import Client

    notification = notify(researcher, enquiries[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)

    assert client.post(reverse("notifications-read-all")).status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_outside_address_to_return_to_is_ignored(client, researcher, enquiries):
    notification = notify(researcher, enquiries[0])
    client.force_login(researcher)

    response = client.post(
        reverse("notification-read", args=[notification.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("notifications")


def test_the_page_is_paginated(client, researcher, enquiries):
    for minute in range(55):
        notify(researcher, enquiries[minute % 2], minutes=minute)
    client.force_login(researcher)

    first = client.get(reverse("notifications"))
    second = client.get(reverse("notifications"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert [n.message for n in second.context["page"].object_list][-1].endswith("note 0")
    assert "Page 2 of 2" in second.content.decode()


def test_the_scans_notifications_reach_the_assignees_page(client, researcher, make_user):
    (enquiry,) = log(researcher, "Ann")
    services.enquiry_assign(
        enquiry=enquiry, actor=researcher, assignee=researcher, expected_version=enquiry.version
    )
    # No RAG: 1440 working minutes from Friday 13:00, so at risk from Tuesday 31 March 15:00.
    record_sla_events(now=datetime(2026, 3, 31, 15, 0, tzinfo=LONDON))
    client.force_login(researcher)

    html = client.get(reverse("notifications")).content.decode()

    assert (
        f"{enquiry.reference} (No RAG) is at risk: the decision is due by Wed 1 Apr 13:00." in html
    )
    assert "Notifications (1" in html


@pytest.mark.parametrize("count", [3, 60])
def test_the_page_runs_a_fixed_number_of_queries(
    client, researcher, enquiries, django_assert_max_num_queries, count
):
    for minute in range(count):
        notify(researcher, enquiries[minute % 2], minutes=minute, read=minute % 3 == 0)
    client.force_login(researcher)

    # session, user + agency, groups (navigation), count, page of notifications with their
    # enquiries' references, unread count (header and page share it)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notifications"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count, 50)


def test_every_kind_has_a_tag_of_its_own_and_only_deadlines_warn_in_orange():
    assert set(NOTIFICATION_TAGS) == set(Notification.Kind.values)
    words = [tag for tag, _, _ in NOTIFICATION_TAGS.values()]
    assert len(set(words)) == len(words)
    orange = {kind for kind, (_, colour, _) in NOTIFICATION_TAGS.items() if colour == "orange"}
    assert orange == {Notification.Kind.AT_RISK}
    assert {group for _, _, group in NOTIFICATION_TAGS.values()} == set(NotificationGroup)


def test_each_notification_is_tagged_by_its_kind(client, researcher, enquiries):
    ann, bea = enquiries
    notify(researcher, ann, minutes=1, kind=Notification.Kind.INFORMATION_REQUEST)
    notify(researcher, ann, minutes=2, kind=Notification.Kind.CHASER)
    notify(researcher, bea, minutes=3, kind=Notification.Kind.AT_RISK)
    notify(researcher, bea, minutes=4, kind=Notification.Kind.RELEASE_REQUEST)
    client.force_login(researcher)

    html = client.get(reverse("notifications")).content.decode()

    tags = re.findall(r'govuk-tag--(\w+)" data-testid="notification-tag">([^<]+)<', html)
    assert tags == [
        ("purple", "Release requested"),
        ("orange", "Deadline at risk"),
        ("yellow", "Chased"),
        ("blue", "Information asked"),
    ]


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ({"group": "deadlines"}, ["note 4", "note 1"]),
        ({"group": "information"}, ["note 3", "note 2"]),
        ({"group": "releases"}, []),
        ({"unread": "on"}, ["note 4", "note 2"]),
        ({"group": "deadlines", "unread": "on"}, ["note 4"]),
        ({}, ["note 4", "note 3", "note 2", "note 1"]),
    ],
)
def test_the_page_shows_one_group_of_kinds_or_only_the_unread(
    client, researcher, enquiries, asked, shown
):
    ann, _ = enquiries
    notify(researcher, ann, minutes=1, kind=Notification.Kind.AT_RISK, read=True)
    notify(researcher, ann, minutes=2, kind=Notification.Kind.INFORMATION_ANSWERED)
    notify(researcher, ann, minutes=3, kind=Notification.Kind.CHASER, read=True)
    notify(researcher, ann, minutes=4, kind=Notification.Kind.BREACHED)
    client.force_login(researcher)

    response = client.get(reverse("notifications"), asked)

    assert response.status_code == 200
    rows = [
        n.message.removeprefix(f"{ann.reference} ") for n in response.context["page"].object_list
    ]
    assert rows == shown
    html = response.content.decode()
    if not shown:
        assert "You have no notifications of this kind." in html
    assert ("Show all notifications" in html) == bool(asked)


def test_a_group_not_in_the_list_is_a_clear_error_not_everything(client, researcher, enquiries):
    notify(researcher, enquiries[0], minutes=1)
    client.force_login(researcher)

    response = client.get(reverse("notifications"), {"group": "everything"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<title>Error: Notifications" in html
    assert "Choose which notifications to show from the list." in html
    assert 'href="#id_group"' in html
