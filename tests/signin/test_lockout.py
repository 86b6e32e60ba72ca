"""Lockout (agencies.lockout; issue 21, item 1): 5 failed sign-ins for a username from one
address lock that username at that address for 15 minutes; past 10 failures for a username
from anywhere, tries from addresses its owner does not use are slowed, never locked. Every
refusal is 429 with Retry-After; nobody guessing from elsewhere locks the person out."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from agencies import lockout
from agencies.lockout import message
from agencies.models import Role
from audit.models import AccountEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
HOME = "192.0.2.20"
ELSEWHERE = "198.51.100.7"
WRONG = "not-the-password"
COOLOFF = 15 * 60


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


def retry_after(response) -> int:
    """The 429's Retry-After, which must be there and be whole seconds, at least 1."""
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert seconds >= 1
    return seconds


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def police(make_user):
    return make_user(Role.PRACTITIONER, username="police")


@pytest.fixture
def stopped_clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_four_failures_do_not_lock_anyone_out(researcher):
    fail("rosa", 4)

    response = attempt("rosa", PASSWORD)

    assert response.status_code == 302
    assert response.signed_in


def test_five_failures_lock_the_username_at_that_address_even_with_the_right_password(
    researcher,
):
    fail("rosa", 5)

    response = attempt("rosa", PASSWORD)

    assert retry_after(response) == COOLOFF
    assert not response.signed_in
    assert message() in response.content.decode()
    assert "Try again in 15 minutes" in message()


def test_five_wrong_passwords_from_elsewhere_leave_the_person_signing_in_as_usual(police):
    """The attacker-from-elsewhere case: guessing `police` from A locks only A."""
    fail("police", 5, address=ELSEWHERE)
    locked_there = attempt("police", PASSWORD, address=ELSEWHERE)

    at_their_desk = attempt("police", PASSWORD, address=HOME)

    assert retry_after(locked_there) == COOLOFF
    assert at_their_desk.status_code == 302 and at_their_desk.signed_in


def test_nine_wrong_passwords_from_elsewhere_neither_lock_nor_slow_the_person(police):
    fail("police", 5, address=ELSEWHERE)
    fail("police", 4, address="198.51.100.8")

    assert attempt("police", PASSWORD, address="203.0.113.1").signed_in


def test_failures_for_other_names_from_one_address_lock_no_one_else_there(make_user):
    """One colleague forgetting a password does not shut the office out."""
    for n in range(5):
        make_user(Role.RESEARCHER, username=f"colleague{n}")
        fail(f"colleague{n}", 1)
    make_user(Role.RESEARCHER, username="next-door")

    assert attempt("next-door", PASSWORD).signed_in


PROXY = "10.0.0.2"


