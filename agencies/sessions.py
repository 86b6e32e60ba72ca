"""How long a signed-in session lasts, and ending a person's sessions at once.

A session ends when the browser closes (its cookie has no expiry), after `SESSION_IDLE_MINUTES`
without a request, and `SESSION_MAX_HOURS` after sign-in however busy it is: a shared computer
left signed in does not stay open, and neither does a stolen cookie.

Changing a password ends the person's other sessions; deactivating a person ends all of them
and revokes their API tokens. Django would refuse such sessions at their next request anyway
(the password's hash is in the session, and inactive people are not loaded); deleting them
means reactivating someone does not bring an old session back.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.request_context import current_request

from . import kept_forms, tokens
from .models import User

SIGNED_IN_AT = "mash_signed_in_at"
LAST_SEEN = "mash_last_seen"
# The last request's time is written back at most this often, so a busy session is not saved
# on every request; a session may therefore end up to this much before its idle limit.
LAST_SEEN_EVERY = 60


def started(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """user_logged_in: the clocks start. Django has already given the session a new key."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now


def _why_ended(session, now: float) -> tuple[str, str]:
    """Why the session has ended, for the account log and for the person; empty if it has not."""
    signed_in_at, last_seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN)
    if signed_in_at is None or last_seen is None:
        return "session from before the time limits", "You were signed out. Sign in again."
    hours, minutes = settings.SESSION_MAX_HOURS, settings.SESSION_IDLE_MINUTES
    if now - signed_in_at > hours * 3600:
        return (
            f"{hours:g} hours after signing in",
            f"You were signed out {hours:g} hours after signing in. Sign in again.",
        )
    if now - last_seen > minutes * 60:
        return (
            f"{minutes} minutes without activity",
            f"You were signed out after {minutes} minutes without activity. Sign in again.",
        )
    return "", ""


def seconds_left(session, now: float) -> int:
    """How long until the session ends if nothing more is asked of the server."""
    signed_in_at, last_seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN)
    if signed_in_at is None or last_seen is None:
        return 0
    idle_ends = last_seen + settings.SESSION_IDLE_MINUTES * 60
    max_ends = signed_in_at + settings.SESSION_MAX_HOURS * 3600
    return max(0, int(min(idle_ends, max_ends) - now))


def _ended_session_owner(request: HttpRequest) -> tuple[str | None, dict]:
    """Who owned the session this browser's cookie names, if it has ended, and its data.

    Read from the ended session's own row: the database store keeps a row past its expiry
    (until `clearsessions`) and only refuses to load it, and the cookie carries the row's
    random 32-character key, so only the browser that held the session can name it. That
    needs no second cookie (a signed "last user" marker would have to be kept in step with
    every sign-in and sign-out). The row is deleted as it is read: it names its owner once."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key or request.session.session_key is not None:
        return None, {}
    row = Session.objects.filter(session_key=key, expire_date__lte=timezone.now()).first()
    if row is None:
        return None, {}
    data = row.get_decoded()
    row.delete()
    return data.get(SESSION_KEY), data


class SessionLimits:
    """Ends a signed-in session that has been idle or open too long, before the view runs, so
    the request goes on signed out (a page sends the person to sign in, the API answers 401),
    and says why on the sign-in page, also when the session's row has already expired.

    A form sent after the session ended is not acted on: its fields are kept for the person
    who owned the session (agencies.kept_forms) and they are sent to sign in, and back to the
    form afterwards, where the kept fields fill it in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The warning's own endpoints judge the session themselves, and asking is not activity.
        if request.path_info in (reverse("session-status"), reverse("session-time-out")):
            return self.get_response(request)
        session = request.session
        now = time.time()
        owner: int | str | None = None
        why, message = "", ""
        if SESSION_KEY in session:
            why, message = _why_ended(session, now)
            if why:
                owner = request.user.pk
                # Django's requests take attributes as they go; audit.account_log reads it.
                request.signed_out_because = why  # type: ignore[attr-defined]
                logout(request)
            else:
                if now - session[LAST_SEEN] >= LAST_SEEN_EVERY:
                    session[LAST_SEEN] = int(now)
                request.session_seconds_left = seconds_left(session, now)  # type: ignore[attr-defined]
                if request.method == "GET":
                    kept = kept_forms.restore(request)
                    if kept is not None:
                        request.kept_form = kept  # type: ignore[attr-defined]
                        messages.info(request, kept_forms.RESTORED)
        elif not request.path_info.startswith("/api/"):
            owner, ended = _ended_session_owner(request)
            if owner is not None:
                why, message = _why_ended(ended, now)
                message = message or "You were signed out. Sign in again."
        if owner is None:
            return self.get_response(request)
        path = kept_forms.form_page(request)
        posted = request.method == "POST" and _csrf_passes(request)
        if posted and kept_forms.keep(owner, path, request.POST):
            messages.info(request, message.replace("Sign in again.", KEPT_NOTE))
            return redirect_to_login(path)
        messages.info(request, message)
        return self.get_response(request)


