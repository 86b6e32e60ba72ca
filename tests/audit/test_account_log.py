"""Sign-ins, failed sign-ins and sign-outs go into the account log, with the address they came
from; a failed sign-in keeps the name tried and says nothing about whether it is anyone's."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from agencies.models import Role
from audit.account_log import log_account_event
from audit.models import AccountEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def sign_in(client, username: str, password: str):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="192.0.2.10",
        HTTP_USER_AGENT=BROWSER,
    )


def test_a_sign_in_is_logged_with_the_address_and_browser(client, make_user):
    user = make_user(Role.RESEARCHER)

    response = sign_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    event = AccountEvent.objects.get()
    assert (event.kind, event.user, event.username) == (Kind.SIGNED_IN, user, user.username)
    assert (event.address, event.user_agent) == ("192.0.2.10", BROWSER)


def test_a_failed_sign_in_keeps_the_name_tried_whether_or_not_it_is_someones(client, make_user):
    user = make_user(Role.RESEARCHER)

    wrong_password = sign_in(client, user.username, "not-the-password")
    nobody = sign_in(client, "no-such-person", "not-the-password")

    events = AccountEvent.objects.order_by("id")
    assert [(e.kind, e.username, e.user, e.address) for e in events] == [
        (Kind.SIGN_IN_FAILED, user.username, None, "192.0.2.10"),
        (Kind.SIGN_IN_FAILED, "no-such-person", None, "192.0.2.10"),
    ]
    # The person trying learns nothing either: the same page and message for both.
    assert wrong_password.status_code == nobody.status_code == 200
    assert wrong_password.context["form"].non_field_errors() == (
        nobody.context["form"].non_field_errors()
    )


def test_a_deactivated_account_fails_like_a_wrong_password(client, make_user):
    user = make_user(Role.RESEARCHER, is_active=False)

    response = sign_in(client, user.username, PASSWORD)

    assert response.status_code == 200
    event = AccountEvent.objects.get()
    assert (event.kind, event.username, event.user) == (Kind.SIGN_IN_FAILED, user.username, None)


def test_a_sign_out_is_logged(client, make_user):
    user = make_user(Role.RESEARCHER)
    sign_in(client, user.username, PASSWORD)

    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.11")

    event = AccountEvent.objects.latest("id")
    assert (event.kind, event.user, event.address) == (Kind.SIGNED_OUT, user, "192.0.2.11")


def test_the_address_is_the_connections_not_one_the_client_claims(client, make_user):
    user = make_user(Role.RESEARCHER)

    client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.10",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )

    assert AccountEvent.objects.get().address == "192.0.2.10"


def test_lockouts_and_two_factor_changes_have_a_place_in_the_log(make_user):
    # The hook django-axes and django-otp will call (issue 8, sign-in).
    user = make_user(Role.RESEARCHER)

    log_account_event(Kind.TWO_FACTOR_ADDED, user=user, detail="Authenticator app")
    log_account_event(Kind.LOCKED_OUT, username="guessed-name", detail="5 failed sign-ins")

    assert list(AccountEvent.objects.order_by("id").values_list("kind", "username", "user")) == [
        (Kind.TWO_FACTOR_ADDED, user.username, user.pk),
        (Kind.LOCKED_OUT, "guessed-name", None),
    ]


def test_a_very_long_name_tried_is_kept_cut_to_the_column(client):
    sign_in(client, "x" * 5000, "not-the-password")

    assert AccountEvent.objects.get().username == "x" * 150


def test_the_account_log_is_append_only_in_the_code(make_user):
    event = log_account_event(Kind.SIGNED_IN, user=make_user(Role.RESEARCHER))

    for attempt in (
        event.save,
        event.delete,
        lambda: AccountEvent.objects.update(username="someone else"),
        lambda: AccountEvent.objects.all().delete(),
    ):
        with pytest.raises(TypeError, match="append-only"):
            attempt()


@pytest.mark.parametrize("statement", ["UPDATE {} SET username = 'x'", "DELETE FROM {}"])
def test_the_account_log_is_append_only_in_the_database(make_user, statement):
    log_account_event(Kind.SIGNED_IN, user=make_user(Role.RESEARCHER))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(AccountEvent._meta.db_table))

    assert AccountEvent.objects.count() == 1
