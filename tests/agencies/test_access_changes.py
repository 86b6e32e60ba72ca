"""Separation of duties for access (issue 16): nobody changes their own roles or agency; giving
someone a role, another agency or their account back is a request that grants nothing until a
second administrator approves it; taking access away applies at once; and every step is in the
access log, which auditors read.

The attack this closes: an administrator of the police agency made themselves a police
practitioner in the admin and read police's sensitive records."""

import threading
import time

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agencies import access
from agencies.models import AccessChange, Role, User
from audit.models import AccessLogEntry
from sharing import firewall
from tests.factories import UserFactory
from tests.sharing.conftest import Hub, make_hub

pytestmark = pytest.mark.django_db


def superuser_administrator(hub: Hub) -> Hub:
    """The Django admin is for superusers only (administrators use the hub settings pages,
    tests/hub_settings/test_people_settings.py): these administrators are superusers too, so
    the admin's own separation of duties is still tested."""
    User.objects.filter(pk=hub.administrator.pk).update(is_superuser=True)
    hub.administrator.is_superuser = True
    return hub


Log = AccessLogEntry.Action
Status = AccessChange.Status
MARKER = "SEPARATION-MARKER-4417"


@pytest.fixture
def hub(db) -> Hub:
    """Police, health and social care, one person in each role, and a sensitive police record
    about the enquiry's child. The hub's administrator is in the police agency."""
    hub = make_hub()
    hub.record("sensitive", marker=MARKER)
    return superuser_administrator(hub)


@pytest.fixture
def approver(hub) -> User:
    """A second administrator."""
    return UserFactory(
        roles=[Role.ADMINISTRATOR], agency=hub.csc, username="second_admin", is_superuser=True
    )


@pytest.fixture
def newcomer(hub) -> User:
    """A police account with no role yet: the kind an administrator could make for themselves."""
    return UserFactory(agency=hub.police, username="newcomer")


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def reads_police_content(user: User) -> bool:
    records = firewall.readable_records(fresh(user))
    return records.filter(detail__contains=MARKER).exists()


def user_form(user: User, **changes) -> dict:
    """The person's admin form as it stands, with `changes`."""
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "job_title": user.job_title,
        "agency": user.agency_id,
        "roles": sorted(user.roles),
        "reason": "",
        "is_active": "on" if user.is_active else "",
    }
    return {**form, **changes}


def edit(client, actor: User, person: User, **changes):
    client.force_login(actor)
    return client.post(
        reverse("admin:agencies_user_change", args=[person.pk]), user_form(person, **changes)
    )


def decide(client, actor: User, change: AccessChange, decision: str, note: str = ""):
    client.force_login(actor)
    url = reverse("admin:agencies_accesschange_decide", args=[change.pk])
    return client.post(url, {"decision": decision, "note": note}, follow=True)


def log_entries(action: str):
    return AccessLogEntry.objects.filter(action=action).order_by("id")


def only_entry(action: str) -> AccessLogEntry:
    (entry,) = log_entries(action)
    return entry


# Nobody changes their own access.


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": [Role.ADMINISTRATOR, Role.PRACTITIONER], "reason": "Covering the desk."},
        {"roles": []},
        {"is_active": ""},
    ],
    ids=["add a role", "remove a role", "deactivate"],
)
def test_an_administrator_cannot_change_their_own_roles(client, hub, changes):
    response = edit(client, hub.administrator, hub.administrator, **changes)

    assert response.status_code == 200
    assert access.OWN_ACCESS in response.content.decode()
    administrator = fresh(hub.administrator)
    assert administrator.roles == {Role.ADMINISTRATOR}
    assert administrator.is_active
    assert not AccessChange.objects.exists()
    assert not reads_police_content(administrator)
    assert not AccessLogEntry.objects.filter(channel=AccessLogEntry.Channel.ADMIN).exists()


