"""Response headers that every page and endpoint needs, so no view can forget them."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreWhenSignedIn:
    """Nothing shown to a signed-in person is kept by the browser or a proxy: a shared
    computer's back button or disk cache must not show the next person a child's record.

    Runs after the view, so a caller signed in by an API token (DRF sets `request.user` then)
    is covered as well as a session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "Authorization" in request.headers:
            add_never_cache_headers(response)
        return response
