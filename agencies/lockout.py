"""Lockout and slow-down after failed sign-ins (docs/security.md "Lockout").

Wrong passwords are counted twice, in the shared cache (settings CACHES["throttle"], Redis
whenever REDIS_URL is set), so that every worker of every web container sees the same counts:

- **per username and address together**: `LOCKOUT_FAILURE_LIMIT` (5) failures lock that
  username *at that address* for `LOCKOUT_COOLOFF` (15 minutes). Someone guessing a name from
  elsewhere locks only themselves out; its owner signs in from their own desk as usual.
- **per username, across addresses**: past `LOCKOUT_USERNAME_FAILURE_LIMIT` (10) failures in a
  row, tries for that name from an address its owner has not signed in from lately are taken
  one at a time, with a wait between that doubles with each further failure (1, 2, 4 ... up to
  `LOCKOUT_USERNAME_MAX_WAIT_SECONDS`). Guessing from many addresses slows to a crawl, nobody is
  locked out for long by it, and the addresses the person uses are not slowed at all.

A try refused by either is answered 429 with `Retry-After` (the whole seconds to wait), is not
checked against the password and counts nothing. The lockout is the same for a username that
belongs to nobody, and its message is the same whatever was typed, so it tells nobody whether
an account exists. Each count is taken with the cache's atomic increment (Redis `INCR`), so
parallel tries cannot slip past a limit; with Redis down nothing is counted and sign-in goes on
(mash.cache.SoftRedisCache), as the API's rate limits do (core.throttling).
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import BaseCache, caches
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.limits import is_api
from core.throttling import CACHE, address_of

from .account_events import announce
from .forms import SignInForm
from .models import AccountEventKind, User

TOO_MANY_REQUESTS = 429
# Tests give each run keys of its own; the counts of one must not lock out another.
KEY_PREFIX = "lockout"

LOCKED_OUT = (
    "There have been too many failed attempts to sign in with this username from this "
    "computer. Try again in {wait}. If you have forgotten your password, ask your hub "
    "administrator."
)
SLOWED = (
    "There have been many failed attempts to sign in with this username. Wait {wait}, then "
    "try again."
)


@dataclass(frozen=True)
class Refusal:
    """A try turned away: by the lock on this username at this address, or by the slow-down
    on this username. `retry_after` is the whole seconds to wait, at least 1."""

    retry_after: int
    slowed: bool = False

    @property
    def message(self) -> str:
        return (SLOWED if self.slowed else LOCKED_OUT).format(wait=_in_words(self.retry_after))


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _cooloff() -> int:
    return max(1, int(settings.LOCKOUT_COOLOFF.total_seconds()))


def message() -> str:
    """The lockout's message as it starts."""
    return Refusal(retry_after=_cooloff()).message


def username_tried(request: HttpRequest, credentials: dict | None = None) -> str:
    """The name tried, cut to the longest a username can be: what is counted, and logged."""
    field = User.USERNAME_FIELD
    tried = credentials.get(field) if credentials else request.POST.get(field)
    max_length = cast(models.Field, User._meta.get_field(field)).max_length
    return "" if tried is None else str(tried)[:max_length]


# The counts. Usernames are hashed into the keys: any text may be typed as one.


def _store() -> BaseCache:
    return caches[CACHE]


