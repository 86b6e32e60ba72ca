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
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.request_context import current_request

from . import tokens
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


class SessionLimits:
    """Ends a signed-in session that has been idle or open too long, before the view runs, so
    the request goes on signed out (a page sends the person to sign in, the API answers 401)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session:
            now = time.time()
            why, message = _why_ended(session, now)
            if why:
                # Django's requests take attributes as they go; audit.account_log reads it.
                request.signed_out_because = why  # type: ignore[attr-defined]
                logout(request)
                messages.info(request, message)
            elif now - session[LAST_SEEN] >= LAST_SEEN_EVERY:
                session[LAST_SEEN] = int(now)
        return self.get_response(request)


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
