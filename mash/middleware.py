"""Response headers that every page and endpoint needs, so no view can forget them, and the
health check answered before anything else can refuse it."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from .views import HEALTH_CHECKS


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


class HealthCheckFirst:
    """The health checks (/healthz and /healthz/live, ready and background) are answered
    before Django checks the Host header (CommonMiddleware): a load balancer, or the compose
    health check, calls them by the container's own address, which ALLOWED_HOSTS need not
    name. They show no case data, so any host may have them. After the header middleware, so
    the answer carries the same headers as every other."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.checks = {reverse(name): view for name, view in HEALTH_CHECKS.items()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        check = self.checks.get(request.path_info)
        if check is not None:
            return check(request)
        return self.get_response(request)
