from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from . import two_factor
from .requests import SignedInRequest

View = Callable[..., HttpResponseBase]


def with_next(url_name: str, next_url: str) -> str:
    """The page named `url_name`, to go on to `next_url` afterwards."""
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def to_second_factor(request: HttpRequest) -> HttpResponse:
    """Send a session that has only passed the password on to the one-time password, and back
    here afterwards."""
    return redirect(with_next("two-factor", request.get_full_path()))


def role_required(*roles: str) -> Callable[[View], View]:
    """Signed-in users past both factors and holding any of `roles` get through; a session
    past the password alone goes on to its one-time password; others get the styled 403."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: SignedInRequest, *args, **kwargs) -> HttpResponseBase:
            if not two_factor.passed(request):
                return to_second_factor(request)
            if not request.user.has_role(*roles):
                raise PermissionDenied("Your role does not give you access to this page.")
            return view(request, *args, **kwargs)

        # A function takes attributes; the type of what `wraps` makes does not say so.
        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper

    return decorator
