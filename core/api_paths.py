"""Addresses under /api/ with or without their trailing slash (docs/api.md "Addresses").

The schema lists each endpoint once, with its slash, as Django's routes have it. A client that
leaves the slash out was sent a redirect (Django's APPEND_SLASH), which loses a POST's body
and turns it into a GET; instead the request goes to the endpoint it names, as if the slash
were there. A path that names no endpoint either way is a JSON 404 (core.limits.not_found).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import is_valid_path

from .limits import is_api


class OptionalTrailingSlash:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if is_api(request) and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)