def _name(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()[:32]


def _address(request: HttpRequest) -> str:
    """The client's address (behind trusted proxies, as X-Forwarded-For says), an IPv6 client's
    /64: whoever holds one /64 holds them all."""
    return address_of(request) or "unknown"


def _keys(username: str, request: HttpRequest) -> dict[str, str]:
    name, address = _name(username), _address(request)
    return {
        "pair_failures": f"{KEY_PREFIX}:failures:{name}:{address}",
        "pair_lock": f"{KEY_PREFIX}:locked:{name}:{address}",
        "name_failures": f"{KEY_PREFIX}:failures:{name}",
        "name_turn": f"{KEY_PREFIX}:turn:{name}",
        "known": f"{KEY_PREFIX}:known:{name}:{address}",
    }


def _count(store: BaseCache, key: str, *, timeout: int) -> int | None:
    """One more failure under `key`: the count after it, which lives `timeout` seconds from
    the latest failure; None if the cache cannot keep it."""
    for _ in range(2):
        try:
            number = store.incr(key)  # atomic: parallel failures each get a number of their own
        except ValueError:
            pass  # not there yet
        else:
            store.touch(key, timeout)
            return number
        if store.add(key, 1, timeout=timeout):  # SET NX: one failure makes it, the others incr
            return 1
    return None


def _wait(until: float | None, now: float) -> int | None:
    """Whole seconds from `now` to `until`, or None if it has passed. The time is kept in the
    value as well as the key's expiry, so a clock moved on (in a test) ends it too."""
    if until is None or until <= now:
        return None
    return max(1, math.ceil(until - now))


def check(request: HttpRequest, username: str) -> Refusal | None:
    """Whether this try for `username` from this request's address may go on to its password."""
    store, keys, now = _store(), _keys(username, request), time.time()
    locked = _wait(store.get(keys["pair_lock"]), now)
    if locked is not None:
        return Refusal(retry_after=locked)
    limit = settings.LOCKOUT_USERNAME_FAILURE_LIMIT
    failures = store.get(keys["name_failures"]) or 0
    if failures < limit or store.get(keys["known"]):
        return None
    delay = min(2 ** (failures - limit), settings.LOCKOUT_USERNAME_MAX_WAIT_SECONDS)
    # One try per wait: whichever takes the turn goes on; the others are told when the next is.
    if store.add(keys["name_turn"], now + delay, timeout=math.ceil(delay)):
        return None
    waiting = _wait(store.get(keys["name_turn"]), now)
    if waiting is None:  # the turn ended between the two calls
        store.set(keys["name_turn"], now + delay, timeout=math.ceil(delay))
        return None
    return Refusal(retry_after=waiting, slowed=True)


def record_failure(request: HttpRequest, username: str) -> Refusal | None:
    """Count a wrong password for `username` from this request's address; the lockout it
    starts, if this failure is the one that reaches the limit."""
    store, keys, cooloff = _store(), _keys(username, request), _cooloff()
    _count(store, keys["name_failures"], timeout=cooloff)
    failures = _count(store, keys["pair_failures"], timeout=cooloff)
    if failures is None or failures < settings.LOCKOUT_FAILURE_LIMIT:
        return None
    # Parallel failures past the limit all lock; only the first sets the time, and says so.
    if store.add(keys["pair_lock"], time.time() + cooloff, timeout=cooloff):
        store.delete(keys["pair_failures"])
        announce(
            AccountEventKind.LOCKED_OUT,
            request=request,
            username=username,
            detail=f"{failures} failed attempts for this username from this address: "
            f"locked for {cooloff // 60} minutes",
        )
    return Refusal(retry_after=cooloff)


def record_success(request: HttpRequest, username: str, *, signed_in: bool) -> None:
    """The right password: this address's failures for the name are forgiven, and once signed
    in from it, the address is one of the person's own, which the slow-down lets through."""
    store, keys = _store(), _keys(username, request)
    store.delete(keys["pair_failures"])
    if signed_in:
        store.set(keys["known"], 1, timeout=settings.LOCKOUT_KNOWN_ADDRESS_DAYS * 86400)


# How a refusal reaches the answer: the request carries it, and LockoutMiddleware answers it.


def refused_unchecked(request: HttpRequest | None) -> Refusal | None:
    """The refusal of a try whose password was never checked, for the account log."""
    return getattr(request, "lockout_refused", None)


def refusal_of(request: HttpRequest) -> Refusal | None:
    """Why this request was turned away, or locked out by its own failure."""
    return refused_unchecked(request) or getattr(request, "lockout_started", None)


class SignInLockout:
    """First in settings AUTHENTICATION_BACKENDS: a try the lockout or the slow-down refuses
    stops here, before any password is checked, and Django counts it a failure
    (`user_login_failed`), which `_failed` then does not count. Code that authenticates
    without a request (a management command, a test) is not a guess from the network.

    It has no `get_user`, so no session is ever said to be signed in by it, and no
    permission methods: it only refuses."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None or username is None:
            return
        refusal = check(request, username_tried(request, {User.USERNAME_FIELD: username}))
        if refusal is not None:
            # Django's requests take attributes as they go; the answer and the log read it.
            request.lockout_refused = refusal  # type: ignore[attr-defined]
            raise PermissionDenied(refusal.message)


def _failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is None or refused_unchecked(request) is not None:
        return
    started = record_failure(request, username_tried(request, credentials))
    if started is not None:
        request.lockout_started = started  # type: ignore[attr-defined]


def _signed_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is not None:
        record_success(request, user.get_username(), signed_in=True)


def connect() -> None:
    user_login_failed.connect(_failed, dispatch_uid="lockout-count-failure")
    user_logged_in.connect(_signed_in, dispatch_uid="lockout-signed-in")


# The answer.


def locked_out_page(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """429 with `Retry-After`: the sign-in page with the message, or for the API the message
    as JSON. Someone signed in who got here by wrong passwords at release (agencies.step_up)
    is locked out of this session too: it ends."""
    if not refusal.slowed and request.user.is_authenticated and request.session.session_key:
        # audit.account_log reads why.
        request.signed_out_because = "locked out after wrong passwords at release"  # type: ignore[attr-defined]
        logout(request)
    if is_api(request):
        response: HttpResponse = JsonResponse({"detail": refusal.message}, status=TOO_MANY_REQUESTS)
    else:
        response = render(
            request,
            "registration/login.html",
            {
                "form": SignInForm(request),
                "locked_out": refusal.message,
                "next": request.GET.get("next"),
            },
            status=TOO_MANY_REQUESTS,
        )
    response["Retry-After"] = str(refusal.retry_after)
    return response


class LockoutMiddleware:
    """Turns the answer to a refused or locked-out try into the lockout's. A release whose
    password re-check was slowed (not locked) keeps its page, with the message on the
    password, and its session: only the status and `Retry-After` change."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        refusal = refusal_of(request)
        if refusal is None:
            return response
        if refusal.slowed and request.user.is_authenticated and not is_api(request):
            response.status_code = TOO_MANY_REQUESTS
            response["Retry-After"] = str(refusal.retry_after)
            return response
        return locked_out_page(request, refusal)
