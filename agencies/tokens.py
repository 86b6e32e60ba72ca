"""API tokens: per person, named, shown once, revocable; only a digest is stored.

A token is its own credential, not a session: it passed no one-time password when it was used.
What makes it acceptable as a second factor's equal is how it is made and kept: only from a
session that passed both factors (or by an administrator's `manage.py create_api_token`), 256
random bits that nobody chose, shown once and stored as a SHA-256 digest, listed with when it
was last used, revocable one by one, and all revoked when its owner is deactivated.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .account_events import announce
from .models import AccountEventKind, ApiToken, User

Kind = AccountEventKind

# When a token was last used is written back at most this often, not on every call.
LAST_USED_EVERY = timedelta(minutes=1)


def digest_of(key: str) -> str:
    """A plain SHA-256 is enough: the key is random, so there is no dictionary to try."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue(*, user: User, name: str, request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, and its key, which the caller shows once."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=key[:8], digest=digest_of(key)
    )
    announce(Kind.API_TOKEN_CREATED, request=request, user=user, detail=str(token))
    return token, key


def holder_of(key: str) -> ApiToken | None:
    """The token in use with this key, with its owner; notes that it was used."""
    token = (
        ApiToken.objects.in_use()
        .select_related("user", "user__agency")
        .filter(digest=digest_of(key))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke(token: ApiToken, *, request: HttpRequest | None = None, why: str = "") -> bool:
    """Stop a token working. False if it had already stopped."""
    stopped = ApiToken.objects.in_use().filter(pk=token.pk).update(revoked_at=timezone.now())
    if stopped:
        detail = f"{token}{f', {why}' if why else ''}"
        announce(Kind.API_TOKEN_REVOKED, request=request, user=token.user, detail=detail)
    return bool(stopped)


@transaction.atomic
def revoke_all(user: User, *, request: HttpRequest | None = None, why: str = "") -> int:
    return sum(
        revoke(token, request=request, why=why)
        for token in ApiToken.objects.in_use().filter(user=user).select_related("user")
    )
