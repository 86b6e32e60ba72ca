"""Lockout after failed sign-ins (django-axes; settings AXES_*).

Five failures for one username, or from one address, lock that username or address out for 15
minutes. A username that belongs to nobody is counted and locked the same way, and a locked-out
sign-in gets the same page whether its password was right or not, so the page says nothing
about whether an account exists.
"""

from typing import cast

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import logout
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.limits import is_api

from .account_events import announce
from .forms import SignInForm
from .models import AccountEventKind, User

LOCKED_OUT = (
    "There have been too many failed attempts to sign in with this username or from this "
    "computer. Wait {minutes} minutes, then try again. If you have forgotten your password, "
    "ask your hub administrator."
)


def username_tried(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """settings AXES_USERNAME_CALLABLE: the name tried, cut to the longest a username can be,
    since axes keeps it in a column of 255 and a longer one would fail the sign-in page."""
    field = User.USERNAME_FIELD
    tried = credentials.get(field) if credentials else request.POST.get(field)
    max_length = cast(models.Field, User._meta.get_field(field)).max_length
    return None if tried is None else str(tried)[:max_length]


def _minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def message() -> str:
    return LOCKED_OUT.format(minutes=_minutes())


class SignInLockout(AxesStandaloneBackend):
    """axes' check before any password is tried. Code that authenticates without a request
    (a management command, a test) is not a guess from the network, and axes cannot count it."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def locked_out_page(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """settings AXES_LOCKOUT_CALLABLE: the sign-in page with the lockout message, 429; for the
    API the message as JSON. Someone signed in got here by wrong passwords at release
    (agencies.step_up): their session ends."""
    if request.user.is_authenticated and request.session.session_key:
        # Django's requests take attributes as they go; audit.account_log reads it.
        request.signed_out_because = "locked out after wrong passwords at release"  # type: ignore[attr-defined]
        logout(request)
    if is_api(request):
        return JsonResponse({"detail": message()}, status=settings.AXES_HTTP_RESPONSE_CODE)
    return render(
        request,
        "registration/login.html",
        {"form": SignInForm(request), "locked_out": message(), "next": request.GET.get("next")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def locked_out(sender, request: HttpRequest, username: str | None, **kwargs) -> None:
    """axes' user_locked_out signal: logged when the lockout starts, not again for each
    attempt refused during it (axes counts only the failure that started it)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    announce(
        AccountEventKind.LOCKED_OUT,
        request=request,
        username=username or "",
        detail=f"{failures} failed attempts for this username or "
        f"from this address: locked for {_minutes()} minutes",
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="account-log-locked-out")