def _csrf_passes(request: HttpRequest) -> bool:
    """Only a form this site gave out is kept: Django's CSRF check, as the view would get."""
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    return check.process_view(request, lambda r: HttpResponse(), (), {}) is None


KEPT_NOTE = "What you typed has been kept."


def _signed_in_session(request: HttpRequest):
    if not request.user.is_authenticated:
        return None
    return request.session


def status(request: HttpRequest) -> JsonResponse:
    """GET: the seconds this session has left, without counting as activity, so a tab's
    time-out warning can check whether another tab has kept the session alive."""
    session = _signed_in_session(request)
    left = seconds_left(session, time.time()) if session is not None else 0
    return JsonResponse({"seconds_left": left})


@require_POST
def keep_alive(request: HttpRequest) -> HttpResponse:
    """POST: "Stay signed in". The idle clock starts again; the clock from sign-in does not."""
    session = _signed_in_session(request)
    if session is None:
        return HttpResponse(status=401)
    session[LAST_SEEN] = int(time.time())
    return HttpResponse(status=204)


@require_POST
def time_out(request: HttpRequest) -> HttpResponse:
    """POST from the time-out warning when its countdown has run out: if the server agrees the
    session is at its end, the page's typed fields are kept (for the path in `kept_path`) and
    the session ends with the reason on the sign-in page; if another tab kept it alive, 409 with
    the seconds left and nothing happens."""
    session = _signed_in_session(request)
    now = time.time()
    owner: int | str | None
    if session is not None:
        left = seconds_left(session, now)
        if left > TIME_OUT_SLACK:
            return JsonResponse({"seconds_left": left}, status=409)
        owner, ended = request.user.pk, dict(session.items())
        why, message = _why_ended(ended, now + TIME_OUT_SLACK + 1)
        request.signed_out_because = why  # type: ignore[attr-defined]
        logout(request)
    else:
        owner, ended = _ended_session_owner(request)
        why, message = _why_ended(ended, now)
    if owner is None:
        return HttpResponse(status=204)
    path = kept_forms.safe_path(request, request.POST.get("kept_path", ""))
    if kept_forms.keep(owner, path, request.POST):
        message = message.replace("Sign in again.", KEPT_NOTE)
    messages.info(request, message or "You were signed out. Sign in again.")
    return HttpResponse(status=204)


# The warning's countdown and the server's clock may differ by a few seconds.
TIME_OUT_SLACK = 5


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """Delete every session signed in as `user` but `keep`. The session table is not indexed
    by person, so each unexpired session is read: a hub has hundreds at most, and this runs
    only when a password, a person's active flag or their two-factor device changes."""
    mine = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(
            session_key=keep or ""
        )
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=mine).delete()
    return len(mine)


def _remember_before_save(sender, instance: User, update_fields=None, **kwargs) -> None:
    """pre_save of User: what the password and active flag were, if this save may change them."""
    instance._before_save = None
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return
    instance._before_save = (
        User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    )


def _end_sessions_after_save(sender, instance: User, **kwargs) -> None:
    """post_save of User: deactivated, every session and token ends; a new password, every
    session but the one that changed it (Django's password change then gives that one a new
    key)."""
    before, instance._before_save = getattr(instance, "_before_save", None), None
    if not before:
        return
    if before["is_active"] and not instance.is_active:
        end_sessions(instance)
        tokens.revoke_all(instance, request=current_request(), why="deactivated")
    elif before["password"] != instance.password:
        request = current_request()
        keep = None
        if request is not None and getattr(request, "user", None) == instance:
            keep = request.session.session_key
        end_sessions(instance, keep=keep)


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in
    from django.db.models.signals import post_save, pre_save

    user_logged_in.connect(started, dispatch_uid="session-limits-started")
    pre_save.connect(_remember_before_save, sender=User, dispatch_uid="sessions-before-save")
    post_save.connect(_end_sessions_after_save, sender=User, dispatch_uid="sessions-after-save")
