"""Every page of every role, checked by axe-core in Chromium against WCAG 2.2 AA and axe's
best practices: none may have a violation of any impact, error states included.

The demo hub (`seed_demo --enquiries 40`) is made once for the module, with one signed-in
browser a role, so each page costs a visit and one axe run. Its rows are committed for the
module's own live server and emptied after its last test, as after any transactional test."""

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from agencies.models import Agency, User
from demo.hub import DEMO_USERS
from enquiries.clock import forget_clock
from enquiries.models import Enquiry, OnwardReferral, Person
from reports.models import NfaReview
from reports.selectors import REPORTS
from sharing.models import DomesticAbuseNotification, InformationRecord, InformationRequest
from tests import instants, two_factor
from tests.browser.axe import axe_violations, described, load_axe
from tests.conftest import restore_migration_data

USERNAMES = [user.username for user in DEMO_USERS]
VISITOR = "visitor"  # signed out


def press(button: str) -> Callable[[Page], None]:
    """Press a button on the page (a form sent empty, for its error state) and wait for the
    page it brings."""

    def act(page: Page) -> None:
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name=button, exact=True).click()

    return act


def wrong_password(page: Page) -> None:
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@dataclass(frozen=True)
class Visit:
    role: str
    path: str  # with {places} the demo hub fills in (Hub.places)
    then: Callable[[Page], None] | None = None
    status: int = 200
    shows_errors: bool = False
    two_factor_off: bool = False  # as `make demo` runs, with its banner on every page
    drawn: str = "main"  # what a page's script draws after it loads, to wait for


def errors(role: str, path: str, button: str) -> Visit:
    return Visit(role, path, then=press(button), shows_errors=True)


PAGES: dict[str, Visit] = {
    "sign in": Visit(VISITOR, "/sign-in/"),
    "sign in, wrong password": Visit(VISITOR, "/sign-in/", then=wrong_password, shows_errors=True),
    "sign in, a demo without two-factor": Visit(VISITOR, "/sign-in/", two_factor_off=True),
    # A researcher triages.
    "triage queue": Visit("researcher", "/queue/"),
    "triage queue, filtered": Visit("researcher", "/queue/?rating=amber&state=researching&q=a"),
    "triage queue, a filter in error": Visit(
        "researcher", "/queue/?rating=purple", shows_errors=True
    ),
    "triage queue, a demo without two-factor": Visit("researcher", "/queue/", two_factor_off=True),
    "enquiry": Visit("researcher", "{enquiry}"),
    "enquiry, decided and referred on": Visit("researcher", "{referred}"),
    "log an enquiry": Visit("researcher", "/enquiries/new/"),
    "log an enquiry, errors": errors("researcher", "/enquiries/new/", "Log the enquiry"),
    "rate an enquiry": Visit("researcher", "{enquiry}rate/"),
    "rate an enquiry, errors": errors("researcher", "{enquiry}rate/", "Save"),
    "ask agencies for information": Visit("researcher", "{enquiry}information-requests/"),
    "ask agencies for information, check before sending": Visit(
        "researcher", "{asked_nobody}information-requests/", then=press("Continue")
    ),
    "enquiry picture": Visit("researcher", "{enquiry}picture/"),
    "correct the referral details": Visit("researcher", "{enquiry}referral/correct/"),
    "add a person to an enquiry": Visit("researcher", "{enquiry}people/add/"),
    "onward referral answer": Visit("researcher", "{referral_answer}"),
    "notifications": Visit("researcher", "/notifications/"),
    "notification emails": Visit("researcher", "/notifications/email/"),
    "people search": Visit("researcher", "/people/?q=a"),
    "person": Visit("researcher", "/people/{person}/"),
    "find an enquiry or person": Visit("researcher", "/search/?q=a"),
    "search agency information": Visit("researcher", "/sharing/search/"),
    "your account": Visit("researcher", "/account/"),
    "change password, errors": errors("researcher", "/account/password/", "Change password"),
    "API docs": Visit("researcher", "/api/docs/", drawn=".opblock-tag"),
    "page not found": Visit("researcher", "/no-such-page/", status=404),
    "not allowed": Visit("researcher", "/audit/", status=403),
    # Agency practitioners answer.
    "police inbox": Visit("police", "/inbox/"),
    "information request": Visit("police", "/sharing/requests/{police_request}/"),
    "information request, record errors": errors(
        "police", "/sharing/requests/{police_request}/", "Add the record"
    ),
    "information request, confirm the answer": Visit(
        "police", "/sharing/requests/{police_request}/", then=press("Send the answer")
    ),
    "record awaiting release": Visit("police", "/sharing/records/{release_record}/"),
    "release, errors": errors("police", "/sharing/records/{release_record}/", "Release"),
    "refuse release, errors": errors("police", "/sharing/records/{release_record}/", "Refuse"),
    "domestic abuse notifications": Visit("police", "/sharing/domestic-abuse/"),
    "domestic abuse notification": Visit("police", "/sharing/domestic-abuse/{domestic_abuse}/"),
    "domestic abuse upload": Visit("police", "/sharing/domestic-abuse/upload/"),
    "health inbox": Visit("health", "/inbox/"),
    "health information request": Visit("health", "/sharing/requests/{health_request}/"),
    "education inbox": Visit("education", "/inbox/"),
    # A manager decides and oversees.
    "dashboard": Visit("manager", "/dashboard/"),
    "dashboard, one agency's waiting requests": Visit("manager", "/dashboard/agencies/{waiting}/"),
    "decision": Visit("manager", "{awaiting}decide/"),
    "decision, errors": errors("manager", "{awaiting}decide/", "Save"),
    "merge people": Visit("manager", "/people/{person}/merge/"),
    "merge people, compared": Visit("manager", "/people/{person}/merge/?other={other_person}"),
    "quality sampling": Visit("manager", "/quality/"),
    "quality review": Visit("researcher", "/quality/{review}/"),
    "reports": Visit("manager", "/reports/"),
    **{f"report: {name}": Visit("manager", f"/reports/{name}/") for name in REPORTS},
    "reports, analyst": Visit("analyst", "/reports/"),
    # An auditor reads the logs.
    "audit log": Visit("auditor", "/audit/"),
    "audit log: access": Visit("auditor", "/audit/?log=access"),
    "audit log: changes": Visit("auditor", "/audit/?log=changes"),
    "audit log: changes to an enquiry": Visit("auditor", "/audit/?log=changes&enquiry={reference}"),
    "audit log, a filter in error": Visit(
        "auditor", "/audit/?log=access&date_from=2026-13-40", shows_errors=True
    ),
    "administration": Visit("admin", "/administration/"),
}


