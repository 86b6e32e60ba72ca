"""The API's rate limits (docs/security.md "Rate limits"): counts that every web worker shares,
that hold under parallel calls, and that apply to calls refused for want of credentials.

DRF's own throttles keep a list of call times in the cache, read it, and write it back: two
workers answering at once both read n and both write n + 1, so 640 calls from 8 threads
passed a limit of 600. Here each call takes the next number from one counter per person (or
address) and window, with the cache's atomic increment (Redis `INCR`), so exactly the limit
passes in a window however many workers answer at once. Windows are fixed (each minute from
:00 for a rate per minute): a client may spend its allowance at the end of one window and
again at the start of the next.

Calls without valid credentials are counted per address. DRF authenticates before it
throttles, so a call with no credentials or wrong ones was answered 401 and never counted:
`AnonymousApiThrottle`, a middleware for /api/, counts each such refusal and, past the limit,
answers 429 instead; a call with no credentials at all is then refused before any view runs.
Valid credentials from that address still pass, each person within their own limit: an office
behind one address is not shut out by one script with a revoked token.
"""

import ipaddress
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .limits import is_api
from .request_context import client_address

# The cache the counts are kept in (settings CACHES): Redis whenever REDIS_URL is set, so every
# worker of every web container counts the same calls.
CACHE = "throttle"
PERSON, ADDRESS = "user", "anon"  # the scopes of settings REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A counter outlives its window by this much, so that no call still counting in the window's
# last moment finds it gone (Django's Redis `incr` checks the key exists, then increments).
GRACE_SECONDS = 5


@dataclass(frozen=True)
class Rate:
    calls: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """DRF's notation, `600/minute`, `20/second`, `1000/hour`, `5000/day`: the period's first
    letter is what counts."""
    calls, period = text.split("/")
    return Rate(calls=int(calls), seconds=SECONDS[period.strip()[0].lower()])


def rate_for(scope: str) -> Rate:
    """The rate in settings REST_FRAMEWORK, read when asked, so that a test may change it."""
    return parse_rate(str(api_settings.DEFAULT_THROTTLE_RATES[scope]))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # whole seconds until the window ends, at least 1


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """The window `now` falls in, and the whole seconds left in it."""
    window = int(now // rate.seconds)
    return window, max(1, math.ceil((window + 1) * rate.seconds - now))


def _key(scope: str, ident: str, window: int) -> str:
    return f"throttle:{scope}:{ident}:{window}"


def _next_number(cache: BaseCache, key: str, *, timeout: int) -> int | None:
    """The next number from the counter `key`, which starts at 1; None if the cache cannot keep
    it (Redis down: mash.cache.SoftRedisCache answers as if the key were missing)."""
    for _ in range(2):
        try:
            return cache.incr(key)  # atomic: parallel calls each get a number of their own
        except ValueError:
            pass  # not there yet
        if cache.add(key, 1, timeout=timeout):  # SET NX: one call makes it, the others incr
            return 1
    return None


def count_call(scope: str, ident: str, rate: Rate, now: float) -> Verdict:
    """Counts one call of `ident` at `now` (seconds since the epoch, passed in so that tests
    choose the window). Calls are let through when the cache cannot count them: a page or an
    API answer is worth more than the count."""
    window, retry_after = _window(rate, now)
    number = _next_number(
        caches[CACHE], _key(scope, ident, window), timeout=rate.seconds + GRACE_SECONDS
    )
    return Verdict(allowed=number is None or number <= rate.calls, retry_after=retry_after)


def spent(scope: str, ident: str, rate: Rate, now: float) -> Verdict | None:
    """A refusal if `ident` has already made all the calls its window allows; counts nothing."""
    window, retry_after = _window(rate, now)
    number = caches[CACHE].get(_key(scope, ident, window))
    if number is not None and number >= rate.calls:
        return Verdict(allowed=False, retry_after=retry_after)
    return None


def address_of(request: HttpRequest) -> str | None:
    """Whom a call without credentials is counted against: the client's address (behind
    `TRUSTED_PROXY_COUNT` proxies, as X-Forwarded-For says), or for IPv6 its /64, which one
    household or office usually holds whole."""
    address = client_address(request)
    if address is None:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class _WindowThrottle(BaseThrottle, ABC):
    """Calls counted in a shared window by `ident`: who or where a call comes from (None:
    not counted by this throttle)."""

    scope: str

    @abstractmethod
    def ident(self, request: Request) -> str | None: ...

    def allow_request(self, request: Request, view) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        self.verdict = count_call(self.scope, ident, rate_for(self.scope), time.time())
        return self.verdict.allowed

    def wait(self) -> float | None:
        """Sent as `Retry-After` with the 429."""
        return self.verdict.retry_after


class PersonRateThrottle(_WindowThrottle):
    """`API_USER_RATE` calls per signed-in person, whichever worker answers them."""

    scope = PERSON

    def ident(self, request: Request) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class AddressRateThrottle(_WindowThrottle):
    """`API_ANON_RATE` calls without credentials per address, for an endpoint that answers them
    (none of ours does); calls refused for want of them are counted by AnonymousApiThrottle."""

    scope = ADDRESS

    def ident(self, request: Request) -> str | None:
        return None if request.user.is_authenticated else address_of(request._request)


def too_many(retry_after: int) -> JsonResponse:
    """The API's 429, as DRF words and heads its own."""
    response = JsonResponse({"detail": str(Throttled(wait=retry_after).detail)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _carries_credentials(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


class AnonymousApiThrottle:
    """The anonymous limit for calls under /api/ that DRF refuses before its throttles run.

    A call answered 401 (no credentials, a wrong or revoked token, a session short of its
    one-time password) counts against its address; past `API_ANON_RATE` it is answered 429 with
    `Retry-After` instead. While an address is past it, a call with no credentials at all is
    refused at once, before any view or the database is asked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = address_of(request) if is_api(request) else None
        if address is None:
            return self.get_response(request)
        rate = rate_for(ADDRESS)
        if not _carries_credentials(request):
            refusal = spent(ADDRESS, address, rate, time.time())
            if refusal is not None:
                return too_many(refusal.retry_after)
        response = self.get_response(request)
        if response.status_code == 401:
            verdict = count_call(ADDRESS, address, rate, time.time())
            if not verdict.allowed:
                return too_many(verdict.retry_after)
        return response
