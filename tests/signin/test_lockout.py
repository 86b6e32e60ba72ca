"""Lockout (django-axes): 5 failed sign-ins for a username, or from an address, lock it for 15
minutes; the page says so in one message whoever is asked about, and the lockout is logged."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from agencies.lockout import message
from agencies.models import Role
from audit.models import AccountEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
HOME = "192.0.2.20"
ELSEWHERE = "198.51.100.7"
WRONG = "not-the-password"


def attempt(username: str, password: str = WRONG, address: str = HOME, **headers):
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )
    response.signed_in = SESSION_KEY in client.session
    return response


def fail(username: str, times: int, address: str = HOME) -> None:
    for _ in range(times):
        attempt(username, address=address)


def page_text(response) -> str:
    """The page without its per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


def test_four_failures_do_not_lock_anyone_out(researcher):
    fail("rosa", 4)

    response = attempt("rosa", PASSWORD)

    assert response.status_code == 302
    assert response.signed_in


def test_five_failures_lock_the_username_out_even_with_the_right_password(researcher):
    fail("rosa", 5)

    response = attempt("rosa", PASSWORD, address=ELSEWHERE)

    assert response.status_code == 429
    assert not response.signed_in
    assert message() in response.content.decode()
    assert "Wait 15 minutes" in message()


def test_five_failures_from_one_address_lock_the_address_out(make_user):
    for n in range(5):
        make_user(Role.RESEARCHER, username=f"colleague{n}")
        fail(f"colleague{n}", 1)
    make_user(Role.RESEARCHER, username="next-door")

    same_office = attempt("next-door", PASSWORD)
    elsewhere = attempt("next-door", PASSWORD, address=ELSEWHERE)

    assert same_office.status_code == 429 and not same_office.signed_in
    assert elsewhere.status_code == 302 and elsewhere.signed_in


PROXY = "10.0.0.2"


def via_proxy(username: str, client_address: str, password: str = WRONG):
    """A sign-in through a load balancer at PROXY; the client may send its own
    X-Forwarded-For, which the proxy appends to."""
    forwarded = f"203.0.113.66, {client_address}"
    return attempt(username, password, address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        make_user(Role.RESEARCHER, username=f"colleague{n}")
        via_proxy(f"colleague{n}", HOME)
    make_user(Role.RESEARCHER, username="next-door")

    same_office = via_proxy("next-door", HOME, PASSWORD)
    elsewhere = via_proxy("next-door", ELSEWHERE, PASSWORD)

    assert same_office.status_code == 429
    assert elsewhere.status_code == 302 and elsewhere.signed_in
    failures = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED)
    assert set(failures.values_list("address", flat=True)) == {HOME}


def test_with_no_trusted_proxy_a_forwarded_for_header_is_ignored(make_user, settings):
    """Otherwise a guesser would send a new X-Forwarded-For with every try."""
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        make_user(Role.RESEARCHER, username=f"colleague{n}")
        attempt(f"colleague{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 100}")
    make_user(Role.RESEARCHER, username="next-door")

    assert attempt("next-door", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429
    failures = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED)
    assert set(failures.values_list("address", flat=True)) == {HOME}


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "unknown"])
def test_a_missing_or_garbled_forwarded_for_falls_back_to_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1

    attempt("anyone", address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    assert AccountEvent.objects.get(kind=Kind.SIGN_IN_FAILED).address == PROXY


def test_the_lockout_page_is_the_same_for_a_real_account_and_a_made_up_name(researcher):
    fail("rosa", 5, address=HOME)
    fail("nobody-by-this-name", 5, address=ELSEWHERE)

    real_wrong = attempt("rosa", address=HOME)
    real_right = attempt("rosa", PASSWORD, address=HOME)
    made_up = attempt("nobody-by-this-name", address=ELSEWHERE)

    assert real_wrong.status_code == real_right.status_code == made_up.status_code == 429
    assert page_text(real_wrong) == page_text(real_right)
    assert page_text(real_wrong).replace("rosa", "NAME") == page_text(made_up).replace(
        "nobody-by-this-name", "NAME"
    )


def test_the_failures_before_it_keep_the_one_message_for_everything(researcher):
    wrong_password = attempt("rosa")
    nobody = attempt("nobody-by-this-name")

    assert wrong_password.status_code == nobody.status_code == 200
    assert page_text(wrong_password).replace("rosa", "NAME") == page_text(nobody).replace(
        "nobody-by-this-name", "NAME"
    )


@pytest.mark.any_instant
def test_the_lockout_ends_after_15_minutes(researcher):
    fail("rosa", 5)
    assert attempt("rosa", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=15, seconds=1)
    )

    assert attempt("rosa", PASSWORD).signed_in


@pytest.mark.any_instant
def test_tries_during_the_lockout_do_not_lengthen_it(researcher):
    fail("rosa", 5)
    locked_at = AccessAttempt.objects.get().attempt_time

    fail("rosa", 3)

    assert AccessAttempt.objects.get().attempt_time == locked_at
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_the_lockout_is_logged_once_with_the_name_and_address(researcher):
    fail("rosa", 7)

    lockouts = AccountEvent.objects.filter(kind=Kind.LOCKED_OUT)
    assert list(lockouts.values_list("username", "user", "address")) == [("rosa", None, HOME)]
    assert lockouts.get().detail == (
        "5 failed attempts for this username or from this address: locked for 15 minutes"
    )
    # Every try is in the log still, the refused ones included.
    assert AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).count() == 7


def test_a_very_long_name_tried_is_counted_not_a_crash():
    response = attempt("x" * 5000)

    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "x" * 150


def test_code_that_authenticates_without_a_request_is_not_counted(researcher):
    from django.contrib.auth import authenticate

    assert authenticate(username="rosa", password=PASSWORD) == researcher
    assert not AccessAttempt.objects.exists()


def test_an_administrator_sees_the_lockout_and_lifts_it(client, researcher, make_user):
    fail("rosa", 5)
    client.force_login(make_user(Role.ADMINISTRATOR))

    listed = client.get(reverse("admin:axes_accessattempt_changelist"))
    client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [AccessAttempt.objects.get().pk],
            "post": "yes",
        },
    )

    assert listed.status_code == 200 and "rosa" in listed.content.decode()
    assert not AccessAttempt.objects.exists()
    assert attempt("rosa", PASSWORD).signed_in
