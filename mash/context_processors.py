from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from agencies import two_factor
from enquiries.notifications import UnreadCount, navigation_unread_count

from .navigation import homes_for


def shell(request: HttpRequest) -> dict:
    """The hub's name, the signed-in person's navigation and unread count, for base.html."""
    current = request.resolver_match.url_name if request.resolver_match else None
    # A session past the password but not the one-time password has nowhere to go yet.
    homes = homes_for(request.user) if two_factor.passed(request) else []
    navigation = [
        {"label": home.label, "href": reverse(home.url_name), "current": home.url_name == current}
        for home in homes
    ]
    user = request.user
    return {
        "hub_name": settings.HUB_NAME,
        "navigation": navigation,
        # The header's search box, for whoever has the people search among their pages.
        "may_search": any(home.url_name == "people-search" for home in homes),
        "notifications_current": current == "notifications",
        "account_current": current in {"account", "password-change"},
        # Counted only if a template shows it, and then once per request, up to "99+".
        "unread_notifications": SimpleLazyObject(
            lambda: navigation_unread_count(user=user) if user.is_authenticated else UnreadCount(0)
        ),
    }
