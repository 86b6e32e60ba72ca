"""What happens to an account, announced for the account log.

The account log lives in `audit`, the layer above; this app tells it through `account_event`,
which `audit.account_log` listens to from the moment it is imported (at start-up). Announcing
with nobody listening is a fault, not a silence: the event would be lost.
"""

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from django.http import HttpRequest

from .models import AccountEventKind, User

Kind = AccountEventKind

# kind, request, user, username, detail
account_event = Signal()


def announce(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    detail: str = "",
) -> None:
    """Into the account log, in the caller's transaction. `username` defaults to the user's;
    give it for attempts on a name that may belong to nobody."""
    if not account_event.has_listeners():
        raise ImproperlyConfigured("Nothing writes the account log: is `audit` installed?")
    account_event.send(
        sender=User, kind=kind, request=request, user=user, username=username, detail=detail
    )