# Hub settings routes that are no page of their own.
NOT_PAGES = {
    "remove-closure-day": "the closure days page's buttons post to it",
    "person-reset": "the buttons on a person's page post to it",
    "access-change": "one administrator's request for another to decide: the demo hub has none",
}


def follow(*hops: str) -> Callable[[Page], None]:
    """Follow, from the page, the first link whose path matches each pattern in turn: the way
    to a page of one item (an agency, a person) from its list."""

    def act(page: Page) -> None:
        for hop in hops:
            hrefs = page.locator("main a[href]").evaluate_all(
                "links => links.map(link => new URL(link.href).pathname)"
            )
            path = next((href for href in hrefs if re.fullmatch(hop, href)), None)
            assert path is not None, f"no link matching {hop} on {page.url}"
            page.goto(urljoin(page.url, path))

    return act


def hub_settings_pages() -> dict[str, Visit]:
    """The administrators' hub settings (namespace `hub-settings`), as they are added: each
    page, those of one item reached by links from their list."""
    found = get_resolver().namespace_dict.get("hub-settings")
    if found is None:
        return {}
    root = reverse("hub-settings:index")
    pages: dict[str, Visit] = {}
    for name in sorted(n for n in found[1].reverse_dict if isinstance(n, str)):
        if name in NOT_PAGES:
            continue
        try:
            pages[f"hub settings: {name}"] = Visit("admin", reverse(f"hub-settings:{name}"))
        except NoReverseMatch:
            pattern = found[1].reverse_dict.getlist(name)[0][1].removesuffix(r"\Z")
            # Each argument's part of the path is one hop: people/<id>/ then its api-tokens/.
            ends = [m.end() for m in re.finditer(r"\(\?P<\w+>[^)]*\)/", pattern)]
            hops = [root + pattern[:end] for end in ends if end < len(pattern)] + [root + pattern]
            parent = root + re.sub(r"\\(.)", r"\1", pattern[: pattern.index("(")])
            pages[f"hub settings: {name}"] = Visit("admin", parent, then=follow(*hops))
    return pages | {
        "hub settings: add a closure day, errors": errors(
            "admin", reverse("hub-settings:add-closure-day"), "Continue"
        ),
        "hub settings: add an agency, errors": errors(
            "admin", reverse("hub-settings:agency-add"), "Continue"
        ),
        "hub settings: add a person, errors": errors(
            "admin", reverse("hub-settings:person-add"), "Continue"
        ),
        "hub settings: opening hours, check the change": Visit(
            "admin", reverse("hub-settings:opening-hours"), then=press("Continue")
        ),
        "hub settings: allowances, check the change": Visit(
            "admin", reverse("hub-settings:allowances"), then=press("Continue")
        ),
    }


PAGES |= hub_settings_pages()


@dataclass
class Hub:
    url: str
    places: dict[str, str]
    browser: Browser
    context_args: dict
    pages: dict[str, Page] = field(default_factory=dict)
    contexts: list[BrowserContext] = field(default_factory=list)

    def page_for(self, role: str) -> Page:
        """One browser a role, kept for the module: signed in past both factors by its session
        cookie (the sign-in pages have visits of their own), which saves seconds a role."""
        if role not in self.pages:
            context = self.browser.new_context(**self.context_args)
            load_axe(context)
            self.contexts.append(context)
            if role != VISITOR:
                context.add_cookies([session_cookie(role, self.url)])
            self.pages[role] = context.new_page()
        return self.pages[role]


