"""Closed by default (issue 8, item 3): every route in the URL configuration, walked, refuses
someone signed out and someone signed in with no role, for GET and POST.

Nothing here lists the routes to check: a route added later is walked like the rest and fails
until its view declares who may use it. The only routes open to them are the ones below, each
with its reason. Admin routes send both to the admin's own sign-in page, which lets in
administrators only; that counts as refused, like the redirect to our sign-in page.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from enquiries.models import Notification
from tests.factories import UserFactory
from tests.sharing.conftest import make_hub

from .walk import Route, refused, routes

pytestmark = pytest.mark.django_db

OPEN_TO_ANYONE = {
    "login": "the sign-in page",
    "admin:login": "the admin's sign-in page; past it, administrators only",
    "healthz": "for load balancers and health checks: no sign-in, no case data",
}
OPEN_WITHOUT_A_ROLE = {
    "home": "says they have no role yet and whom to ask; nothing else",
}
METHODS = ("get", "post")


def parameter_values() -> tuple[list[str], list[str]]:
    """Real references and ids to put in routes' parameters (an enquiry, an information request,
    a record, a notification, a person), and app labels for the admin's app pages."""
    hub = make_hub()
    record = hub.record("sensitive", marker="WALKED")
    notification = Notification.objects.create(
        recipient=hub.researcher,
        enquiry=hub.enquiry,
        kind=Notification.Kind.INFORMATION_REQUEST,
        message=f"Information requested about {hub.enquiry.reference}.",
    )
    ids = [hub.police_request.pk, record.pk, notification.pk, hub.researcher.pk]
    values = [hub.enquiry.reference, *dict.fromkeys(str(pk) for pk in ids)]
    return values, [config.label for config in apps.get_app_configs()]


class Walker:
    """Asks every route as each persona and keeps what was not refused."""

    def __init__(self, no_role_user) -> None:
        self.no_role_user = no_role_user
        self.clients = {"signed out": Client(), "signed in, no role": Client()}
        self.clients["signed in, no role"].force_login(no_role_user)

    def ask(self, route: Route, paths: list[str]) -> list[str]:
        reached = []
        for persona, client in self.clients.items():
            if route.name in OPEN_TO_ANYONE:
                continue
            if persona == "signed in, no role" and route.name in OPEN_WITHOUT_A_ROLE:
                continue
            for path in paths:
                for method in METHODS:
                    response = getattr(client, method)(path)
                    if not refused(response):
                        where = response.get("Location", "")
                        reached.append(
                            f"{route.name}: {method.upper()} {path} {persona} -> "
                            f"{response.status_code} {where}".rstrip()
                        )
                    self._still_signed_in(persona, client)
        return reached

    def _still_signed_in(self, persona: str, client: Client) -> None:
        """Signing out (a POST to it) ends the session: sign in again for the next route."""
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if persona != "signed out" and (cookie is None or not cookie.value):
            client.force_login(self.no_role_user)


def walk(only=lambda route: True) -> tuple[list[Route], list[str]]:
    values, app_labels = parameter_values()
    walker = Walker(UserFactory(username="no-role-yet"))
    walked, reached = [], []
    for route in routes():
        if not only(route) or route.route.startswith(settings.STATIC_URL.lstrip("/")):
            continue
        paths = route.paths(values) or route.paths(app_labels)
        if not paths:
            reached.append(f"{route.name}: no value fits its parameters; add one to the walk")
            continue
        walked.append(route)
        reached += walker.ask(route, paths)
    return walked, reached


def test_no_route_lets_in_someone_signed_out_or_someone_with_no_role():
    walked, reached = walk()

    assert reached == [], "\n".join(reached)
    names = {route.name for route in walked}
    # The walk reaches through every include: pages, the API, its docs and the admin.
    assert {
        "enquiry-detail",
        "sharing-record-release",
        "notification-read",
        "audit-export",
        "api:enquiry-rate",
        "api:information-record-release",
        "api:schema",
        "api:docs",
        "admin:index",
        "admin:app_list",
        "admin:agencies_user_change",
    } <= names
    assert len(walked) > 100


def test_every_open_route_still_exists():
    names = {route.name for route in routes()}

    assert set(OPEN_TO_ANYONE) | set(OPEN_WITHOUT_A_ROLE) <= names


@pytest.mark.urls("tests.security.urls_with_open_routes")
def test_a_route_added_without_protection_is_caught():
    walked, reached = walk(only=lambda route: route.name.startswith("forgotten"))

    assert {route.name for route in walked} == {
        "forgotten-page",
        "forgotten-endpoint",
        "forgotten-lookup",
    }
    caught = {(line.split(":")[0], "no role" in line.split(" -> ")[0]) for line in reached}
    assert caught == {
        (name, no_role)
        for name in ("forgotten-page", "forgotten-endpoint", "forgotten-lookup")
        for no_role in (False, True)
    }