def via_proxy(username: str, client_address: str, password: str = WRONG):
    """A sign-in through a load balancer at PROXY; the client may send its own
    X-Forwarded-For, which the proxy appends to."""
    forwarded = f"203.0.113.66, {client_address}"
    return attempt(username, password, address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(researcher, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        via_proxy("rosa", HOME)

    same_client = via_proxy("rosa", HOME, PASSWORD)
    other_client = via_proxy("rosa", ELSEWHERE, PASSWORD)

    assert same_client.status_code == 429
    assert other_client.status_code == 302 and other_client.signed_in
    failures = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED)
    assert set(failures.values_list("address", flat=True)) == {HOME}


def test_with_no_trusted_proxy_a_forwarded_for_header_is_ignored(researcher, settings):
    """Otherwise a guesser would send a new X-Forwarded-For with every try."""
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        attempt("rosa", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 100}")

    assert attempt("rosa", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429
    failures = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED)
    assert set(failures.values_list("address", flat=True)) == {HOME}


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "unknown"])
def test_a_missing_or_garbled_forwarded_for_falls_back_to_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1

    attempt("anyone", address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    assert AccountEvent.objects.get(kind=Kind.SIGN_IN_FAILED).address == PROXY


def test_an_ipv6_client_is_counted_by_its_64(researcher):
    """Whoever holds one address of a /64 holds them all: a new one each try gains nothing."""
    for n in range(5):
        attempt("rosa", address=f"2001:db8:1:2::{n + 1}")

    assert attempt("rosa", PASSWORD, address="2001:db8:1:2::99").status_code == 429
    assert attempt("rosa", PASSWORD, address="2001:db8:1:3::1").signed_in


def test_the_lockout_page_is_the_same_for_a_real_account_and_a_made_up_name(researcher):
    fail("rosa", 5, address=HOME)
    fail("nobody-by-this-name", 5, address=ELSEWHERE)

    real_wrong = attempt("rosa", address=HOME)
    real_right = attempt("rosa", PASSWORD, address=HOME)
    made_up = attempt("nobody-by-this-name", address=ELSEWHERE)

    assert real_wrong.status_code == real_right.status_code == made_up.status_code == 429
    assert real_wrong["Retry-After"] == real_right["Retry-After"] == made_up["Retry-After"]
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
def test_the_lockout_ends_after_15_minutes(researcher, stopped_clock):
    fail("rosa", 5)
    assert retry_after(attempt("rosa", PASSWORD)) == COOLOFF

    stopped_clock.shift(timedelta(minutes=15, seconds=1))

    assert attempt("rosa", PASSWORD).signed_in


@pytest.mark.any_instant
def test_tries_during_the_lockout_do_not_lengthen_it(researcher, stopped_clock):
    fail("rosa", 5)
    stopped_clock.shift(timedelta(minutes=10))

    fail("rosa", 3)
    later = attempt("rosa", PASSWORD)
    stopped_clock.shift(timedelta(minutes=5, seconds=1))

    assert retry_after(later) == 5 * 60
    assert "Try again in 5 minutes" in later.content.decode()
    assert attempt("rosa", PASSWORD).signed_in


def test_the_lockout_is_logged_once_as_it_starts_and_each_try_during_it_as_refused(researcher):
    fail("rosa", 7)

    started = AccountEvent.objects.filter(kind=Kind.LOCKED_OUT, detail__contains="locked for")
    assert list(started.values_list("username", "user", "address")) == [("rosa", None, HOME)]
    assert started.get().detail == (
        "5 failed attempts for this username from this address: locked for 15 minutes"
    )
    # Every try is in the log still: the five wrong passwords, then two refused unchecked.
    assert AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).count() == 5
    refused = AccountEvent.objects.filter(kind=Kind.LOCKED_OUT).exclude(pk=started.get().pk)
    assert [event.detail for event in refused] == [
        "Refused unchecked, locked out: 900 s to wait"
    ] * 2


def test_the_right_password_during_the_lockout_is_logged_as_locked_out_not_wrong(researcher):
    fail("rosa", 5)
    before = AccountEvent.objects.count()

    attempt("rosa", PASSWORD)

    (event,) = AccountEvent.objects.order_by("id")[before:]
    assert (event.kind, event.username, event.address) == (Kind.LOCKED_OUT, "rosa", HOME)
    assert event.detail.startswith("Refused unchecked, locked out")
    assert not AccountEvent.objects.filter(kind=Kind.SIGNED_IN).exists()


def test_a_very_long_name_tried_is_counted_not_a_crash():
    answers = [attempt("x" * 5000).status_code for _ in range(6)]

    # The fifth failure starts the lockout, and says so.
    assert answers == [200, 200, 200, 200, 429, 429]
    assert set(AccountEvent.objects.values_list("username", flat=True)) == {"x" * 150}


def test_code_that_authenticates_without_a_request_is_not_counted(researcher):
    for _ in range(5):
        assert authenticate(username="rosa", password=WRONG) is None

    assert authenticate(username="rosa", password=PASSWORD) == researcher
    assert attempt("rosa", PASSWORD).signed_in


def test_a_successful_sign_in_forgives_that_addresss_failures(researcher):
    fail("rosa", 4)
    assert attempt("rosa", PASSWORD).signed_in

    fail("rosa", 4)

    assert attempt("rosa", PASSWORD).signed_in


# The slow-down per username, across addresses.


def guess_from_many_addresses(username: str, times: int, first: int = 1) -> None:
    """One wrong password each from `times` addresses, none of them locked."""
    for n in range(first, first + times):
        fail(username, 1, address=f"203.0.113.{n}")


