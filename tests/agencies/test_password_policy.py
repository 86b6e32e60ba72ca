"""What is asked of a password (issue 21, item 2): Django's validators and zxcvbn's estimate
(agencies.passwords), on choosing one with a set-up code and on changing one; each refusal is a
message on the field, saying what to do instead. The admin sets nobody's password
(tests/agencies/test_account_resets.py), so these two pages are the only ways to choose one."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from agencies import set_up_codes
from agencies.models import Role, User
from agencies.passwords import GuessabilityValidator
from demo.hub import DEMO_USERS
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

GOOD = "Rusty lantern under April snow"
# What issue 21 found accepted, each with the username it was tried for.
WEAK = [
    ("aaaaaaaaaaaa", "somebody"),
    ("qwertyuiopas", "somebody"),
    ("111111111111a", "somebody"),
    ("analystanalyst", "analyst"),
]


def messages(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize(("password", "username"), WEAK)
def test_the_passwords_issue_21_found_are_refused_saying_what_to_do(make_user, password, username):
    user = make_user(Role.ANALYST, username=username)

    refused = messages(password, user)

    assert refused, password
    assert any(
        message.startswith("This password would be too easy to guess") for message in refused
    )
    assert any("Three or four words" in message for message in refused)


def test_a_good_passphrase_is_accepted(make_user):
    assert messages(GOOD, make_user(Role.ANALYST, username="analyst")) == []


def test_the_person_is_a_known_guess(make_user):
    user = make_user(
        Role.RESEARCHER,
        username="rkowalczyk",
        first_name="Renata",
        last_name="Kowalczyk",
        email="renata.kowalczyk@example.org",
    )
    stranger = make_user(Role.RESEARCHER, username="someone-else")
    validator = GuessabilityValidator()

    # Strong to a stranger; easy for whoever knows whose it is.
    validator.validate("rkowalczyk2026!", stranger)
    with pytest.raises(ValidationError):
        validator.validate("rkowalczyk2026!", user)


def test_mash_and_the_hubs_name_are_known_guesses(settings):
    validator = GuessabilityValidator()
    settings.HUB_NAME = "Borsetshire MASH"
    validator.validate("countyshiremash")

    settings.HUB_NAME = "Countyshire MASH"
    with pytest.raises(ValidationError):
        validator.validate("countyshiremash")


def test_a_very_long_password_is_checked_quickly():
    GuessabilityValidator().validate("a" + "bcdefghij" * 10_000)


def test_the_demo_passwords_and_the_tests_pass_the_policy(make_user):
    """The demo's logins (README) are set directly, but would pass as well."""
    for demo in DEMO_USERS:
        user = make_user(Role.ANALYST, username=demo.username)
        assert messages(demo.password, user) == [], demo.username
    assert messages(PASSWORD, make_user(Role.ANALYST)) == []


@pytest.mark.parametrize(("password", "username"), WEAK)
def test_changing_a_password_refuses_them_on_the_field(make_user, password, username):
    user = make_user(Role.ANALYST, username=username)
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_new_password2-error"' in html
    assert "This password would be too easy to guess" in html
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_changing_to_a_good_passphrase_works(make_user):
    user = make_user(Role.ANALYST, username="analyst")
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": GOOD, "new_password2": GOOD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD)


@pytest.mark.parametrize(("password", "username"), WEAK)
def test_a_set_up_code_refuses_them_on_the_field(make_user, password, username):
    user = make_user(Role.ANALYST, username=username)
    _, code = set_up_codes.issue(account=user, issued_to=None)

    response = Client().post(
        reverse("set-up-code"),
        {
            "username": username,
            "code": code,
            "new_password1": password,
            "new_password2": password,
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_new_password2-error"' in html
    assert "This password would be too easy to guess" in html


def test_a_set_up_code_takes_a_good_passphrase(make_user):
    user = make_user(Role.ANALYST, username="analyst")
    _, code = set_up_codes.issue(account=user, issued_to=None)

    response = Client().post(
        reverse("set-up-code"),
        {"username": "analyst", "code": code, "new_password1": GOOD, "new_password2": GOOD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD)