def session_cookie(username: str, url: str) -> dict:
    """A session past both factors of sign-in, as the hub's cookie for the browser (Secure, as
    the hub sets it and a __Host- name needs; localhost counts as secure)."""
    client, user = Client(), User.objects.get(username=username)
    two_factor.password_only_login(client, user)
    two_factor.pass_second_factor(client, user)
    name = django_settings.SESSION_COOKIE_NAME
    value, host = client.cookies[name].value, urlsplit(url).hostname
    return {"name": name, "value": value, "domain": host, "path": "/", "secure": True}


def places() -> dict[str, str]:
    """Where in the demo hub each kind of page is: an enquiry with agencies' information, a
    request each practitioner can answer, a record whose release is asked, and so on."""
    open_enquiries = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).order_by("reference")
    enquiry = open_enquiries.filter(information_records__isnull=False).distinct().first()
    open_requests = InformationRequest.objects.filter(
        status__in=InformationRequest.OPEN_STATUSES, enquiry__state__in=Enquiry.OPEN_STATES
    ).order_by("pk")
    referral = OnwardReferral.objects.order_by("pk").first()
    person = Person.objects.filter(involvements__isnull=False).distinct().order_by("pk")
    return {
        "enquiry": enquiry.get_absolute_url(),
        "reference": enquiry.reference,
        "asked_nobody": open_enquiries.filter(information_requests__isnull=True)
        .first()
        .get_absolute_url(),
        "awaiting": open_enquiries.filter(state=Enquiry.State.AWAITING_DECISION)
        .first()
        .get_absolute_url(),
        "referred": referral.enquiry.get_absolute_url(),
        "referral_answer": f"{referral.enquiry.get_absolute_url()}referrals/{referral.pk}/answer/",
        "person": str(person[0].pk),
        "other_person": str(person[1].pk),
        "police_request": str(
            open_requests.filter(agency__name="Police", records__isnull=False).first().pk
        ),
        "health_request": str(open_requests.filter(agency__name="Community Health").first().pk),
        "release_record": str(
            InformationRecord.objects.filter(agency__name="Police", release_status="requested")
            .order_by("pk")
            .first()
            .pk
        ),
        "domestic_abuse": str(DomesticAbuseNotification.objects.order_by("pk").first().pk),
        "waiting": str(
            Agency.objects.filter(information_requests__in=open_requests).order_by("pk").first().pk
        ),
        "review": str(NfaReview.objects.order_by("pk").first().pk),
    }


@pytest.fixture(scope="module")
def hub(
    django_db_setup, django_db_blocker, browser: Browser, browser_context_args: dict
) -> Iterator[Hub]:
    """The demo hub at the suite's instant, served by a live server of the module's own (the
    session's would empty the database after every test)."""
    from mash.celery import app

    with django_db_blocker.unblock():
        restore_migration_data()
        forget_clock()
        eager, app.conf.task_always_eager = app.conf.task_always_eager, True
        with time_machine.travel(instants.session_instant(), tick=True):
            call_command("seed_demo", enquiries=40, stdout=io.StringIO())
            found = places()
        app.conf.task_always_eager = eager
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    made = Hub(server.url, found, browser, browser_context_args)
    yield made
    for context in made.contexts:
        context.close()
    server._live_server_modified_settings.disable()
    server.stop()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        restore_migration_data()
        forget_clock()


@pytest.fixture(autouse=True)
def _live_server_may_read_the_database(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


@pytest.mark.parametrize("visit", PAGES.values(), ids=PAGES.keys())
def test_no_accessibility_violations(hub: Hub, visit: Visit, settings):
    settings.TWO_FACTOR_REQUIRED = not visit.two_factor_off
    page = hub.page_for(visit.role)
    path = visit.path.format(**hub.places)
    response = page.goto(f"{hub.url}{path}")
    assert response is not None and response.status == visit.status, path
    if visit.role != VISITOR:
        assert "/sign-in/" not in page.url, f"{visit.role} was signed out at {path}"
    if visit.then:
        visit.then(page)
    if visit.shows_errors:
        expect(page.locator(".govuk-error-summary, .govuk-error-message").first).to_be_visible()
    page.locator(visit.drawn).first.wait_for()

    violations = axe_violations(page)

    where = f"{page.url.removeprefix(hub.url)} as {visit.role}"
    assert violations == [], described(violations, where)


def test_the_walk_covers_every_role_and_every_hub_setting():
    """Issue 22: at least 40 pages, as every role, and every page of the hub settings."""
    assert {visit.role for visit in PAGES.values()} == {VISITOR, *USERNAMES}
    assert len(PAGES) >= 40
    routes = get_resolver().namespace_dict["hub-settings"][1].reverse_dict
    pages = {name for name in routes if isinstance(name, str)} - NOT_PAGES.keys()
    assert len(pages) >= 20
    assert {f"hub settings: {name}" for name in pages} <= PAGES.keys()
