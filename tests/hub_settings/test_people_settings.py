"""Hub settings: people and roles as GOV.UK pages (issue 22 item 7). Access changes through
the same services as the administration site: giving access is a request a second
administrator approves, taking it away applies at once, and the access log has each step
exactly as the admin writes it (tests/agencies/test_access_changes.py)."""

import pytest
from django.urls import reverse

from agencies import access
from agencies.models import AccessChange, Role, User
from audit.models import AccessLogEntry
from enquiries.models import HubSettingsChange
from tests.factories import PASSWORD, AgencyFactory, UserFactory
from tests.sharing.conftest import Hub, make_hub
from tests.two_factor import app_for

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
Status = AccessChange.Status


@pytest.fixture
def hub(db) -> Hub:
    return make_hub()


@pytest.fixture
def approver(hub) -> User:
    return UserFactory(roles=[Role.ADMINISTRATOR], agency=hub.csc, username="second_admin")


@pytest.fixture
def newcomer(hub) -> User:
    return UserFactory(agency=hub.police, username="newcomer", first_name="Nia", last_name="New")


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def change_form(client, person: User, **changes) -> dict:
    """The person's change form as the page gives it, with `changes`."""
    form = client.get(reverse("hub-settings:person-change", args=[person.pk])).context["form"]
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "job_title": person.job_title,
        "agency": person.agency_id,
        "roles": sorted(person.roles),
        "is_active": "active" if person.is_active else "inactive",
        "reason": "",
        "seen": form.initial["seen"],
    }
    return {**data, **changes}


def change(client, actor: User, person: User, **changes):
    """Fill in the form, check the change, then save it: the check page and the response."""
    client.force_login(actor)
    url = reverse("hub-settings:person-change", args=[person.pk])
    data = change_form(client, person, **changes)
    check = client.post(url, data)
    return check, client.post(url, {**data, "confirm": "1"})


def entries(action: str):
    return AccessLogEntry.objects.filter(action=action).order_by("id")


def admin_edit(client, actor: User, person: User, **changes):
    client.force_login(actor)
    form = {
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "job_title": person.job_title,
        "agency": person.agency_id,
        "roles": sorted(person.roles),
        "reason": "",
        "is_active": "on" if person.is_active else "",
        **changes,
    }
    return client.post(reverse("admin:agencies_user_change", args=[person.pk]), form)


def test_the_list_shows_people_with_agency_and_roles_and_filters(client, hub):
    client.force_login(hub.administrator)

    everyone = client.get(reverse("hub-settings:people")).content.decode()
    police = client.get(reverse("hub-settings:people"), {"agency": hub.police.pk})
    managers = client.get(reverse("hub-settings:people"), {"role": Role.MANAGER})

    assert "police_officer" in everyone and "health_visitor" in everyone
    assert [person.username for person in police.context["page"]] == [
        person.username
        for person in User.objects.filter(agency=hub.police).order_by(
            "last_name", "first_name", "username"
        )
    ]
    assert [person.username for person in managers.context["page"]] == ["manager"]
    assert "Manager" in managers.content.decode()


@pytest.mark.parametrize("people", [3, 60])
def test_the_list_takes_the_same_queries_however_many_people(
    client, hub, django_assert_max_num_queries, people
):
    for n in range(people):
        UserFactory(agency=AgencyFactory(name=f"Agency {n % 7}"), roles=[Role.PRACTITIONER])
    client.force_login(hub.administrator)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("hub-settings:people"), {"role": Role.PRACTITIONER})

    assert response.status_code == 200
    assert len(response.context["page"]) == min(50, people + 2)


def test_adding_a_person_asks_for_their_roles_and_a_set_up_code(client, hub):
    client.force_login(hub.administrator)
    url = reverse("hub-settings:person-add")
    data = {
        "username": "fresh_start",
        "first_name": "Fran",
        "last_name": "Start",
        "email": "fran@example.invalid",
        "agency": hub.police.pk,
        "roles": [Role.PRACTITIONER, Role.MANAGER],
        "reason": "New police officer in the hub.",
    }

    check = client.post(url, data).content.decode()
    assert "Check the change" in check
    assert not User.objects.filter(username="fresh_start").exists()

    response = client.post(url, {**data, "confirm": "1"})

    assert response.status_code == 302
    person = User.objects.get(username="fresh_start")
    assert person.agency == hub.police
    assert person.roles == frozenset()
    assert not person.has_usable_password()
    assert set(
        AccessChange.objects.filter(account=person, status=Status.PENDING).values_list(
            "kind", "role", "requested_by", "reason"
        )
    ) == {
        (AccessChange.Kind.ADD_ROLE, Role.PRACTITIONER, hub.administrator.pk, data["reason"]),
        (AccessChange.Kind.ADD_ROLE, Role.MANAGER, hub.administrator.pk, data["reason"]),
        (AccessChange.Kind.RESET_PASSWORD, "", hub.administrator.pk, data["reason"]),
    }
    requested = entries(Log.ACCESS_REQUESTED).filter(account=person)
    assert requested.count() == 3
    assert set(requested.values_list("user", "channel")) == {
        (hub.administrator.pk, AccessLogEntry.Channel.ADMIN)
    }