def test_an_administrator_cannot_change_their_own_agency(client, hub):
    response = edit(
        client, hub.administrator, hub.administrator, agency=hub.health.pk, reason="Moving."
    )

    assert response.status_code == 200
    assert access.OWN_ACCESS in response.content.decode()
    assert fresh(hub.administrator).agency == hub.police
    assert not AccessChange.objects.exists()


def test_an_administrator_may_still_change_their_own_name(client, hub):
    response = edit(client, hub.administrator, hub.administrator, first_name="Alexandra")

    assert response.status_code == 302
    assert fresh(hub.administrator).first_name == "Alexandra"


def test_superuser_staff_and_single_permissions_cannot_be_set_in_the_admin(client, hub, approver):
    page = client.get(reverse("admin:agencies_user_change", args=[hub.researcher.pk]))
    permission = Permission.objects.get(codename="view_content")
    response = edit(
        client,
        approver,
        hub.researcher,
        is_superuser="on",
        is_staff="on",
        user_permissions=[permission.pk],
        groups=[Group.objects.get(name=Role.ADMINISTRATOR).pk],
    )

    assert response.status_code == 302
    for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{field}"' not in page.content.decode()
    researcher = fresh(hub.researcher)
    assert not researcher.is_superuser
    assert not researcher.is_staff
    assert not researcher.user_permissions.exists()
    assert researcher.roles == {Role.RESEARCHER}


# Giving access: a request, then a second administrator's decision.


def test_a_role_given_to_someone_else_is_a_request_that_grants_nothing(client, hub, newcomer):
    response = edit(
        client,
        hub.administrator,
        newcomer,
        roles=[Role.PRACTITIONER],
        reason="Joins the police desk on Monday.",
    )

    assert response.status_code == 302
    change = AccessChange.objects.get()
    assert (change.account, change.kind, change.role, change.status) == (
        newcomer,
        AccessChange.Kind.ADD_ROLE,
        Role.PRACTITIONER,
        Status.PENDING,
    )
    assert change.requested_by == hub.administrator
    assert not fresh(newcomer).has_role(Role.PRACTITIONER)
    assert not firewall.visible_records(fresh(newcomer)).exists()
    assert not reads_police_content(newcomer)
    entry = only_entry(Log.ACCESS_REQUESTED)
    assert (entry.user, entry.account, entry.channel) == (
        hub.administrator,
        newcomer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert "add role Agency practitioner" in entry.reason
    assert newcomer.username in entry.reason
    assert "Joins the police desk on Monday." in entry.reason
    page = client.get(reverse("admin:agencies_user_change", args=[newcomer.pk]))
    assert "Waiting for another administrator" in page.content.decode()
    assert "Add role Agency practitioner" in page.content.decode()


def test_a_role_is_asked_for_with_a_reason(client, hub, newcomer):
    response = edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER])

    assert response.status_code == 200
    assert "Say why they need this access." in response.content.decode()
    assert not AccessChange.objects.exists()


