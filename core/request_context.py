"""The change log's plumbing: who acted, from where, and what it may not repeat.

django-auditlog writes a `LogEntry` for every change to a registered model, in the same
transaction as the change (its signal handlers share the connection). Web pages and the API
get the acting user from the middleware below; Celery tasks and management commands run
outside any request, so their entries have no actor, which the auditor's page shows as
"System".
"""

import ipaddress
import re
import uuid
from contextvars import ContextVar

from auditlog import middleware
from django.conf import settings
from django.http import HttpRequest

WITHHELD = "(not shown)"

_request: ContextVar[HttpRequest | None] = ContextVar("audited_request", default=None)


def withhold(value: str) -> str:
    """The mask for free text that may carry what the firewall hides (settings
    AUDITLOG_MASK_CALLABLE). auditlog's own mask keeps half the text; this keeps only
    whether there was any, so the log still shows that the text changed and who changed it."""
    return value if value in ("", "None") else WITHHELD


def current_request() -> HttpRequest | None:
    """The request being answered, for code that signals reach without one (None outside)."""
    return _request.get()


def client_address(request: HttpRequest | None) -> str | None:
    """The address the request came from, for the account log and the lockout.

    Directly in front of gunicorn, that is the connection's. Behind `TRUSTED_PROXY_COUNT`
    proxies, each appending the address that called it to X-Forwarded-For, it is that many
    entries from the right: entries further left are the client's to forge, and counting
    the proxy's own address would lock out everyone behind it after five failures."""
    if request is None:
        return None
    connection = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return connection
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return connection
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return connection


REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id(request: HttpRequest) -> str:
    """The id that ties a request's access log entries to the proxy's and the server's logs:
    the proxy's X-Request-ID when one stands in front (`TRUSTED_PROXY_COUNT`) and it looks like
    an id, otherwise a new one. A client's own header is not trusted to name the request."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if settings.TRUSTED_PROXY_COUNT and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class AuditlogMiddleware(middleware.AuditlogMiddleware):
    """auditlog's middleware with three changes. Each request gets an id (`request_id`),
    sent back in the response and written in the access log. The acting user is looked up
    again when an entry is written (`fill_actor`): the API signs a token's holder in inside
    the view, after middleware has run. The address is the client's (`client_address`)."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request)

    def __call__(self, request: HttpRequest):
        identifier = request_id(request)
        # Django's requests take attributes as they go; audit.access_log reads it by getattr.
        request.request_id = identifier  # type: ignore[attr-defined]
        token = _request.set(request)
        try:
            response = super().__call__(request)
        finally:
            _request.reset(token)
        response[REQUEST_ID_HEADER] = identifier
        return response


def fill_actor(sender, instance, **kwargs) -> None:
    """pre_save of auditlog's LogEntry: the user the request is signed in as by now."""
    request = _request.get()
    if instance.actor_id is not None or request is None:
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        instance.actor = user
        instance.actor_email = user.email
        if instance.remote_addr is None:
            instance.remote_addr = client_address(request)
