"""What one request may hold, and a clear answer, never a 500, when it holds too much or what
cannot be stored (docs/security.md "Limits on what can be sent").

- A body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` is refused with 413 before anything reads
  it, pages and API alike (mash takes no file uploads, so the limit is on the whole body); a
  form with more than `DATA_UPLOAD_MAX_NUMBER_FIELDS` fields gets the same answer through
  `bad_request`, Django's handler for the refusal it raises.
- A NUL in the address, which no reference or filter can hold and PostgreSQL cannot compare,
  is "not found" in the path and 400 in the query string.
- JSON nested deeper than Python can follow is a 400 from the API's parser.

Pages get a page; anything under /api/ gets `{"detail": ...}`.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.views import defaults
from rest_framework import parsers
from rest_framework.exceptions import ParseError

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _answer(request: HttpRequest, *, status: int, template: str, detail: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    # Drawn for the person signed in, unless the refusal came before anyone was (the site's
    # context processor needs `request.user`).
    html = render_to_string(
        template, {"detail": detail}, request=request if hasattr(request, "user") else None
    )
    return HttpResponse(html, status=status)


def too_much(request: HttpRequest, *, fields: bool = False) -> HttpResponse:
    """413: the body is over the size limit, or a form over the number of fields."""
    if fields:
        limit = f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields"
    else:
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
    detail = (
        f"That was too much to send at once: the hub takes at most {limit} in one go. "
        "Nothing was saved."
    )
    return _answer(request, status=413, template="413.html", detail=detail)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# A body this far over the limit is read and dropped before the 413: answered unread, the proxy
# still writing it (nginx sends what it buffered) meets a closed connection and answers 502
# instead. nginx refuses larger ones itself (deploy/nginx/mash.conf `client_max_body_size`).
DRAIN_AT_MOST = 4 * 1024 * 1024


def _drain(request: HttpRequest) -> None:
    try:
        while request.read(64 * 1024):
            pass
    except OSError:
        pass


def _nul_in_query(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


class RequestLimits:
    """Refuses what no view should be handed: a body over the limit, a NUL in the address.

    Runs before any view or middleware reads the body (the CSRF check reads a form's), and
    inside the header middleware, so its answers carry the same headers as any page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and (length := _declared_length(request)) > limit:
            if length <= DRAIN_AT_MOST:
                _drain(request)
            return too_much(request)
        if "\x00" in request.path_info:
            return _answer(request, status=404, template="404.html", detail="Not found.")
        if _nul_in_query(request):
            return _answer(
                request,
                status=400,
                template="bad_address.html",
                detail="The address holds an invisible NUL character, which it cannot: check "
                "the link, or type what you were searching for again.",
            )
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler (`handler400`). Too much data is 413 with our page or JSON; any
    other refusal keeps Django's own plain 400 (an unknown host, say, is refused before the
    request has a user for the site's pages to show)."""
    if isinstance(exception, RequestDataTooBig):
        return too_much(request)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return too_much(request, fields=True)
    if is_api(request):
        return JsonResponse({"detail": "The request could not be read."}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler (`handler404`): a path that names nothing is the site's page, or
    under /api/ the API's JSON, as every other API answer is."""
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


class JSONParser(parsers.JSONParser):
    """DRF's, except that JSON nested deeper than Python's recursion limit (no real request
    comes near: ours are three levels deep) is a 400 rather than a RecursionError's 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
