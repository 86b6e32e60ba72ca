"""Whoever works on an enquiry is told when an agency answers (issue 19, item 4): its assignee,
or, while nobody is assigned, whoever asked; nobody else."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from enquiries import services as enquiry_services
from enquiries.models import Notification
from sharing import services
from sharing.models import Sensitivity

pytestmark = pytest.mark.django_db

ANSWERED = Notification.Kind.INFORMATION_ANSWERED


def answered(user):
    return list(
        Notification.objects.filter(recipient=user, kind=ANSWERED).values_list("message", flat=True)
    )


def test_whoever_asked_is_told_when_nobody_is_assigned(hub):
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)

    assert answered(hub.researcher) == [
        f"{hub.enquiry.reference}: Thames Valley Police holds nothing about the people asked about."
    ]
    assert answered(hub.manager) == []
    assert answered(hub.police_officer) == []


def test_the_assignee_is_told_rather_than_whoever_asked(hub):
    enquiry_services.enquiry_assign(
        enquiry=hub.enquiry,
        actor=hub.manager,
        assignee=hub.manager,
        expected_version=hub.enquiry.version,
    )
    services.add_information_record(
        request=hub.health_request,
        actor=hub.health_visitor,
        person=hub.enquiry.subject,
        summary="Seen by the health visitor",
        detail="Missed two appointments.",
        source_system="SystmOne",
        information_date=date(2025, 10, 1),
        sensitivity=Sensitivity.NON_SENSITIVE,
    )
    services.send_answer(request=hub.health_request, actor=hub.health_visitor)

    assert answered(hub.manager) == [f"{hub.enquiry.reference}: Oxford Health has answered."]
    assert answered(hub.researcher) == []


def test_the_notification_is_tagged_as_what_it_is(client, hub):
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)
    client.force_login(hub.researcher)

    page = client.get(reverse("notifications")).content.decode()

    assert "Information answered</strong>" in page
    assert "At risk</strong>" not in page


def test_the_queue_marks_new_information_until_the_notification_is_read(client, hub):
    services.record_nothing_held(request=hub.police_request, actor=hub.police_officer)
    row = f'href="{hub.enquiry.get_absolute_url()}"'

    client.force_login(hub.researcher)
    marked = client.get(reverse("triage-queue")).content.decode()
    client.force_login(hub.manager)
    for_someone_else = client.get(reverse("triage-queue")).content.decode()
    Notification.objects.filter(recipient=hub.researcher, kind=ANSWERED).update(
        read_at=timezone.now()
    )
    client.force_login(hub.researcher)
    read = client.get(reverse("triage-queue")).content.decode()

    assert row in marked and 'data-testid="new-information"' in marked
    assert row in for_someone_else and 'data-testid="new-information"' not in for_someone_else
    assert 'data-testid="new-information"' not in read