def test_each_field_of_a_new_person_says_what_is_wrong(client, hub):
    client.force_login(hub.administrator)

    response = client.post(
        reverse("hub-settings:person-add"),
        {"username": "Police_Officer", "email": "not an address", "roles": ["wizard"]},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Add a person" in page
    for message in (
        "That username is taken: choose another.",
        "Enter their first name.",
        "Enter their last name.",
        "Enter an email address in the correct format, like name@example.org.",
        "Choose their agency.",
        "Choose roles from the list.",
        "Say why they need an account.",
    ):
        assert message in page.replace("&#x27;", "'")
    assert 'href="#id_roles_0"' in page
    assert User.objects.filter(username__iexact="police_officer").count() == 1


def test_a_role_given_is_a_request_logged_exactly_as_the_admin_logs_it(client, hub, newcomer):
    """The same change through the admin (a superuser's now), for a second person, writes the
    same rows."""
    User.objects.filter(pk=hub.administrator.pk).update(is_superuser=True)
    twin = UserFactory(agency=hub.police, username="twin", first_name="Tam", last_name="Twin")

    check, saved = change(
        client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter."
    )
    admin_edit(client, hub.administrator, twin, roles=[Role.PRACTITIONER], reason="New starter.")

    assert "Asks for: add role Agency practitioner" in check.content.decode()
    assert saved.status_code == 302
    assert not fresh(newcomer).has_role(Role.PRACTITIONER)
    ours, theirs = (AccessChange.objects.get(account=person) for person in (newcomer, twin))
    assert (ours.kind, ours.role, ours.status, ours.requested_by, ours.reason) == (
        theirs.kind,
        theirs.role,
        theirs.status,
        theirs.requested_by,
        theirs.reason,
    )
    ours_log, theirs_log = (
        entries(Log.ACCESS_REQUESTED).get(account=person) for person in (newcomer, twin)
    )
    assert (ours_log.user, ours_log.channel) == (theirs_log.user, theirs_log.channel)
    assert ours_log.reason == theirs_log.reason.replace(
        f"{twin} ({twin.username}", f"{newcomer} ({newcomer.username}"
    )
    assert ours_log.reason == (
        f"Nia New (newcomer, {hub.police}): add role Agency practitioner. Requested by "
        f"{hub.administrator}: New starter."
    )


def test_every_change_of_access_needs_a_reason(client, hub):
    client.force_login(hub.administrator)
    url = reverse("hub-settings:person-change", args=[hub.police_officer.pk])

    response = client.post(url, change_form(client, hub.police_officer, roles=[]))

    assert "Say why their access changes." in response.content.decode()
    assert fresh(hub.police_officer).roles == {Role.PRACTITIONER}


def test_removing_a_role_applies_at_once_and_is_logged(client, hub):
    check, saved = change(
        client, hub.administrator, hub.police_officer, roles=[], reason="Left the desk."
    )

    assert "They lose Agency practitioner at once" in check.content.decode()
    assert saved.status_code == 302
    assert fresh(hub.police_officer).roles == frozenset()
    (entry,) = entries(Log.ACCESS_REMOVED)
    assert (entry.user, entry.account, entry.channel) == (
        hub.administrator,
        hub.police_officer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert entry.reason == (
        f"{hub.police_officer} (police_officer, {hub.police}): remove role Agency "
        f"practitioner. By {hub.administrator}: Left the desk."
    )


def test_nobody_changes_their_own_access(client, hub):
    check, saved = change(
        client,
        hub.administrator,
        hub.administrator,
        roles=[Role.ADMINISTRATOR, Role.PRACTITIONER],
        reason="Covering the desk.",
    )

    assert access.OWN_ACCESS in saved.content.decode().replace("&#x27;", "'")
    assert fresh(hub.administrator).roles == {Role.ADMINISTRATOR}
    assert not AccessChange.objects.exists()


def test_a_deactivated_person_cannot_sign_in(client, hub):
    officer = hub.police_officer

    check, saved = change(
        client, hub.administrator, officer, is_active="inactive", reason="Left the force."
    )

    assert "They can no longer sign in" in check.content.decode()
    assert saved.status_code == 302
    assert not fresh(officer).is_active
    assert (
        entries(Log.ACCESS_REMOVED)
        .get()
        .reason.endswith(f"deactivate the account. By {hub.administrator}: Left the force.")
    )
    client.logout()
    signing_in = client.post(reverse("login"), {"username": officer.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert signing_in.status_code == 200


def test_reactivating_and_moving_are_requests(client, hub, approver):
    officer = hub.police_officer
    change(client, hub.administrator, officer, is_active="inactive", reason="Leave.")

    _, saved = change(
        client,
        hub.administrator,
        fresh(officer),
        is_active="active",
        agency=hub.health.pk,
        reason="Back, seconded to health.",
    )

    assert saved.status_code == 302
    officer = fresh(officer)
    assert (officer.is_active, officer.agency) == (False, hub.police)
    assert set(AccessChange.objects.values_list("kind", "agency")) == {
        (AccessChange.Kind.REACTIVATE, None),
        (AccessChange.Kind.MOVE_AGENCY, hub.health.pk),
    }


def test_a_change_made_meanwhile_is_refused(client, hub, approver):
    client.force_login(hub.administrator)
    url = reverse("hub-settings:person-change", args=[hub.police_officer.pk])
    data = change_form(client, hub.police_officer, roles=[], reason="Left the desk.")
    # A second administrator asks for a role for them after this form was opened.
    access.access_change_request(
        account=hub.police_officer,
        actor=approver,
        kind=AccessChange.Kind.ADD_ROLE,
        role=Role.ANALYST,
        reason="Reports.",
    )

    response = client.post(url, {**data, "confirm": "1"})

    assert response.status_code == 409
    assert "Nothing was saved" in response.content.decode()
    assert fresh(hub.police_officer).roles == {Role.PRACTITIONER}
    assert not entries(Log.ACCESS_REMOVED).exists()


def test_a_second_administrator_approves_a_request_on_its_page(client, hub, newcomer, approver):
    change(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    request = AccessChange.objects.get()
    url = reverse("hub-settings:access-change", args=[request.pk])

    as_requester = client.get(url).content.decode()
    refused = client.post(url, {"decision": "approve"})
    client.force_login(approver)
    no_note = client.post(url, {"decision": "decline"})
    approved = client.post(url, {"decision": "approve", "note": "Checked with police HR."})

    assert "You asked for this change" in as_requester
    assert 'name="decision"' not in as_requester
    assert "You asked for this change" in refused.content.decode()
    assert "Say why the change is declined." in no_note.content.decode()
    assert approved.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_note) == (
        Status.APPROVED,
        approver,
        "Checked with police HR.",
    )
    assert fresh(newcomer).has_role(Role.PRACTITIONER)
    (granted,) = entries(Log.ACCESS_GRANTED)
    assert (granted.user, granted.account, granted.channel) == (
        approver,
        newcomer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert granted.reason.endswith("Approved by second_admin: Checked with police HR.") or (
        "Checked with police HR." in granted.reason
    )


def test_a_password_reset_is_asked_for_and_its_code_shown_once_to_the_approver(
    client, hub, approver
):
    officer = hub.police_officer
    client.force_login(hub.administrator)
    url = reverse("hub-settings:person-reset", args=[officer.pk, "password"])

    no_reason = client.post(url, {})
    check = client.post(url, {"reason": "Rang from the desk; I know her voice."})
    client.post(url, {"reason": "Rang from the desk; I know her voice.", "confirm": "1"})

    assert "Say why they need it reset." in no_reason.content.decode()
    assert "their password stops working at once" in check.content.decode()
    request = AccessChange.objects.get()
    assert (request.kind, request.account, request.status) == (
        AccessChange.Kind.RESET_PASSWORD,
        officer,
        Status.PENDING,
    )
    assert fresh(officer).has_usable_password()

    client.force_login(approver)
    shown = client.post(
        reverse("hub-settings:access-change", args=[request.pk]), {"decision": "approve"}
    )

    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"] or "no-cache" in shown["Cache-Control"]
    code = shown.context["code"]
    assert code in shown.content.decode()
    assert not fresh(officer).has_usable_password()
    again = client.get(reverse("hub-settings:access-change", args=[request.pk]))
    assert code not in again.content.decode()


def test_a_two_factor_reset_needs_an_app_to_reset(client, hub):
    client.force_login(hub.administrator)
    url = reverse("hub-settings:person-reset", args=[hub.police_officer.pk, "two-factor"])

    without_app = client.post(url, {"reason": "Lost phone."}).content.decode()
    app_for(hub.police_officer)
    client.post(url, {"reason": "Lost phone.", "confirm": "1"})

    assert "has no two-factor sign-in to reset" in without_app
    assert AccessChange.objects.get().kind == AccessChange.Kind.RESET_TWO_FACTOR


def test_an_administrator_sees_no_case_content_on_these_pages(client, hub):
    client.force_login(hub.administrator)
    concern = hub.enquiry.concern

    for name in ("hub-settings:people", "hub-settings:access-changes"):
        assert concern not in client.get(reverse(name)).content.decode()
    page = client.get(reverse("hub-settings:person-change", args=[hub.researcher.pk]))
    assert concern not in page.content.decode()
    assert hub.enquiry.reference not in page.content.decode()


def test_a_saved_change_is_in_the_history_of_hub_settings(client, hub):
    change(client, hub.administrator, hub.police_officer, roles=[], reason="Left the desk.")

    saved = HubSettingsChange.objects.get()
    assert (saved.area, saved.changed_by, saved.reason) == (
        HubSettingsChange.Area.PEOPLE,
        hub.administrator,
        "Left the desk.",
    )
    assert saved.changes == [["Roles", "Agency practitioner", "None"]]
    assert saved.effect == "They lose Agency practitioner at once: this needs no approval."
