"""Open information requests' due times kept to the hub clock and the sharing policy
(sharing.timing): a change bumps a version and returns; the catch-up moves the due times; the
chaser never chases by a due time from an older clock or policy."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from enquiries.models import RagAllowance
from enquiries.timing import behind_count, recompute_behind
from sharing.chasing import chase_overdue_requests
from sharing.models import Chaser, InformationRequest, SharingPolicy
from sharing.services import request_due_at
from sharing.timing import catch_up

from .conftest import make_hub

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SETTINGS_URL = reverse("hub-settings:sharing")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# The hub's enquiry arrives, unrated (1,440 working minutes), on Wednesday 2 December 2026 at
# 10:00 (the suite's instant is 10:30); its requests are due at 75% of that, 1,080 minutes:
# Wednesday's 420, Thursday's 480 and 180 on Friday.
DUE_AT_75 = at("2026-12-04T12:00")
DUE_AT_50 = at("2026-12-03T14:00")  # 720 minutes: Wednesday's 420 and 300 on Thursday
DUE_AT_10 = at("2026-12-02T12:24")  # 144 minutes


def due_times(hub) -> list[datetime]:
    return list(
        InformationRequest.objects.filter(pk__in=[hub.police_request.pk, hub.health_request.pk])
        .order_by("pk")
        .values_list("due_at", flat=True)
    )


def set_due_percent(percent: int) -> None:
    policy = SharingPolicy.current()
    policy.request_due_percent = percent
    policy.save()


def test_saving_the_policy_bumps_its_version():
    policy = SharingPolicy.current()
    before = policy.version

    policy.chase_interval_minutes = 30
    policy.save()

    assert policy.version == SharingPolicy.current().version == before + 1


def test_a_policy_change_leaves_requests_behind_until_the_catch_up_moves_them():
    hub = make_hub()
    assert due_times(hub) == [DUE_AT_75, DUE_AT_75]

    set_due_percent(50)

    assert due_times(hub) == [DUE_AT_75, DUE_AT_75]  # the save moved nothing
    assert behind_count().counts == {"enquiries": 0, "information requests": 2}
    assert recompute_behind() == {"enquiries": 0, "information requests": 2}
    assert due_times(hub) == [DUE_AT_50, DUE_AT_50]
    assert behind_count().total == 0


def test_the_requests_catch_up_goes_in_batches():
    hub = make_hub()
    set_due_percent(10)

    assert [catch_up(1) for _ in range(3)] == [1, 1, 0]
    assert due_times(hub) == [DUE_AT_10, DUE_AT_10]


def test_a_clock_change_moves_due_times_with_their_enquiry():
    hub = make_hub()
    allowance = RagAllowance.objects.get(rating="none")
    allowance.minutes = 720
    allowance.save()

    assert behind_count().counts == {"enquiries": 1, "information requests": 2}
    # Each request is recomputed in its enquiry's transaction, so none is left for after.
    assert recompute_behind() == {"enquiries": 1, "information requests": 0}
    # 75% of 720 minutes is 540: Wednesday's 420 and 120 on Thursday.
    assert due_times(hub) == [at("2026-12-03T11:00")] * 2
    hub.enquiry.refresh_from_db()
    assert due_times(hub)[0] == request_due_at(hub.enquiry, percent=75)


def test_the_chaser_chases_by_the_due_time_of_the_policy_in_force():
    hub = make_hub()
    set_due_percent(10)

    # At 13:00 the requests are overdue by the new policy (due 12:24), not by their stored
    # due time (Friday).
    assert chase_overdue_requests(now=at("2026-12-02T13:00")) == 2
    assert Chaser.objects.count() == 2
    assert due_times(hub) == [DUE_AT_10, DUE_AT_10]


def test_the_chaser_never_chases_by_a_due_time_from_an_older_policy():
    hub = make_hub()
    set_due_percent(10)
    recompute_behind()
    set_due_percent(75)

    # Overdue by their stored due time (12:24), not by the policy in force (Friday).
    assert chase_overdue_requests(now=at("2026-12-02T13:00")) == 0
    assert not Chaser.objects.exists()
    assert due_times(hub) == [DUE_AT_75, DUE_AT_75]


def test_the_policy_page_saves_at_once_and_counts_the_requests_left(
    client, django_capture_on_commit_callbacks
):
    hub = make_hub()
    client.force_login(hub.administrator)
    policy = SharingPolicy.current()
    form = {
        "version": str(policy.version),
        "request_due_percent": "50",
        "chase_interval_minutes": "60",
        "lead_agency": "",
        "reason": "Answers are needed sooner.",
        "confirm": "1",
    }

    with django_capture_on_commit_callbacks() as queued:  # queued, not run
        response = client.post(SETTINGS_URL, form)

    assert response.status_code == 302
    assert [callback.func.__self__.name for callback in queued] == [
        "enquiries.tasks.recompute_open_deadlines"
    ]
    assert due_times(hub) == [DUE_AT_75, DUE_AT_75]
    page = client.get(reverse("hub-settings:index")).content.decode()
    assert "2 deadlines are being updated" in page
    assert "Open information requests: 2" in page

    recompute_behind()

    assert due_times(hub) == [DUE_AT_50, DUE_AT_50]
    assert (
        "deadlines are being updated"
        not in client.get(reverse("hub-settings:index")).content.decode()
    )
