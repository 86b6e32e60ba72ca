from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .navigation import homes_for


def shell(request: HttpRequest) -> dict:
    """The hub's name and the signed-in person's navigation, for base.html."""
    current = request.resolver_match.url_name if request.resolver_match else None
    navigation = [
        {"label": home.label, "href": reverse(home.url_name), "current": home.url_name == current}
        for home in homes_for(request.user)
    ]
    return {"hub_name": settings.HUB_NAME, "navigation": navigation}
