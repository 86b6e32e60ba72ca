"""CSRF with a client that enforces it, as a browser meets it: a form post and a session's API
write are refused without the token and accepted with it. (Token-signed API calls need none:
tests/enquiries/test_api.py.)"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def browser(user=None) -> tuple[Client, str]:
    """A client that checks CSRF like production, and the token a page it opened carries."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get(reverse("login") if user is None else reverse("triage-queue"))
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


def test_signing_in_needs_the_token(hub):
    client, token = browser()
    form = {"username": hub.researcher.username, "password": PASSWORD}

    without = client.post(reverse("login"), form)
    with_token = client.post(reverse("login"), {**form, "csrfmiddlewaretoken": token})

    assert without.status_code == 403
    assert with_token.status_code == 302


def test_a_form_on_a_page_needs_the_token(hub):
    client, token = browser(hub.researcher)
    address = reverse("enquiry-escalate", args=[hub.enquiry.reference])
    form = {"reason": "Disclosure at school.", "expected_version": hub.enquiry.version}

    without = client.post(address, form)
    hub.enquiry.refresh_from_db()
    rating_after_refusal = hub.enquiry.rating
    with_token = client.post(address, {**form, "csrfmiddlewaretoken": token})
    hub.enquiry.refresh_from_db()

    assert without.status_code == 403
    assert rating_after_refusal != "red"
    assert with_token.status_code == 302
    assert hub.enquiry.rating == "red"


def test_a_session_api_write_needs_the_token_in_its_header(hub):
    client, token = browser(hub.researcher)
    address = reverse("api:enquiry-escalate", args=[hub.enquiry.reference])
    body = '{"reason": "Disclosure at school."}'

    without = client.post(address, body, content_type="application/json")
    with_token = client.post(address, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    assert with_token.status_code == 200
    assert with_token.json()["rating"] == "red"


def test_signing_out_needs_the_token(hub):
    client, token = browser(hub.researcher)

    without = client.post(reverse("logout"))
    still_in = client.get(reverse("triage-queue"))
    with_token = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})

    assert without.status_code == 403
    assert still_in.status_code == 200
    assert with_token.status_code == 302