def test_a_second_administrator_approves_and_the_role_is_given(client, hub, newcomer, approver):
    edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    change = AccessChange.objects.get()

    response = decide(client, approver, change, "approve", note="Checked with police HR.")

    assert response.status_code == 200
    change.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_note) == (
        Status.APPROVED,
        approver,
        "Checked with police HR.",
    )
    assert fresh(newcomer).has_role(Role.PRACTITIONER)
    assert reads_police_content(newcomer)
    entry = only_entry(Log.ACCESS_GRANTED)
    assert (entry.user, entry.account, entry.channel) == (
        approver,
        newcomer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert "Checked with police HR." in entry.reason
    assert "New starter." in entry.reason


def test_the_approve_buttons_are_shown_to_a_second_administrator_only(
    client, hub, newcomer, approver
):
    edit(client, hub.administrator, newcomer, roles=[Role.ANALYST], reason="Reports.")
    change_url = reverse("admin:agencies_accesschange_change", args=[AccessChange.objects.get().pk])

    as_requester = client.get(change_url).content.decode()
    client.force_login(approver)
    as_approver = client.get(change_url).content.decode()

    assert 'value="approve"' not in as_requester
    assert "You asked for this change" in as_requester
    assert 'value="approve"' in as_approver
    assert 'value="decline"' in as_approver


def test_the_requester_cannot_approve_their_own_request(client, hub, newcomer):
    edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    change = AccessChange.objects.get()

    response = decide(client, hub.administrator, change, "approve")

    assert "You asked for this change" in response.content.decode()
    change.refresh_from_db()
    assert change.status == Status.PENDING
    assert not fresh(newcomer).has_role(Role.PRACTITIONER)
    assert not log_entries(Log.ACCESS_GRANTED).exists()


def test_nobody_approves_a_request_about_themselves(client, hub, approver):
    """An administrator asks for a second administrator to become a police practitioner; that
    second administrator cannot approve it."""
    edit(
        client,
        hub.administrator,
        approver,
        roles=[Role.ADMINISTRATOR, Role.PRACTITIONER],
        reason="Covering the police desk.",
    )
    change = AccessChange.objects.get()

    response = decide(client, approver, change, "approve")

    assert "This change is to your own access" in response.content.decode()
    change.refresh_from_db()
    assert change.status == Status.PENDING
    assert not fresh(approver).has_role(Role.PRACTITIONER)


def test_an_administrator_role_needs_a_second_administrator_too(client, hub, newcomer, approver):
    """Otherwise an administrator could make a second account of their own an administrator
    and approve their own requests with it."""
    edit(client, hub.administrator, newcomer, roles=[Role.ADMINISTRATOR], reason="Deputy.")

    assert not fresh(newcomer).has_role(Role.ADMINISTRATOR)
    client.force_login(newcomer)
    assert client.get(reverse("admin:index")).status_code == 302

    decide(client, approver, AccessChange.objects.get(), "approve")

    assert fresh(newcomer).has_role(Role.ADMINISTRATOR)


def test_a_declined_request_grants_nothing(client, hub, newcomer, approver):
    edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    change = AccessChange.objects.get()

    without_a_note = decide(client, approver, change, "decline")
    change.refresh_from_db()
    assert "Say why the change is declined." in without_a_note.content.decode()
    assert change.status == Status.PENDING

    decide(client, approver, change, "decline", note="Not on the police rota.")

    change.refresh_from_db()
    assert (change.status, change.decided_by) == (Status.DECLINED, approver)
    assert not fresh(newcomer).has_role(Role.PRACTITIONER)
    assert not reads_police_content(newcomer)
    entry = only_entry(Log.ACCESS_DECLINED)
    assert (entry.user, entry.account, entry.channel) == (
        approver,
        newcomer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert "Not on the police rota." in entry.reason
    # decided once: nobody approves it afterwards
    assert "already declined" in decide(client, approver, change, "approve").content.decode()
    assert not fresh(newcomer).has_role(Role.PRACTITIONER)


def test_a_new_account_is_made_with_its_agency_and_no_roles_or_password(client, hub):
    """The administrator who makes it never knows a password for it: a second administrator's
    approval gives the set-up code (tests/agencies/test_account_resets.py)."""
    client.force_login(hub.administrator)
    response = client.post(
        reverse("admin:agencies_user_add"),
        {
            "username": "fresh_start",
            "first_name": "Fran",
            "last_name": "Start",
            "email": "fran@example.invalid",
            "agency": hub.police.pk,
            "roles": [Role.PRACTITIONER, Role.MANAGER],
            "reason": "New police officer in the hub.",
            "password1": "Chosen-by-the-admin-2026",
            "password2": "Chosen-by-the-admin-2026",
        },
    )

    assert response.status_code == 302
    person = User.objects.get(username="fresh_start")
    assert person.agency == hub.police
    assert person.roles == frozenset()
    assert not person.has_usable_password()
    assert set(
        AccessChange.objects.filter(account=person, status=Status.PENDING).values_list(
            "kind", "role"
        )
    ) == {
        (AccessChange.Kind.ADD_ROLE, Role.PRACTITIONER),
        (AccessChange.Kind.ADD_ROLE, Role.MANAGER),
        (AccessChange.Kind.RESET_PASSWORD, ""),
    }
    assert log_entries(Log.ACCESS_REQUESTED).filter(account=person).count() == 3


def test_a_new_account_is_made_with_a_reason(client, hub):
    client.force_login(hub.administrator)
    response = client.post(
        reverse("admin:agencies_user_add"),
        {"username": "no_reason", "agency": hub.police.pk, "email": "n@example.invalid"},
    )

    assert response.status_code == 200
    assert "Say why they need an account." in response.content.decode()
    assert not User.objects.filter(username="no_reason").exists()


def test_a_move_to_another_agency_waits_then_takes_the_old_agencys_information_away(
    client, hub, approver
):
    officer = hub.police_officer
    assert reads_police_content(officer)

    edit(client, hub.administrator, officer, agency=hub.health.pk, reason="Seconded to health.")

    assert fresh(officer).agency == hub.police
    assert reads_police_content(officer)
    change = AccessChange.objects.get()
    assert (change.kind, change.agency) == (AccessChange.Kind.MOVE_AGENCY, hub.health)

    decide(client, approver, change, "approve")

    assert fresh(officer).agency == hub.health
    assert not reads_police_content(officer)
    entry = only_entry(Log.ACCESS_GRANTED)
    assert (entry.user, entry.account) == (approver, officer)
    assert f"move to {hub.health}" in entry.reason


def test_removing_a_role_applies_at_once(client, hub):
    officer = hub.police_officer

    response = edit(client, hub.administrator, officer, roles=[], reason="Left the desk.")

    assert response.status_code == 302
    assert fresh(officer).roles == frozenset()
    assert not reads_police_content(officer)
    assert not AccessChange.objects.exists()
    entry = only_entry(Log.ACCESS_REMOVED)
    assert (entry.user, entry.account, entry.channel) == (
        hub.administrator,
        officer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert entry.reason.endswith(
        f"remove role Agency practitioner. By {hub.administrator}: Left the desk."
    )


@pytest.mark.parametrize(
    "changes", [{"roles": []}, {"is_active": ""}], ids=["remove a role", "deactivate"]
)
def test_access_is_not_taken_away_without_saying_why(client, hub, changes):
    officer = hub.police_officer

    response = edit(client, hub.administrator, officer, **changes)

    assert response.status_code == 200
    assert "Say why their access changes." in response.content.decode()
    assert fresh(officer).roles == {Role.PRACTITIONER}
    assert fresh(officer).is_active
    assert not AccessLogEntry.objects.filter(channel=AccessLogEntry.Channel.ADMIN).exists()


def test_a_deactivated_account_comes_back_only_through_a_request(client, hub, approver):
    officer = hub.police_officer

    edit(client, hub.administrator, officer, is_active="", reason="On long-term leave.")
    assert not fresh(officer).is_active
    assert not reads_police_content(officer)
    assert only_entry(Log.ACCESS_REMOVED).reason.endswith(
        f"deactivate the account. By {hub.administrator}: On long-term leave."
    )

    edit(client, hub.administrator, fresh(officer), is_active="on", reason="Back from leave.")
    assert not fresh(officer).is_active
    change = AccessChange.objects.get()
    assert change.kind == AccessChange.Kind.REACTIVATE

    decide(client, approver, change, "approve")
    assert fresh(officer).is_active
    assert reads_police_content(officer)


def test_auditors_see_each_step_on_the_audit_page(client, hub, newcomer, approver):
    edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    decide(client, approver, AccessChange.objects.get(), "approve")
    edit(client, hub.administrator, fresh(newcomer), roles=[], reason="Left the team.")

    client.force_login(hub.auditor)
    page = client.get(reverse("audit-log")).content.decode()

    for label in ("Access change requested", "Access change approved", "Access removed"):
        assert label in page
    assert escape(f"{newcomer} ({newcomer.username}, {hub.police})") in page


# The rules hold below the admin too.


def test_the_services_refuse_what_the_pages_refuse(hub, newcomer, approver):
    with pytest.raises(PermissionDenied):
        access.access_change_request(
            account=hub.administrator,
            actor=hub.administrator,
            kind=AccessChange.Kind.ADD_ROLE,
            role=Role.PRACTITIONER,
            reason="Myself.",
        )
    with pytest.raises(PermissionDenied):
        access.access_change_request(
            account=newcomer,
            actor=hub.manager,
            kind=AccessChange.Kind.ADD_ROLE,
            role=Role.PRACTITIONER,
            reason="Not an administrator.",
        )
    change = access.access_change_request(
        account=newcomer,
        actor=hub.administrator,
        kind=AccessChange.Kind.ADD_ROLE,
        role=Role.PRACTITIONER,
        reason="New starter.",
    )
    with pytest.raises(ValidationError):
        access.access_change_request(
            account=newcomer,
            actor=approver,
            kind=AccessChange.Kind.ADD_ROLE,
            role=Role.PRACTITIONER,
            reason="Again.",
        )
    for actor in (hub.administrator, newcomer, hub.manager):
        with pytest.raises(PermissionDenied):
            access.access_change_approve(change_id=change.pk, actor=actor)


def test_the_database_refuses_a_change_decided_by_its_requester(hub, newcomer):
    change = access.access_change_request(
        account=newcomer,
        actor=hub.administrator,
        kind=AccessChange.Kind.ADD_ROLE,
        role=Role.PRACTITIONER,
        reason="New starter.",
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessChange.objects.filter(pk=change.pk).update(
            status=Status.APPROVED, decided_by=hub.administrator, decided_at=timezone.now()
        )


def test_approving_twice_applies_once(client, hub, newcomer, approver):
    """A double click: the second finds the request decided."""
    edit(client, hub.administrator, newcomer, roles=[Role.PRACTITIONER], reason="New starter.")
    change = AccessChange.objects.get()

    decide(client, approver, change, "approve")
    again = decide(client, approver, change, "approve")

    assert "already approved" in again.content.decode()
    assert log_entries(Log.ACCESS_GRANTED).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_administrators_approving_at_once_apply_it_once(migration_data):
    hub = make_hub()
    newcomer = UserFactory(agency=hub.police, username="newcomer")
    approvers = [
        UserFactory(roles=[Role.ADMINISTRATOR], agency=hub.csc, username=f"approver{n}")
        for n in (1, 2)
    ]
    change = access.access_change_request(
        account=newcomer,
        actor=hub.administrator,
        kind=AccessChange.Kind.ADD_ROLE,
        role=Role.PRACTITIONER,
        reason="New starter.",
    )
    outcomes: dict[str, str] = {}
    first_holds, release = threading.Event(), threading.Event()

    def approve(name: str, actor: User) -> None:
        try:
            access.access_change_approve(change_id=change.pk, actor=actor)
            outcomes[name] = "approved"
        except ValidationError:
            outcomes[name] = "refused"

    def first() -> None:
        try:
            with transaction.atomic():
                approve("first", approvers[0])
                first_holds.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_holds.wait(timeout=10)
            approve("second", approvers[1])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    # Let the first commit once the second is waiting on its lock.
    first_holds.wait(timeout=10)
    waited = False
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            waited = bool(cursor.fetchone()[0])
        if waited:
            break
        time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(timeout=20)

    assert waited, "the second approval never waited for the first's lock"
    assert outcomes == {"first": "approved", "second": "refused"}
    assert AccessLogEntry.objects.filter(action=Log.ACCESS_GRANTED).count() == 1
    assert User.objects.get(pk=newcomer.pk).has_role(Role.PRACTITIONER)
