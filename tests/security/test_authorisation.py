"""Closed by default (issue 8, items 1 and 3): every route in the URL configuration, walked,
refuses someone signed out, someone signed in with no role, and someone who holds a role but has
signed in with the password alone (not yet the one-time password), for GET and POST.

Nothing here lists the routes to check: a route added later is walked like the rest and fails
until its view declares who may use it. The only routes open to them are the ones below, each
with its reason. Admin routes send both to the admin's own sign-in page, which lets in
administrators only; that counts as refused, like the redirect to our sign-in page.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse

from agencies.models import Role
from enquiries.models import Notification
from tests.factories import UserFactory
from tests.sharing.conftest import make_hub
from tests.two_factor import password_only_login

from .walk import Route, refused, routes

pytestmark = pytest.mark.django_db

OPEN_TO_ANYONE = {
    "login": "the sign-in page",
    "admin:login": "the admin's sign-in page; past it, administrators only",
    "healthz": "the combined health check, for monitoring: no sign-in, no case data",
    "healthz-live": "for health checks: the process answers; no I/O, no case data",
    "healthz-ready": "for load balancers: the database answers; no sign-in, no case data",
    "healthz-background": "for monitoring: Redis, beat, workers; no sign-in, no case data",
    "set-up-code": "choosing a password with a one-time set-up code: the code is the credential",
    "session-status": "the seconds left in this browser's own session, for the time-out warning",
    "session-time-out": "ends this browser's own session, keeping what its owner typed for them",
}
# The rest of signing in: someone past the password needs them to finish; past them, they send
# a person on (to the home page, which tells someone with no role whom to ask).
SIGNING_IN = {
    "two-factor": "the one-time password, at each sign-in",
    "two-factor-set-up": "setting up the authenticator app, at the first sign-in",
    "two-factor-backup-codes": "the backup codes, shown once, right after setting up",
}
OPEN_WITHOUT_A_ROLE = {
    "home": "says they have no role yet and whom to ask; nothing else",
    "session-keep-alive": "keeps this browser's own session from timing out; no case data",
    **SIGNING_IN,
}
OPEN_BEFORE_THE_ONE_TIME_PASSWORD = {
    **SIGNING_IN,
    "session-keep-alive": OPEN_WITHOUT_A_ROLE["session-keep-alive"],
}
METHODS = ("get", "post")
SIGNED_OUT, NO_ROLE, PASSWORD_ONLY = (
    "signed out",
    "signed in, no role",
    "signed in, not verified",
)


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

    def __init__(self, no_role_user, manager) -> None:
        self.sign_ins = {
            NO_ROLE: lambda client: client.force_login(no_role_user),
            # A manager, who holds most roles' pages, with the password alone.
            PASSWORD_ONLY: lambda client: password_only_login(client, manager),
        }
        self.clients = {SIGNED_OUT: Client(), NO_ROLE: Client(), PASSWORD_ONLY: Client()}
        for persona, sign_in in self.sign_ins.items():
            sign_in(self.clients[persona])

    def open_to(self, persona: str, route: Route) -> bool:
        return (
            route.name in OPEN_TO_ANYONE
            or (persona == NO_ROLE and route.name in OPEN_WITHOUT_A_ROLE)
            or (persona == PASSWORD_ONLY and route.name in OPEN_BEFORE_THE_ONE_TIME_PASSWORD)
        )

    def ask(self, route: Route, paths: list[str]) -> list[str]:
        reached = []
        for persona, client in self.clients.items():
            if self.open_to(persona, route):
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
        if persona != SIGNED_OUT and (cookie is None or not cookie.value):
            self.sign_ins[persona](client)


def walk(only=lambda route: True) -> tuple[list[Route], list[str]]:
    values, app_labels = parameter_values()
    walker = Walker(
        UserFactory(username="no-role-yet"),
        UserFactory(username="password-only", roles=[role for role in Role.values]),
    )
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


def test_a_password_alone_is_sent_on_to_the_one_time_password(make_user):
    client = Client()
    password_only_login(client, make_user(*Role.values))

    page = client.get(reverse("triage-queue"))
    api = client.get(reverse("api:enquiry-list"))
    admin = client.get(reverse("admin:index"))

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('two-factor')}?next=%2Fqueue%2F"
    assert api.status_code == 401
    assert api.json() == {
        "detail": "Finish signing in first: enter the code from your authenticator app."
    }
    assert admin.status_code == 302


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
