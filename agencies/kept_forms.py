"""What a person typed into a form when their session ran out, kept so it is not lost.

A form sent after the session has ended is not acted on: its fields are kept, in the cache
(server-side, never in the browser), for the person who owned the ended session, for
`KEPT_FOR` seconds, and they are sent to sign in again. When that same person next opens the
form's page, the kept fields fill the page's forms (`core.forms.GovukForm` reads
`request.kept_form`) and the page says to check them and submit again: restoring fills a
form, it never submits one. The kept fields are dropped once restored, are never written to
a log or the audit trail, and never include a password, a CSRF token, a one-time code or a
file. Only one form is kept per person: the latest.
"""

import re
import time
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme

KEPT_FOR = 30 * 60
# Field names never kept: passwords, CSRF tokens, one-time and backup codes, tokens.
NEVER_KEPT = re.compile(r"password|csrf|token|code|otp|secret", re.IGNORECASE)
# Where a form is never kept: signing in and out, the session's own endpoints, the API.
NOT_FORM_PAGES = ("/sign-in/", "/sign-out/", "/session/", "/api/", "/account/")
RESTORED = "We kept what you typed: check it and submit again"


KEY_PREFIX = "kept-form"


def key(user_pk) -> str:
    return f"{KEY_PREFIX}:{user_pk}"


def keepable_fields(data: QueryDict) -> dict[str, list[str]]:
    """The fields worth keeping: typed ones, never a secret."""
    return {
        name: values
        for name, values in data.lists()
        if not NEVER_KEPT.search(name) and name != "kept_path" and any(v.strip() for v in values)
    }


def is_form_page(path: str) -> bool:
    return path.startswith("/") and not path.startswith(NOT_FORM_PAGES)


def keep(user_pk, path: str, data: QueryDict) -> bool:
    """Keep `data` sent to `path` for the person `user_pk`; False if there was nothing to keep."""
    fields = keepable_fields(data)
    if not fields or not is_form_page(path) or path.startswith("//"):
        return False
    # The time is kept too: a cache's own expiry is only as exact as its server's clock.
    kept = {"path": path, "until": time.time() + KEPT_FOR, "fields": fields}
    cache.set(key(user_pk), kept, KEPT_FOR)
    return True


def restore(request: HttpRequest) -> QueryDict | None:
    """The kept fields if this signed-in request opens the page they were typed on, dropped from
    the cache as they are handed over; otherwise None."""
    kept_key = key(request.user.pk)
    kept = cache.get(kept_key)
    if kept is None or kept["path"] != request.path:
        return None
    if kept.get("until", 0) < time.time():
        cache.delete(kept_key)
        return None
    cache.delete(kept_key)
    fields = QueryDict(mutable=True)
    for name, values in kept["fields"].items():
        fields.setlist(name, values)
    return fields


def form_page(request: HttpRequest) -> str:
    """The page the form was sent from: the Referer's path when it is this site's (the
    referrer policy is same-origin, so it is sent), since many forms post to an action of
    their own (a record's release form posts to .../release/ from the record's page); else
    the path posted to."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path:
        return safe_path(request, referer.path) or request.path_info
    return request.path_info


def safe_path(request: HttpRequest, wanted: str) -> str:
    """`wanted` if it is a path on this site, else ''."""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""
