"""What the hub settings pages share: who may use them, and the change checked before it is
saved.

A form page posts to itself; valid, it shows "Check the change" (what changes, what that
affects) with what was typed carried in hidden fields; "Save the change" posts it again with
`confirm`, and the service saves it only if the row is still as it was checked."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from agencies import two_factor
from agencies.administration import Preview
from agencies.decorators import to_second_factor
from agencies.models import Role
from agencies.requests import SignedInRequest

View = Callable[..., HttpResponseBase]

NOT_CARRIED = frozenset({"csrfmiddlewaretoken", "confirm", "edit"})


def administrators_only(view: View) -> View:
    """Administrators past the one-time password, and superusers; others get the 403 page.
    The same door as the administration site's (mash.admin)."""

    @login_required
    @wraps(view)
    def wrapper(request: SignedInRequest, *args, **kwargs) -> HttpResponseBase:
        if not two_factor.passed(request):
            return to_second_factor(request)
        user = request.user
        if not (user.is_active and (user.is_superuser or user.has_role(Role.ADMINISTRATOR))):
            raise PermissionDenied("Only administrators change the hub's settings.")
        return view(request, *args, **kwargs)

    wrapper.allowed_roles = frozenset({Role.ADMINISTRATOR})  # type: ignore[attr-defined]
    return wrapper


def stage(request: HttpRequest) -> str:
    """ "form" (showing or correcting it), "check" (about to preview) or "confirm" (saving)."""
    if request.method != "POST" or "edit" in request.POST:
        return "form"
    return "confirm" if "confirm" in request.POST else "check"


def carried(request: HttpRequest) -> list[tuple[str, str]]:
    """What was typed, to post again from the check page."""
    return [
        (name, value)
        for name in request.POST
        if name not in NOT_CARRIED
        for value in request.POST.getlist(name)
    ]


def check_page(
    request: HttpRequest,
    *,
    title: str,
    preview: Preview,
    back: str,
    caption: str,
    save_label: str = "Save the change",
) -> HttpResponse:
    return render(
        request,
        "hub_settings/check_the_change.html",
        {
            "title": title,
            "caption": caption,
            "preview": preview,
            "carried": carried(request),
            "back": back,
            "save_label": save_label,
            "page_errors": preview.problems,
        },
    )
