"""Each entry names who acted: the signed-in person on a page, the token's holder on the API;
nobody ("System") for a Celery task or a management command, which run outside any request."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import Agency, Role
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db


def rate_through_the_api(client, enquiry) -> None:
    response = client.post(
        reverse("api:enquiry-rate", args=[enquiry.reference]),
        {"rating": "red", "rationale": "Bruising.", "expected_version": enquiry.version},
        format="json",
        REMOTE_ADDR="192.0.2.20",
    )
    assert response.status_code == 200, response.content


def rating_entry(enquiry) -> LogEntry:
    return (
        LogEntry.objects.get_for_object(enquiry)
        .filter(action=LogEntry.Action.UPDATE, changes__has_key="rating")
        .get()
    )


def test_an_api_call_made_with_a_token_names_the_tokens_holder(hub):
    # Middleware runs before DRF reads the token, so auditlog alone would log nobody.
    key = api_key_for(hub.manager)

    rate_through_the_api(APIClient(HTTP_AUTHORIZATION=f"Token {key}"), hub.enquiry)

    entry = rating_entry(hub.enquiry)
    assert (entry.actor, entry.actor_email) == (hub.manager, hub.manager.email)
    assert entry.remote_addr == "192.0.2.20"


def test_an_api_call_made_signed_in_names_the_person(hub):
    client = APIClient()
    client.force_login(hub.manager)

    rate_through_the_api(client, hub.enquiry)

    assert rating_entry(hub.enquiry).actor == hub.manager


def test_a_page_names_the_person_and_the_connections_address(client, make_user):
    administrator = make_user(Role.ADMINISTRATOR)
    client.force_login(administrator)

    client.post(
        reverse("hub-settings:agency-add"),
        {
            "name": "Youth Justice",
            "kind": "youth_offending",
            "participation": "virtual",
            "asked_by_default": "no",
            "reason": "A new partner.",
            "confirm": "1",
        },
        REMOTE_ADDR="192.0.2.21",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )

    entry = LogEntry.objects.get(object_repr="Youth Justice")
    assert (entry.actor, entry.remote_addr) == (administrator, "192.0.2.21")


def test_work_outside_a_request_is_the_systems_even_after_a_request_in_the_same_thread(
    client, make_user
):
    # A Celery worker or a management command: no request, so no actor, shown as "System".
    administrator = make_user(Role.ADMINISTRATOR)
    client.force_login(administrator)
    client.get(reverse("admin:index"))

    agency = Agency.objects.create(name="Fire and Rescue", kind=Agency.Kind.FIRE)
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)
    page = client.get(reverse("audit-log"), {"log": "changes"})

    entry = LogEntry.objects.get_for_object(agency).get()
    assert entry.actor is None
    assert entry.pk in {row.entry.pk for row in page.context["rows"]}
    assert "System" in page.content.decode()
