"""The account log's writer: sign-ins, failed sign-ins, sign-outs, lockouts and two-factor changes.

Django's sign-in signals write `AccountEvent`s. Lockouts (agencies.lockout), the one-time
password and its devices (agencies.two_factor), set-up codes and API tokens (agencies.tokens)
announce what happened (agencies.account_events), and `log_account_event` writes it.

Changes to roles and permissions are in the change log instead: group membership and
permissions (auditlog's many-to-many logging of `User.groups`, `User.user_permissions`,
`Group.permissions`) and django-guardian grants on single records (their rows are registered
with auditlog, so each grant and removal is an entry with who did it). Each step of a change
to someone's roles, agency or account status (agencies.access) is in the access log as well.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from agencies import lockout
from agencies.account_events import account_event
from agencies.models import User
from core.request_context import client_address

from .models import AccountEvent

Kind = AccountEvent.Kind


def log_account_event(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    detail: str = "",
) -> AccountEvent:
    """Append to the account log. `username` defaults to the user's; give it for attempts
    on a name that may belong to nobody."""
    agent = request.headers.get("User-Agent", "") if request is not None else ""
    return AccountEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        address=client_address(request),
        user_agent=agent[:300],
        detail=detail[:200],
    )


def _announced(
    sender, kind: str, request=None, user=None, username: str = "", detail: str = "", **kwargs
) -> None:
    log_account_event(kind, request=request, user=user, username=username, detail=detail)


def _signed_in(sender, request: HttpRequest, user: User, **kwargs) -> None:
    log_account_event(Kind.SIGNED_IN, request=request, user=user)


def _signed_out(sender, request: HttpRequest, user: User | None, **kwargs) -> None:
    """Signed out by the person, or by the session's limits (agencies.sessions), which say why."""
    if user is not None:
        why = getattr(request, "signed_out_because", "")
        log_account_event(Kind.SIGNED_OUT, request=request, user=user, detail=why)


def _sign_in_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    """Only the name tried: whether an account has it is for the lockout to know, not the
    log's reader, and nobody learns it from the sign-in page (the same message either way).
    A wrong password at release (agencies.step_up) comes this way too, logged as itself. A try
    the lockout turned away had its password checked by nobody, so it is no wrong password:
    it is logged as refused by the lockout, whatever was typed."""
    tried = str(credentials.get(User.USERNAME_FIELD, ""))
    refusal = lockout.refused_unchecked(request)
    if refusal is not None:
        why = "slowed down" if refusal.slowed else "locked out"
        detail = f"Refused unchecked, {why}: {refusal.retry_after} s to wait"
        log_account_event(Kind.LOCKED_OUT, request=request, username=tried, detail=detail)
        return
    kind = Kind.STEP_UP_FAILED if credentials.get("step_up") else Kind.SIGN_IN_FAILED
    log_account_event(kind, request=request, username=tried)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="account-log-signed-in")
    user_logged_out.connect(_signed_out, dispatch_uid="account-log-signed-out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="account-log-sign-in-failed")
    account_event.connect(_announced, dispatch_uid="account-log-announced")


connect()
