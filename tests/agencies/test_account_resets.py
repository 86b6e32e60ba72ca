"""Separation of duties for signing in: no administrator sets another person's password or
removes their two-factor sign-in alone. Either is a request a second administrator approves; an
approved password reset makes the password unusable and shows a one-time set-up code to the
approving administrator alone, with which the person chooses a new password; every step is in
the access log. The hub's first administrators come from a command that works only while there
are none.

The attack this closes: an administrator reset a police practitioner's password in the admin,
reset their two-factor with the people list's action, signed in as them and read police's
sensitive records."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import access, set_up_codes, two_factor
from agencies.models import AccessChange, Agency, Role, SetUpCode, User
from audit.models import AccessLogEntry, AccountEvent
from tests.factories import PASSWORD, UserFactory
from tests.sharing.conftest import Hub, make_hub
from tests.two_factor import app_for

pytestmark = pytest.mark.django_db


def superuser_administrator(hub: Hub) -> Hub:
    """The Django admin is for superusers only (administrators use the hub settings pages,
    tests/hub_settings/test_people_settings.py): these administrators are superusers too, so
    the admin's own separation of duties is still tested."""
    User.objects.filter(pk=hub.administrator.pk).update(is_superuser=True)
    hub.administrator.is_superuser = True
    return hub


Log = AccessLogEntry.Action
Kind = AccessChange.Kind
Status = AccessChange.Status
NEW_PASSWORD = "a-new-and-longer-passphrase-2026"
TAKEOVER_PASSWORD = "Chosen-by-the-administrator-1"  # noqa: S105


@pytest.fixture
def hub(db) -> Hub:
    return superuser_administrator(make_hub())


@pytest.fixture
def approver(hub) -> User:
    return UserFactory(
        roles=[Role.ADMINISTRATOR], agency=hub.csc, username="second_admin", is_superuser=True
    )


@pytest.fixture
def officer(hub) -> User:
    """A police practitioner with an authenticator app and backup codes, signed in on a phone."""
    officer = hub.police_officer
    app_for(officer)
    two_factor.issue_backup_codes(user=officer)
    return officer


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def password_page(person: User) -> str:
    return reverse("admin:auth_user_password_change", args=[person.pk])


def ask_password_reset(client, actor: User, person: User, reason: str = "Forgot it; rang in."):
    client.force_login(actor)
    return client.post(password_page(person), {"confirm": "yes", "reason": reason})


def ask_two_factor_reset(client, actor: User, people, reason: str = "Lost phone; rang in."):
    client.force_login(actor)
    return client.post(
        reverse("admin:agencies_user_changelist"),
        {
            "action": "reset_two_factor",
            "_selected_action": [person.pk for person in people],
            "confirm": "yes",
            "reason": reason,
        },
    )


def decide(client, actor: User, change: AccessChange, decision: str, note: str = ""):
    client.force_login(actor)
    url = reverse("admin:agencies_accesschange_decide", args=[change.pk])
    return client.post(url, {"decision": decision, "note": note}, follow=True)


def shown_code(response) -> str:
    found = re.search(r'data-testid="the-code">([0-9A-Z-]+)<', response.content.decode())
    assert found, "no set-up code on the page"
    return found.group(1)


def set_up(client, username: str, code: str, password: str = NEW_PASSWORD):
    return client.post(
        reverse("set-up-code"),
        {
            "username": username,
            "code": code,
            "new_password1": password,
            "new_password2": password,
        },
    )


