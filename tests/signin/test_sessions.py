"""How long a session lasts and what ends it: idle and absolute limits, the browser closing, a
new key at sign-in, a password change, deactivation; and the password rules."""

import importlib
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from agencies import administration, sessions, tokens
from agencies.models import Role
from audit.models import AccountEvent
from tests.factories import PASSWORD, api_key_for
from tests.sharing.conftest import make_hub
from tests.signin.test_step_up import release
from tests.two_factor import app_for, code_now

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
NEW_PASSWORD = "a-longer-new-passphrase-2026"


def age_session(client: Client, *, idle_minutes: float = 0, signed_in_hours: float = 0) -> None:
    session = client.session
    now = time.time()
    session[sessions.LAST_SEEN] = int(now - idle_minutes * 60)
    session[sessions.SIGNED_IN_AT] = int(now - signed_in_hours * 3600)
    session.save()


# Passwords.


@pytest.mark.parametrize("password", ["Kx7#pq2!Lm9", "12345678901234", "password1234"])
def test_short_common_or_numeric_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_twelve_characters_that_are_not_common_are_enough():
    validate_password("Kx7#pq2!Lm9z")


def test_the_password_change_page_applies_the_rules(client, researcher):
    client.force_login(researcher)

    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": "Kx7#pq2!Lm9", "new_password2": "Kx7#pq2!Lm9"},
    )

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    researcher.refresh_from_db()
    assert researcher.check_password(PASSWORD)


@pytest.fixture
def real_hashers(settings):
    """The project's hashers, not the tests' fast one."""
    settings.PASSWORD_HASHERS = importlib.import_module("mash.settings").PASSWORD_HASHERS


def test_passwords_are_stored_with_argon2id_at_owasps_setting(researcher, real_hashers):
    researcher.set_password(NEW_PASSWORD)

    assert researcher.password.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert researcher.check_password(NEW_PASSWORD)


def test_a_password_set_before_is_stored_again_at_its_next_sign_in(researcher, real_hashers):
    researcher.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    researcher.save()
    app = app_for(researcher)
    client = Client()

    client.post(reverse("login"), {"username": researcher.username, "password": PASSWORD})
    client.post(reverse("two-factor"), {"code": code_now(app)})

    researcher.refresh_from_db()
    assert researcher.password.startswith("argon2$argon2id$")
    assert client.get(reverse("account")).status_code == 200


def test_a_release_that_stores_the_password_again_keeps_the_session(real_hashers):
    """Step-up goes through the same check as sign-in, so it may store the hash again (someone
    signed in before the hashers changed); that must not sign them out."""
    hub = make_hub()
    hub.police_officer.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    hub.police_officer.save()
    record = hub.record("release_requested", marker="REHASH")
    client = Client()
    client.force_login(hub.police_officer)

    released = release(client, record, PASSWORD)

    assert released.status_code == 302
    hub.police_officer.refresh_from_db()
    assert hub.police_officer.password.startswith("argon2$argon2id$")
    assert client.get(reverse("sharing-record", args=[record.pk])).status_code == 200


# How long a session lasts.


@pytest.mark.any_instant
def test_a_session_ends_when_the_browser_closes(client, researcher, settings):
    app = app_for(researcher)
    client.post(reverse("login"), {"username": researcher.username, "password": PASSWORD})

    response = client.post(reverse("two-factor"), {"code": code_now(app)})

    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


