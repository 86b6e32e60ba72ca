from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from enquiries.notifications import unread_notification_count

from .navigation import homes_for


def shell(request: HttpRequest) -> dict:
    """The hub's name, the signed-in person's navigation and unread count, for base.html."""
    current = request.resolver_match.url_name if request.resolver_match else None
    navigation = [
        {"label": home.label, "href": reverse(home.url_name), "current": home.url_name == current}
        for home in homes_for(request.user)
    ]
    user = request.user
    return {
        "hub_name": settings.HUB_NAME,
        "navigation": navigation,
        "notifications_current": current == "notifications",
        # Counted only if a template shows it, and then once per request.
        "unread_notifications": SimpleLazyObject(
            lambda: unread_notification_count(user=user) if user.is_authenticated else 0
        ),
    }