def sessions_of(user: User) -> list[Session]:
    return [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def entries(action: str):
    return AccessLogEntry.objects.filter(action=action).order_by("id")


# One administrator alone changes nothing.


def test_the_admin_password_page_for_someone_else_sets_no_password(client, hub, officer):
    client.force_login(hub.administrator)
    page = client.get(password_page(officer))
    # Django's own form, as posted to its page: it is not there to take it.
    django_form = client.post(
        password_page(officer),
        {
            "password1": TAKEOVER_PASSWORD,
            "password2": TAKEOVER_PASSWORD,
            "usable_password": "true",
            "set-password": "",
        },
    )

    assert page.status_code == 200
    assert 'type="password"' not in page.content.decode()
    assert escape("Nobody sets another person's password") in page.content.decode()
    assert django_form.status_code == 200
    assert "Say why they need it reset." in django_form.content.decode()
    officer = fresh(officer)
    assert officer.check_password(PASSWORD)
    assert not officer.check_password(TAKEOVER_PASSWORD)
    assert not AccessChange.objects.exists()
    assert authenticate(username=officer.username, password=TAKEOVER_PASSWORD) is None


def test_the_admin_password_page_asks_for_a_reset_which_changes_nothing_yet(client, hub, officer):
    phone = Client()
    phone.force_login(officer)

    response = ask_password_reset(client, hub.administrator, officer, "Forgot it; rang in.")

    assert response.status_code == 302
    change = AccessChange.objects.get()
    assert (change.account, change.kind, change.status, change.requested_by) == (
        officer,
        Kind.RESET_PASSWORD,
        Status.PENDING,
        hub.administrator,
    )
    assert fresh(officer).check_password(PASSWORD)
    assert sessions_of(officer)
    assert not SetUpCode.objects.exists()
    (entry,) = entries(Log.ACCESS_REQUESTED)
    assert (entry.user, entry.account, entry.channel) == (
        hub.administrator,
        officer,
        AccessLogEntry.Channel.ADMIN,
    )
    assert "reset the password" in entry.reason and "Forgot it; rang in." in entry.reason
    person_page = client.get(reverse("admin:agencies_user_change", args=[officer.pk]))
    assert "Reset the password" in person_page.content.decode()


def test_the_user_form_has_no_password_to_set(client, hub, officer):
    client.force_login(hub.administrator)

    page = client.get(reverse("admin:agencies_user_change", args=[officer.pk])).content.decode()
    add_page = client.get(reverse("admin:agencies_user_add")).content.decode()

    assert 'type="password"' not in page
    assert 'type="password"' not in add_page
    assert "Ask for a password reset" in page
    # A password (or its hash) posted with the form is not taken.
    hashed = User(username="x")
    hashed.set_password(TAKEOVER_PASSWORD)
    saved = client.post(
        reverse("admin:agencies_user_change", args=[officer.pk]),
        {
            "username": officer.username,
            "email": officer.email,
            "agency": officer.agency_id,
            "roles": sorted(officer.roles),
            "is_active": "on",
            "password": hashed.password,
            "password1": TAKEOVER_PASSWORD,
            "password2": TAKEOVER_PASSWORD,
        },
    )
    assert saved.status_code == 302
    assert fresh(officer).check_password(PASSWORD)


def test_an_administrator_changes_their_own_password_only_on_their_account_page(client, hub):
    client.force_login(hub.administrator)

    page = client.get(password_page(hub.administrator))
    posted = client.post(
        password_page(hub.administrator),
        {"password1": TAKEOVER_PASSWORD, "password2": TAKEOVER_PASSWORD, "reason": "Mine."},
    )

    assert page.status_code == posted.status_code == 302
    assert page["Location"] == posted["Location"] == reverse("password-change")
    assert fresh(hub.administrator).check_password(PASSWORD)
    assert not AccessChange.objects.exists()
    # The account page asks for the current password.
    own = client.get(reverse("password-change")).content.decode()
    assert 'name="old_password"' in own


def test_the_reset_two_factor_action_alone_changes_nothing_but_a_request(client, hub, officer):
    client.force_login(hub.administrator)
    changelist = reverse("admin:agencies_user_changelist")
    chosen = {"action": "reset_two_factor", "_selected_action": [officer.pk]}

    confirm_page = client.post(changelist, chosen)
    without_a_reason = client.post(changelist, {**chosen, "confirm": "yes"})
    asked = ask_two_factor_reset(client, hub.administrator, [officer], "Lost phone; rang in.")

    assert confirm_page.status_code == without_a_reason.status_code == 200
    assert 'name="reason"' in confirm_page.content.decode()
    assert "Say why they need it reset." in without_a_reason.content.decode()
    assert asked.status_code == 302
    assert TOTPDevice.objects.filter(user=officer, confirmed=True).exists()
    assert StaticDevice.objects.filter(user=officer).exists()
    change = AccessChange.objects.get()
    assert (change.kind, change.account, change.status) == (
        Kind.RESET_TWO_FACTOR,
        officer,
        Status.PENDING,
    )
    (entry,) = entries(Log.ACCESS_REQUESTED)
    assert (entry.user, entry.account) == (hub.administrator, officer)
    assert "reset two-factor sign-in" in entry.reason and "Lost phone; rang in." in entry.reason


def test_nobody_asks_for_their_own_reset_or_one_with_nothing_to_reset(client, hub, officer):
    ask_two_factor_reset(client, hub.administrator, [hub.administrator])
    nothing_set_up = UserFactory(agency=hub.police, username="no_app_yet")
    ask_two_factor_reset(client, hub.administrator, [nothing_set_up])

    assert not AccessChange.objects.exists()
    assert not AccessLogEntry.objects.filter(channel=AccessLogEntry.Channel.ADMIN).exists()
    assert TOTPDevice.objects.filter(user=hub.administrator).exists()


@pytest.mark.parametrize("kind", [Kind.RESET_PASSWORD, Kind.RESET_TWO_FACTOR])
def test_the_requester_cannot_approve_a_reset(client, hub, officer, kind):
    if kind == Kind.RESET_PASSWORD:
        ask_password_reset(client, hub.administrator, officer)
    else:
        ask_two_factor_reset(client, hub.administrator, [officer])
    change = AccessChange.objects.get()

    response = decide(client, hub.administrator, change, "approve")

    assert "You asked for this change" in response.content.decode()
    assert 'data-testid="the-code"' not in response.content.decode()
    change.refresh_from_db()
    assert change.status == Status.PENDING
    assert fresh(officer).check_password(PASSWORD)
    assert TOTPDevice.objects.filter(user=officer).exists()
    assert not SetUpCode.objects.exists()
    assert not entries(Log.ACCESS_GRANTED).exists()


def test_the_person_cannot_approve_their_own_reset(client, hub, approver):
    app_for(approver)
    ask_two_factor_reset(client, hub.administrator, [approver])

    response = decide(client, approver, AccessChange.objects.get(), "approve")

    assert "This change is to your own access" in response.content.decode()
    assert TOTPDevice.objects.filter(user=approver).exists()


# A second administrator approves, and the person chooses their own password.


def test_an_approved_password_reset_shows_the_approver_a_set_up_code_once(
    client, hub, officer, approver
):
    phone = Client()
    phone.force_login(officer)
    ask_password_reset(client, hub.administrator, officer)
    change = AccessChange.objects.get()

    approved = decide(client, approver, change, "approve", note="Called them back.")

    code = shown_code(approved)
    officer = fresh(officer)
    assert not officer.has_usable_password()
    assert not officer.check_password(PASSWORD)
    assert not sessions_of(officer)
    assert phone.get(reverse("triage-queue")).status_code == 302
    # Their two-factor sign-in is as it was.
    assert TOTPDevice.objects.filter(user=officer, confirmed=True).exists()
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (Status.APPROVED, approver)
    issued = SetUpCode.objects.get()
    assert (issued.account, issued.issued_to, issued.access_change) == (officer, approver, change)
    assert issued.digest == set_up_codes.digest_of(code) and code not in issued.digest
    assert issued.expires_at == issued.issued_at + set_up_codes.VALID_FOR
    (entry,) = entries(Log.ACCESS_GRANTED)
    assert (entry.user, entry.account) == (approver, officer)
    assert "Called them back." in entry.reason
    assert f"set-up code was shown to {approver}" in entry.reason
    # Shown once: nowhere again, not to the approver, not to the requester, not in any log.
    change_page = reverse("admin:agencies_accesschange_change", args=[change.pk])
    assert code not in client.get(change_page).content.decode()
    client.force_login(hub.administrator)
    assert code not in client.get(change_page).content.decode()
    client.force_login(hub.auditor)
    assert code not in client.get(reverse("audit-log")).content.decode()
    assert not AccessLogEntry.objects.filter(reason__contains=code).exists()
    assert not AccountEvent.objects.filter(detail__contains=code).exists()


def test_the_person_chooses_a_new_password_with_the_code_once(client, hub, officer, approver):
    ask_password_reset(client, hub.administrator, officer)
    code = shown_code(decide(client, approver, AccessChange.objects.get(), "approve"))
    person = Client()

    page = person.get(reverse("set-up-code"))
    weak = set_up(person, officer.username, code, password="12345")
    chosen = set_up(person, officer.username, code.lower().replace("-", " "))
    again = set_up(person, officer.username, code, password="yet-another-passphrase-99")

    assert page.status_code == 200
    assert weak.status_code == 400
    assert chosen.status_code == 302 and chosen["Location"] == reverse("login")
    assert again.status_code == 400
    assert set_up_codes.WRONG_CODE in again.content.decode()
    officer = fresh(officer)
    assert officer.check_password(NEW_PASSWORD)
    assert SetUpCode.objects.get().used_at is not None
    kinds = list(officer.account_events.values_list("kind", flat=True))
    assert kinds.count(AccountEvent.Kind.SET_UP_CODE_USED) == 1
    assert kinds.count(AccountEvent.Kind.SET_UP_CODE_REFUSED) == 1
    # Signing in is as always: the password, then a code from their own app.
    signed_in = person.post(
        reverse("login"), {"username": officer.username, "password": NEW_PASSWORD}
    )
    assert signed_in["Location"].startswith(reverse("two-factor"))
    assert person.get(signed_in["Location"]).status_code == 200


def test_a_set_up_code_stops_after_wrong_tries_or_when_it_expires(client, hub, officer, approver):
    ask_password_reset(client, hub.administrator, officer)
    code = shown_code(decide(client, approver, AccessChange.objects.get(), "approve"))
    person = Client()

    for _ in range(SetUpCode.MAX_FAILED_ATTEMPTS):
        assert set_up(person, officer.username, "0000-0000-0000-0000").status_code == 400
    spent = set_up(person, officer.username, code)

    assert spent.status_code == 400
    assert not fresh(officer).has_usable_password()

    SetUpCode.objects.update(failed_attempts=0, expires_at=timezone.now() - timedelta(seconds=1))
    assert set_up(person, officer.username, code).status_code == 400
    assert not fresh(officer).has_usable_password()
    # Another person's username with this code is no way in either.
    assert set_up(person, hub.researcher.username, code).status_code == 400
    assert fresh(hub.researcher).check_password(PASSWORD)


def test_a_later_code_replaces_the_earlier_one(client, hub, officer, approver):
    ask_password_reset(client, hub.administrator, officer)
    first = shown_code(decide(client, approver, AccessChange.objects.get(), "approve"))
    ask_password_reset(client, hub.administrator, officer, "Lost the first code.")
    second_change = AccessChange.objects.get(status=Status.PENDING)
    second = shown_code(decide(client, approver, second_change, "approve"))

    assert set_up(Client(), officer.username, first).status_code == 400
    assert set_up(Client(), officer.username, second).status_code == 302


def test_an_approved_two_factor_reset_removes_the_app_and_they_set_one_up(
    client, hub, officer, approver
):
    phone = Client()
    phone.force_login(officer)
    ask_two_factor_reset(client, hub.administrator, [officer])

    approved = decide(client, approver, AccessChange.objects.get(), "approve")

    assert approved.status_code == 200
    assert 'data-testid="the-code"' not in approved.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()
    assert fresh(officer).check_password(PASSWORD)
    assert phone.get(reverse("triage-queue")).status_code == 302
    (entry,) = entries(Log.ACCESS_GRANTED)
    assert (entry.user, entry.account) == (approver, officer)
    assert "reset two-factor sign-in" in entry.reason
    signed_in = phone.post(reverse("login"), {"username": officer.username, "password": PASSWORD})
    assert phone.get(signed_in["Location"])["Location"].startswith(reverse("two-factor-set-up"))


def test_a_declined_reset_changes_nothing_and_is_logged(client, hub, officer, approver):
    ask_password_reset(client, hub.administrator, officer)
    change = AccessChange.objects.get()

    decide(client, approver, change, "decline", note="They did not ask for it.")

    change.refresh_from_db()
    assert change.status == Status.DECLINED
    assert fresh(officer).check_password(PASSWORD)
    assert not SetUpCode.objects.exists()
    (entry,) = entries(Log.ACCESS_DECLINED)
    assert (entry.user, entry.account) == (approver, officer)
    assert "They did not ask for it." in entry.reason


def test_each_step_of_a_reset_is_on_the_audit_page(client, hub, officer, approver):
    ask_password_reset(client, hub.administrator, officer)
    decide(client, approver, AccessChange.objects.get(), "approve")
    ask_two_factor_reset(client, hub.administrator, [officer])
    decide(client, approver, AccessChange.objects.get(status=Status.PENDING), "decline", "No.")

    client.force_login(hub.auditor)
    page = client.get(reverse("audit-log")).content.decode()

    for label in ("Access change requested", "Access change approved", "Access change declined"):
        assert label in page
    assert escape(f"{officer} ({officer.username}, {hub.police})") in page
    assert "reset the password" in page
    assert "reset two-factor sign-in" in page


def test_a_new_account_gets_its_password_from_a_code_the_second_administrator_hands_over(
    client, hub, approver
):
    client.force_login(hub.administrator)
    client.post(
        reverse("admin:agencies_user_add"),
        {
            "username": "new_officer",
            "email": "new@example.invalid",
            "agency": hub.police.pk,
            "roles": [Role.PRACTITIONER],
            "reason": "Joins the police desk.",
        },
    )
    person = User.objects.get(username="new_officer")
    assert not person.has_usable_password()

    for change in AccessChange.objects.filter(account=person):
        response = decide(client, approver, change, "approve")
        if change.kind == Kind.RESET_PASSWORD:
            code = shown_code(response)

    newcomer = Client()
    assert set_up(newcomer, "new_officer", code).status_code == 302
    signed_in = newcomer.post(
        reverse("login"), {"username": "new_officer", "password": NEW_PASSWORD}
    )
    assert newcomer.get(signed_in["Location"])["Location"].startswith(reverse("two-factor-set-up"))


def test_the_services_refuse_what_the_pages_refuse(hub, officer, approver):
    with pytest.raises(PermissionDenied):
        access.access_change_request(
            account=hub.administrator,
            actor=hub.administrator,
            kind=Kind.RESET_PASSWORD,
            reason="Myself.",
        )
    with pytest.raises(PermissionDenied):
        access.access_change_request(
            account=officer, actor=hub.manager, kind=Kind.RESET_PASSWORD, reason="Not an admin."
        )
    change = access.access_change_request(
        account=officer, actor=hub.administrator, kind=Kind.RESET_PASSWORD, reason="Forgot it."
    )
    with pytest.raises(ValidationError):
        access.access_change_request(
            account=officer, actor=approver, kind=Kind.RESET_PASSWORD, reason="Again."
        )
    for actor in (hub.administrator, officer, hub.manager):
        with pytest.raises(PermissionDenied):
            access.access_change_approve(change_id=change.pk, actor=actor)
    assert access.access_change_approve(change_id=change.pk, actor=approver).one_time_code


# The first administrators.


def test_the_first_administrators_are_made_while_there_are_none(db):
    assert not access.administrators_exist()
    output = io.StringIO()

    call_command(
        "grant_first_administrators", "alex", "sam", agency="Countyshire Council", stdout=output
    )

    made = User.objects.filter(username__in=["alex", "sam"])
    assert {user.username for user in made} == {"alex", "sam"}
    assert all(user.has_role(Role.ADMINISTRATOR) for user in made)
    assert all(not user.has_usable_password() for user in made)
    assert {user.agency.name for user in made} == {"Countyshire Council"}
    assert Agency.objects.get(name="Countyshire Council").kind == Agency.Kind.OTHER
    codes = re.findall(r"Set-up code, shown only now: ([0-9A-Z-]+)\.", output.getvalue())
    assert len(codes) == 2
    granted = entries(Log.ACCESS_GRANTED)
    assert granted.count() == 2
    assert all("grant_first_administrators" in entry.reason for entry in granted)
    assert not any(code in entry.reason for entry in granted for code in codes)
    assert set_up(Client(), "alex", codes[0]).status_code == 302
    assert fresh(User.objects.get(username="alex")).check_password(NEW_PASSWORD)


def test_the_first_administrators_command_refuses_once_an_administrator_exists(hub):
    before = AccessLogEntry.objects.count()

    with pytest.raises(CommandError, match="already has an administrator"):
        call_command(
            "grant_first_administrators",
            hub.researcher.username,
            hub.manager.username,
            stdout=io.StringIO(),
        )

    assert not fresh(hub.researcher).has_role(Role.ADMINISTRATOR)
    assert not fresh(hub.manager).has_role(Role.ADMINISTRATOR)
    assert AccessLogEntry.objects.count() == before
    assert not SetUpCode.objects.exists()


def test_the_first_administrators_command_refuses_a_superuser_hub_and_a_lone_name(db):
    with pytest.raises(CommandError, match="at least two"):
        call_command("grant_first_administrators", "alex", agency="Council", stdout=io.StringIO())
    assert not User.objects.exists()

    UserFactory(username="root", is_superuser=True)
    with pytest.raises(CommandError, match="already has an administrator"):
        call_command(
            "grant_first_administrators", "alex", "sam", agency="Council", stdout=io.StringIO()
        )
    assert not User.objects.filter(username__in=["alex", "sam"]).exists()


@pytest.mark.parametrize("first", [Kind.RESET_PASSWORD, Kind.RESET_TWO_FACTOR])
def test_one_administrator_never_approves_both_resets_of_one_person(hub, officer, approver, first):
    """The set-up code and an empty two-factor in one pair of hands is the person's account."""
    second = Kind.RESET_TWO_FACTOR if first == Kind.RESET_PASSWORD else Kind.RESET_PASSWORD
    done = access.access_change_request(
        account=officer, actor=hub.administrator, kind=first, reason="Rang in."
    )
    access.access_change_approve(change_id=done.pk, actor=approver)
    asked = access.access_change_request(
        account=officer, actor=hub.administrator, kind=second, reason="Lost phone too."
    )

    with pytest.raises(PermissionDenied, match="another administrator approves this one"):
        access.access_change_approve(change_id=asked.pk, actor=approver)
    assert AccessChange.objects.get(pk=asked.pk).is_pending

    third = UserFactory(
        roles=[Role.ADMINISTRATOR], agency=hub.csc, username="third_admin", is_superuser=True
    )
    access.access_change_approve(change_id=asked.pk, actor=third)
    assert AccessChange.objects.get(pk=asked.pk).status == AccessChange.Status.APPROVED
