"""SLA events and notifications in the admin: a record of what the scan did, never edited;
notifications are listed, never opened."""

import pytest
from django.urls import reverse

from agencies.models import Role
from enquiries import services
from enquiries.models import Notification, SlaEvent
from enquiries.sla_scan import record_sla_events

from .test_sla_scan import BREACHED_FROM, log_red

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(make_user):
    """One breached enquiry, its event and the notifications to its assignee and a manager."""
    researcher = make_user(Role.RESEARCHER, username="rosa")
    make_user(Role.MANAGER, username="mina")
    (enquiry,) = log_red(researcher, "Ann")
    services.enquiry_assign(
        enquiry=enquiry, actor=researcher, assignee=researcher, expected_version=enquiry.version
    )
    record_sla_events(now=BREACHED_FROM)
    return SlaEvent.objects.get(), Notification.objects.first()


@pytest.fixture
def superuser_client(client, make_user):
    client.force_login(make_user(is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("model", "name"), [(SlaEvent, "slaevent"), (Notification, "notification")]
)
def test_it_lists_and_shows_but_never_adds_changes_or_deletes(
    superuser_client, recorded, model, name, django_assert_max_num_queries
):
    record = model.objects.first()
    change_url = reverse(f"admin:enquiries_{name}_change", args=[record.pk])

    # session, user, the page of rows with their enquiry (and recipient) joined, its count,
    # the unfiltered count, and the filters' choices
    with django_assert_max_num_queries(8):
        listing = superuser_client.get(reverse(f"admin:enquiries_{name}_changelist"))
    shown = superuser_client.get(change_url)

    assert listing.status_code == 200
    assert record.enquiry.reference in listing.content.decode()
    if model is Notification:
        # Never opened: its message names people (enquiries.admin.NotificationAdmin).
        assert shown.status_code == 403
        assert record.message not in listing.content.decode()
    else:
        assert shown.status_code == 200
        assert b'name="_save"' not in shown.content
    assert superuser_client.get(reverse(f"admin:enquiries_{name}_add")).status_code == 403
    assert superuser_client.post(change_url, {}).status_code == 403
    delete_url = reverse(f"admin:enquiries_{name}_delete", args=[record.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=record.pk).exists()
