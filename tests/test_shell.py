"""The web app's shell: sign-in, where each role lands, who may open each home, error pages."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from agencies.models import Role
from tests.factories import PASSWORD, AgencyFactory, UserFactory
from tests.two_factor import app_for, code_now

pytestmark = pytest.mark.django_db

HOME_PAGES = {
    "manager-dashboard": {Role.MANAGER},
    "triage-queue": {Role.RESEARCHER, Role.MANAGER},
    "agency-inbox": {Role.PRACTITIONER},
    "reports-index": {Role.ANALYST, Role.MANAGER},
    "audit-log": {Role.AUDITOR},
    "administration": {Role.ADMINISTRATOR},
}


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("url_name", HOME_PAGES)
def test_each_home_page_opens_for_its_roles_only(client, make_user, role, url_name):
    client.force_login(make_user(role))

    response = client.get(reverse(url_name))

    assert response.status_code == (200 if role in HOME_PAGES[url_name] else 403)


@pytest.mark.parametrize("url_name", [*HOME_PAGES, "home"])
def test_it_sends_anonymous_people_to_sign_in(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    ("roles", "landing"),
    [
        ((Role.RESEARCHER,), "triage-queue"),
        ((Role.PRACTITIONER,), "agency-inbox"),
        ((Role.MANAGER, Role.PRACTITIONER), "manager-dashboard"),
        ((Role.ANALYST,), "reports-index"),
        ((Role.AUDITOR,), "audit-log"),
        ((Role.ADMINISTRATOR,), "administration"),
    ],
)
def test_home_sends_each_role_to_its_own_page(client, make_user, roles, landing):
    client.force_login(make_user(*roles))

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse(landing)


def test_navigation_lists_every_home_of_every_role_held(client, make_user):
    client.force_login(make_user(Role.MANAGER, Role.PRACTITIONER))

    html = client.get(reverse("manager-dashboard")).content.decode()

    for label in ["Manager dashboard", "Triage queue", "Agency inbox", "Reports"]:
        assert label in html
    assert "Audit log" not in html
    assert "Administration" not in html


def test_a_person_with_no_role_is_told_whom_to_ask(client, make_user):
    client.force_login(make_user())

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "You do not have a role in the hub yet" in response.content.decode()


def test_header_shows_the_person_and_their_agency(client, make_user):
    user = make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")
    client.force_login(user)

    html = client.get(reverse("triage-queue")).content.decode()

    assert f"Rosa Reid</strong>, {user.agency.name}" in html


def test_sign_in_with_the_right_password_and_code_lands_on_the_role_home(client, make_user):
    user = make_user(Role.AUDITOR)
    app = app_for(user)

    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.post(reverse("two-factor"), {"code": code_now(app)}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("audit-log")


@pytest.mark.parametrize("username", ["person-who-exists", "nobody-by-this-name"])
def test_a_wrong_sign_in_says_so_without_revealing_whether_the_user_exists(client, username):
    UserFactory(username="person-who-exists")

    response = client.post(reverse("login"), {"username": username, "password": "wrong"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "The username or password is not right" in html
    assert "Error: Sign in" in html


def test_an_inactive_person_gets_the_same_message_as_a_wrong_password(client):
    UserFactory(username="left-the-hub", is_active=False)

    response = client.post(reverse("login"), {"username": "left-the-hub", "password": PASSWORD})

    assert "The username or password is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(client, make_user):
    client.force_login(make_user(Role.RESEARCHER))

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("triage-queue")).status_code == 302


def test_unknown_urls_get_the_styled_404(client, make_user):
    client.force_login(make_user(Role.RESEARCHER))

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "govuk-footer" in html


def test_forbidden_pages_get_the_styled_403(client, make_user):
    client.force_login(make_user(Role.RESEARCHER))

    response = client.get(reverse("audit-log"))

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_the_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Sorry, there is a problem with the service" in html


def test_pages_load_the_hubs_stylesheet_and_work_without_javascript(client, settings):
    settings.HUB_NAME = "Oxfordshire MASH"

    html = client.get(reverse("login")).content.decode()

    assert "/static/css/mash.css" in html
    assert "Oxfordshire MASH" in html
    # The form posts without script: a plain submit button inside a method="post" form.
    assert 'method="post"' in html
    assert 'type="submit"' in html


def test_the_admin_opens_for_superusers_not_for_administrators_or_other_roles(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(make_user(Role.ADMINISTRATOR))  # they use /hub-settings/
    assert client.get(reverse("admin:index")).status_code == 302

    client.force_login(make_user(is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:agencies_agency_changelist")).status_code == 200
    assert client.get(reverse("admin:agencies_user_changelist")).status_code == 200


def test_an_administrator_adds_an_agency_in_hub_settings_and_the_change_is_audited(
    client, make_user
):
    admin_user = make_user(Role.ADMINISTRATOR)
    client.force_login(admin_user)

    response = client.post(
        reverse("hub-settings:agency-add"),
        {
            "name": "Youth Justice",
            "kind": "youth_offending",
            "participation": "virtual",
            "asked_by_default": "no",
            "reason": "A new partner.",
            "confirm": "1",
        },
    )

    assert response.status_code == 302
    entry = LogEntry.objects.get(object_repr="Youth Justice")
    assert entry.actor == admin_user
    assert entry.action == LogEntry.Action.CREATE


def test_agency_names_are_unique_whatever_their_case(client, make_user):
    AgencyFactory(name="Police")
    client.force_login(make_user(Role.ADMINISTRATOR))

    response = client.post(
        reverse("hub-settings:agency-add"),
        {"name": "POLICE", "kind": "police", "participation": "virtual", "asked_by_default": "no"},
    )

    assert response.status_code == 200
    assert "There is already an agency called POLICE." in response.content.decode()


def _add_log_entries(n: int, actor) -> None:
    agency_type = ContentType.objects.get_for_model(actor.agency)
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=agency_type,
            object_pk=str(i),
            object_repr=f"Agency {i}",
            action=LogEntry.Action.UPDATE,
            changes={"name": [f"Old {i}", f"Agency {i}"]},
            actor=actor,
        )
        for i in range(n)
    )


@pytest.mark.parametrize("entries", [5, 120])
def test_the_audit_log_runs_a_fixed_number_of_queries(
    client, make_user, django_assert_max_num_queries, entries
):
    auditor = make_user(Role.AUDITOR)
    _add_log_entries(entries, auditor)
    client.force_login(auditor)

    # session, user + agency, groups, agencies for the filter, count, page of entries with
    # actor, agency and type, the read written to the access log (lock, last hash, insert),
    # unread notifications in the header
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audit-log"), {"log": "changes"})

    assert response.status_code == 200
    assert f"Agency {entries - 1}" in response.content.decode()


@pytest.mark.parametrize("agencies", [3, 40])
def test_the_administration_page_runs_a_fixed_number_of_queries(
    client, make_user, django_assert_max_num_queries, agencies
):
    AgencyFactory.create_batch(agencies)
    client.force_login(make_user(Role.ADMINISTRATOR))

    # session, user + agency, groups, agencies with member counts, role counts,
    # hub clock + its opening hours, allowances and coming closures, the deadlines still being
    # updated (open enquiries and open requests behind, enquiries.timing), unread notifications
    with django_assert_max_num_queries(12):
        response = client.get(reverse("administration"))

    assert response.status_code == 200
    assert "Red: 240 minutes, working minutes" in response.content.decode()


@pytest.mark.parametrize("colleagues", [2, 30])
def test_the_agency_inbox_runs_a_fixed_number_of_queries(
    client, make_user, django_assert_max_num_queries, colleagues
):
    practitioner = make_user(Role.PRACTITIONER)
    for _ in range(colleagues):
        make_user(Role.PRACTITIONER, agency=practitioner.agency)
    client.force_login(practitioner)

    # session, user + agency, groups, open requests (count and page), records awaiting a
    # release decision (count and page), requests answered lately, requests withdrawn
    # lately, colleagues, colleagues' groups, unread notifications
    with django_assert_max_num_queries(11):
        response = client.get(reverse("agency-inbox"))

    assert response.status_code == 200