@pytest.mark.any_instant
def test_a_session_ends_after_30_minutes_idle(client, researcher):
    client.force_login(researcher)
    age_session(client, idle_minutes=30.5)

    response = client.get(reverse("triage-queue"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session
    event = researcher.account_events.latest("id")
    assert (event.kind, event.detail) == (Kind.SIGNED_OUT, "30 minutes without activity")
    sign_in_page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in sign_in_page


@pytest.mark.any_instant
def test_a_request_within_the_idle_limit_keeps_the_session_going(client, researcher):
    client.force_login(researcher)
    age_session(client, idle_minutes=29)

    response = client.get(reverse("triage-queue"))

    assert response.status_code == 200
    assert time.time() - client.session[sessions.LAST_SEEN] < 5


def test_the_idle_limit_is_configurable(client, researcher, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client.force_login(researcher)
    age_session(client, idle_minutes=6)

    assert client.get(reverse("triage-queue")).status_code == 302


@pytest.mark.any_instant
def test_a_busy_session_still_ends_10_hours_after_sign_in(client, researcher):
    client.force_login(researcher)
    age_session(client, idle_minutes=1, signed_in_hours=10.01)

    response = client.get(reverse("triage-queue"))

    assert response["Location"].startswith(reverse("login"))
    assert researcher.account_events.latest("id").detail == "10 hours after signing in"


def test_the_api_treats_an_ended_session_as_no_sign_in(client, researcher):
    client.force_login(researcher)
    age_session(client, idle_minutes=31)

    assert client.get(reverse("api:enquiry-list")).status_code in (401, 403)


def test_the_session_key_changes_at_sign_in(client, researcher):
    session = client.session
    session["before signing in"] = True
    session.save()
    before = session.session_key

    client.post(reverse("login"), {"username": researcher.username, "password": PASSWORD})

    assert client.session.session_key != before
    assert client.session[SESSION_KEY] == str(researcher.pk)
    assert not Session.objects.filter(session_key=before).exists()


# What ends a person's sessions at once.


def test_a_password_change_ends_the_persons_other_sessions(researcher):
    here, elsewhere = Client(), Client()
    here.force_login(researcher)
    elsewhere.force_login(researcher)
    elsewhere_key = elsewhere.session.session_key

    response = here.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("account")
    assert "You are signed out everywhere else" in here.get(reverse("account")).content.decode()
    assert here.get(reverse("triage-queue")).status_code == 200
    assert not Session.objects.filter(session_key=elsewhere_key).exists()
    assert elsewhere.get(reverse("triage-queue"))["Location"].startswith(reverse("login"))


def test_a_password_set_by_an_administrator_ends_every_session(researcher):
    client = Client()
    client.force_login(researcher)

    researcher.set_password(NEW_PASSWORD)
    researcher.save()

    assert not Session.objects.exists()
    assert client.get(reverse("triage-queue")).status_code == 302


def test_deactivating_a_person_ends_all_their_sessions_and_tokens_at_once(client, make_user):
    researcher = make_user(Role.RESEARCHER)
    phone, desk = Client(), Client()
    phone.force_login(researcher)
    desk.force_login(researcher)
    keys = [api_key_for(researcher), api_key_for(researcher)]
    other = make_user(Role.RESEARCHER)
    bystander = Client()
    bystander.force_login(other)
    client.force_login(make_user(Role.ADMINISTRATOR))

    client.post(
        reverse("hub-settings:person-change", args=[researcher.pk]),
        {
            "first_name": researcher.first_name,
            "last_name": researcher.last_name,
            "email": researcher.email,
            "agency": researcher.agency_id,
            "roles": sorted(researcher.roles),
            "is_active": "inactive",
            "reason": "Left the hub.",
            "seen": administration.person_version(researcher),
            "confirm": "1",
        },
    )

    researcher.refresh_from_db()
    assert not researcher.is_active
    assert not [s for s in Session.objects.all() if sessions_user(s) == researcher.pk]
    assert phone.get(reverse("triage-queue")).status_code == 302
    assert desk.get(reverse("triage-queue")).status_code == 302
    for key in keys:
        api = Client(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get(reverse("api:enquiry-list")).status_code == 401
    assert not researcher.api_tokens.in_use().exists()
    revoked = researcher.account_events.filter(kind=Kind.API_TOKEN_REVOKED)
    assert revoked.count() == 2
    assert all(event.detail.endswith("deactivated") for event in revoked)
    # Someone else's session is untouched, and so is the administrator's.
    assert bystander.get(reverse("triage-queue")).status_code == 200
    assert client.get(reverse("hub-settings:people")).status_code == 200


def test_reactivating_a_person_does_not_bring_back_an_old_session_or_token(researcher):
    client = Client()
    client.force_login(researcher)
    key = api_key_for(researcher)

    researcher.is_active = False
    researcher.save()
    researcher.is_active = True
    researcher.save()

    assert client.get(reverse("triage-queue")).status_code == 302
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:enquiry-list")).status_code == 401
    assert tokens.holder_of(key) is None


def test_saving_a_person_without_changing_password_or_active_keeps_their_sessions(researcher):
    client = Client()
    client.force_login(researcher)

    researcher.job_title = "Senior researcher"
    researcher.save()

    assert client.get(reverse("triage-queue")).status_code == 200


def sessions_user(session: Session) -> int | None:
    value = session.get_decoded().get(SESSION_KEY)
    return int(value) if value else None