def test_past_ten_failures_from_anywhere_tries_from_new_addresses_are_slowed(police, stopped_clock):
    guess_from_many_addresses("police", 10)

    # The first try after the tenth failure goes on, and is counted; the next must wait.
    taken = attempt("police", address="203.0.113.50")
    slowed = attempt("police", PASSWORD, address="203.0.113.51")

    assert taken.status_code == 200
    assert retry_after(slowed) == 1
    assert not slowed.signed_in
    assert "Wait 1 second, then try again" in slowed.content.decode()
    # Slowed, not locked: its turn comes, and the right password signs in.
    stopped_clock.shift(timedelta(seconds=3))
    assert attempt("police", PASSWORD, address="203.0.113.51").signed_in


def test_the_wait_doubles_with_each_further_failure_up_to_a_minute(police, stopped_clock):
    guess_from_many_addresses("police", 10)
    waits = []
    for n in range(9):
        attempt("police", address=f"198.51.100.{n + 1}")  # its turn: counted
        waits.append(retry_after(attempt("police", address=f"198.51.100.{n + 100}")))
        stopped_clock.shift(timedelta(seconds=waits[-1]))

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_slowed_tries_count_nothing(police, stopped_clock):
    guess_from_many_addresses("police", 10)
    attempt("police", address="203.0.113.50")

    for n in range(20):
        assert attempt("police", address=f"198.51.100.{n + 1}").status_code == 429
    stopped_clock.shift(timedelta(seconds=2))
    attempt("police", address="203.0.113.52")

    # 12 counted: the last turn was taken at 11, for 2 ** (11 - 10) seconds; had the slowed
    # tries counted, it would have been the minute.
    assert retry_after(attempt("police", address="203.0.113.53")) == 2
    assert AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).count() == 12


def test_the_person_at_an_address_they_signed_in_from_is_never_slowed(police):
    """Misuse: however many guess the name from elsewhere, its owner signs in at their desk."""
    assert attempt("police", PASSWORD, address=HOME).signed_in
    guess_from_many_addresses("police", 40)

    at_their_desk = [attempt("police", PASSWORD, address=HOME) for _ in range(3)]

    assert all(response.signed_in for response in at_their_desk)


def test_the_slow_down_is_the_same_for_a_made_up_name(stopped_clock):
    guess_from_many_addresses("nobody-by-this-name", 11)

    assert retry_after(attempt("nobody-by-this-name", address="203.0.113.99")) >= 1


# Every worker sees the same counts.


@pytest.mark.skipif(not settings.REDIS_URL, reason="the counts are shared through Redis")
def test_counts_are_shared_by_workers_with_their_own_connections(researcher, monkeypatch):
    """Two cache clients with connections of their own, as two gunicorn workers have: failures
    counted through either lock the name at that address for both."""
    worker_a = caches.create_connection(lockout.CACHE)
    worker_b = caches.create_connection(lockout.CACHE)
    assert worker_a is not worker_b
    turns = iter([worker_a, worker_b] * 20)
    monkeypatch.setattr(lockout, "_store", lambda: next(turns))

    fail("rosa", 5)  # counted through a, b, a, b, a

    through_a = attempt("rosa", PASSWORD)
    through_b = attempt("rosa", PASSWORD)
    assert through_a.status_code == through_b.status_code == 429
    keys = lockout._keys("rosa", through_a.wsgi_request)
    assert worker_a.get(keys["pair_lock"]) == worker_b.get(keys["pair_lock"]) is not None


def test_parallel_failures_are_each_counted_and_start_one_lockout(monkeypatch):
    """Eight workers failing at once for one name at one address: each failure gets a number of
    its own (Redis INCR), so the lock starts exactly once, and every failure is counted."""
    started = []
    monkeypatch.setattr(lockout, "announce", lambda *args, **kwargs: started.append(kwargs))
    requests = [RequestFactory().post("/sign-in/", REMOTE_ADDR=HOME) for _ in range(8)]
    go = threading.Barrier(len(requests))

    def fail_once(request):
        go.wait()
        return lockout.record_failure(request, "rosa")

    with ThreadPoolExecutor(len(requests)) as pool:
        refusals = list(pool.map(fail_once, requests))

    # The fifth starts it; the sixth to the eighth are refused too, unless they were counted
    # after the lock began (its count starts again, harmlessly: the lock holds).
    assert 1 <= sum(refusal is not None for refusal in refusals) <= 4
    assert len(started) == 1
    assert lockout.check(requests[0], "rosa") is not None
    keys = lockout._keys("rosa", requests[0])
    assert lockout._store().get(keys["name_failures"]) == 8
