"""The API's rate limits hold (issue 21, item 4): counted in Redis, shared by every worker,
exact under parallel calls, and applied to calls refused for want of credentials.

Each test counts under a key prefix of its own (user ids and the suite's instant recur across
runs and xdist workers) and stops the clock inside one window, so a minute's edge never falls
in the middle of a test: the window is the clock's, not the wall's."""

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from django.db import connections
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import Role
from core import throttling
from tests.factories import api_key_for
from tests.two_factor import password_only_login

OUTCOMES = reverse("api:outcome-list")
# 30 s into a minute: the window has 30 s left, which each 429 says in Retry-After.
INSTANT = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)
NEXT_WINDOW = datetime(2026, 3, 4, 12, 1, 0, tzinfo=UTC)


@pytest.fixture
def rates(settings):
    """Sets the rates for the test, counting under a key prefix of its own."""
    throttle_cache = {**settings.CACHES["throttle"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = {**settings.CACHES, "throttle": throttle_cache}

    def set_rates(*, user: str = "100000/minute", anon: str = "100000/minute") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "anon": anon},
        }

    return set_rates


@pytest.fixture
def stopped_clock():
    with time_machine.travel(INSTANT, tick=False) as traveller:
        yield traveller


def token_client(key: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def in_parallel(threads: int, calls: int, call) -> list:
    """`call()` made `calls` times in each of `threads` threads, all let go at once; each
    thread has its own database connection, closed when it is done."""
    start = threading.Barrier(threads)
    answers: list = []
    lock = threading.Lock()

    def work() -> None:
        try:
            start.wait()
            for _ in range(calls):
                answer = call()
                with lock:
                    answers.append(answer)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(answers) == threads * calls
    return answers


# The limit per person


@pytest.mark.django_db(transaction=True)
def test_parallel_calls_from_one_person_pass_exactly_the_limit(
    migration_data, make_user, rates, stopped_clock
):
    rates(user="20/minute")
    key = api_key_for(make_user(Role.RESEARCHER))

    answers = in_parallel(8, 6, lambda: token_client(key).get(OUTCOMES))

    assert Counter(answer.status_code for answer in answers) == {200: 20, 429: 28}
    refused = [answer for answer in answers if answer.status_code == 429]
    assert {answer["Retry-After"] for answer in refused} == {"30"}
    assert refused[0].json() == {
        "detail": "Request was throttled. Expected available in 30 seconds."
    }


@pytest.mark.django_db
def test_each_person_has_their_own_limit_and_it_comes_back_in_the_next_window(
    make_user, rates, stopped_clock
):
    rates(user="3/minute")
    rosa, mina = (token_client(api_key_for(make_user(Role.RESEARCHER))) for _ in range(2))

    allowed = [rosa.get(OUTCOMES).status_code for _ in range(3)]
    refused = rosa.get(OUTCOMES)
    someone_else = mina.get(OUTCOMES)
    stopped_clock.move_to(NEXT_WINDOW)
    next_minute = rosa.get(OUTCOMES)

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert someone_else.status_code == 200
    assert next_minute.status_code == 200


@pytest.mark.django_db
def test_the_counts_are_kept_in_redis_for_every_worker_to_share(
    make_user, rates, settings, stopped_clock
):
    rates()
    person = make_user(Role.RESEARCHER)
    token_client(api_key_for(person)).get(OUTCOMES)
    window = int(INSTANT.timestamp() // 60)

    counts = caches[throttling.CACHE]
    key = counts.make_key(f"throttle:user:{person.pk}:{window}")
    assert settings.CACHES["throttle"]["BACKEND"] == "mash.cache.SoftRedisCache"
    assert settings.CACHES["throttle"]["LOCATION"] == settings.REDIS_URL
    assert counts.get(f"throttle:user:{person.pk}:{window}") == 1
    # It outlives its window, and not by much.
    assert 60 < counts._cache.get_client(key).ttl(key) <= 60 + throttling.GRACE_SECONDS


# The limit per address, for calls without valid credentials


@pytest.mark.django_db
def test_parallel_calls_with_wrong_tokens_are_refused_401_until_the_limit_then_429(
    rates, stopped_clock
):
    rates(anon="20/minute")

    answers = in_parallel(8, 5, lambda: token_client("not-a-token").get(OUTCOMES))

    assert Counter(answer.status_code for answer in answers) == {401: 20, 429: 20}
    refused = [answer for answer in answers if answer.status_code == 429]
    assert {answer["Retry-After"] for answer in refused} == {"30"}
    assert refused[0].json() == {
        "detail": "Request was throttled. Expected available in 30 seconds."
    }
    assert all(answer["X-Request-ID"] for answer in refused)


@pytest.mark.django_db
def test_past_the_limit_a_call_without_credentials_is_refused_before_any_view_runs(
    rates, stopped_clock, django_assert_num_queries
):
    rates(anon="2/minute")
    anonymous = APIClient()

    first = [anonymous.get(OUTCOMES).status_code for _ in range(2)]
    with django_assert_num_queries(0):
        refused = anonymous.get(OUTCOMES)

    assert first == [401, 401]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"


@pytest.mark.django_db
def test_a_session_short_of_its_one_time_password_counts_against_the_address_too(
    make_user, rates, stopped_clock
):
    rates(anon="1/minute")
    client = APIClient()
    password_only_login(client, make_user(Role.RESEARCHER))

    codes = [client.get(OUTCOMES).status_code for _ in range(2)]

    assert codes == [401, 429]


@pytest.mark.django_db
def test_valid_credentials_still_pass_from_an_address_past_its_anonymous_limit(
    make_user, rates, stopped_clock
):
    """An office behind one address is not shut out by one script with a revoked token."""
    rates(anon="2/minute")
    for _ in range(3):
        token_client("revoked").get(OUTCOMES)
    colleague = token_client(api_key_for(make_user(Role.RESEARCHER)))

    assert token_client("revoked").get(OUTCOMES).status_code == 429
    assert colleague.get(OUTCOMES).status_code == 200


@pytest.mark.django_db
def test_the_anonymous_limit_comes_back_in_the_next_window(rates, stopped_clock):
    rates(anon="1/minute")
    wrong = token_client("wrong")

    codes = [wrong.get(OUTCOMES).status_code for _ in range(2)]
    stopped_clock.move_to(NEXT_WINDOW)

    assert codes == [401, 429]
    assert wrong.get(OUTCOMES).status_code == 401


@pytest.mark.django_db
def test_pages_are_not_counted_against_the_api_limit(client, rates, stopped_clock):
    rates(anon="1/minute")

    codes = [client.get(reverse("login")).status_code for _ in range(3)]

    assert codes == [200, 200, 200]


@pytest.mark.urls("tests.security.urls_with_open_routes")
@pytest.mark.django_db
def test_an_endpoint_open_to_anyone_would_be_throttled_per_address(rates, stopped_clock):
    """No endpoint of ours answers without credentials; one that did would be throttled."""
    rates(anon="2/minute")
    client = APIClient()

    codes = [client.get(reverse("forgotten-endpoint")).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_make_a_new_address_without_a_proxy(rates, stopped_clock):
    rates(anon="2/minute")
    client = token_client("wrong")

    codes = [
        client.get(OUTCOMES, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in (1, 2, 3)
    ]

    assert codes == [401, 401, 429]


@pytest.mark.django_db
def test_behind_the_proxy_each_client_address_is_counted_on_its_own(rates, settings, stopped_clock):
    rates(anon="1/minute")
    settings.TRUSTED_PROXY_COUNT = 1
    client = token_client("wrong")

    def call(forwarded: str) -> int:
        return client.get(OUTCOMES, HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The proxy appends the address that called it; what is left of it is the client's to forge.
    assert [call("192.0.2.1"), call("192.0.2.1")] == [401, 429]
    assert [call("192.0.2.2"), call("192.0.2.1, 192.0.2.2")] == [401, 429]


def test_an_ipv6_client_is_counted_by_its_64():
    def address(remote: str) -> str | None:
        return throttling.address_of(RequestFactory().get("/api/", REMOTE_ADDR=remote))

    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address("192.0.2.7") == "192.0.2.7"


# The arithmetic


def test_rates_are_read_as_drf_writes_them():
    assert throttling.parse_rate("600/minute") == throttling.Rate(calls=600, seconds=60)
    assert throttling.parse_rate("20/second") == throttling.Rate(calls=20, seconds=1)
    assert throttling.parse_rate("1000/hour") == throttling.Rate(calls=1000, seconds=3600)
    assert throttling.parse_rate("5000/day") == throttling.Rate(calls=5000, seconds=86400)


def test_retry_after_is_the_whole_seconds_left_in_the_window(rates):
    rates()
    rate = throttling.Rate(calls=0, seconds=60)
    at = INSTANT.timestamp()

    assert throttling.count_call("t", "a", rate, at).retry_after == 30
    assert throttling.count_call("t", "a", rate, at + 29.2).retry_after == 1
    assert throttling.count_call("t", "a", rate, at + 29.9).retry_after == 1
    assert throttling.count_call("t", "a", rate, at - 30).retry_after == 60
