"""API tokens: made by their owner on the account page (or by an administrator's command), shown
once, stored as a digest, listed with their last use, revocable, and logged."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from agencies import tokens
from agencies.models import ApiToken, Role
from audit.models import AccountEvent
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind


def by_token(key: str):
    return Client(HTTP_AUTHORIZATION=f"Token {key}").get(reverse("api:enquiry-list"))


def test_a_person_makes_a_token_and_sees_its_key_once(client, researcher):
    client.force_login(researcher)

    made = client.post(reverse("api-token-create"), {"name": "Weekly export"})
    shown = client.get(made["Location"]).content.decode()
    again = client.get(reverse("account")).content.decode()

    token = ApiToken.objects.get(user=researcher)
    key = shown.split('data-testid="new-api-token"')[1].split("<code>")[1].split("</code>")[0]
    assert made["Location"] == reverse("account")
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(token.prefix) and len(key) >= 40
    assert key not in again
    assert "Weekly export" in again and token.prefix in again
    assert by_token(key).status_code == 200
    event = researcher.account_events.latest("id")
    assert (event.kind, event.detail) == (Kind.API_TOKEN_CREATED, f"Weekly export ({key[:8]}…)")


def test_the_key_itself_is_stored_nowhere(researcher):
    key = api_key_for(researcher)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM agencies_apitoken")
        row = cursor.fetchone()

    assert not any(key in str(value) for value in row)


def test_a_token_needs_a_name(client, researcher):
    client.force_login(researcher)

    response = client.post(reverse("api-token-create"), {"name": " "})

    assert response.status_code == 400
    assert "Say what the token is for." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_list_shows_when_each_token_was_last_used(client, researcher):
    used, unused = api_key_for(researcher), api_key_for(researcher)
    by_token(used)
    client.force_login(researcher)

    tokens_shown = ApiToken.objects.filter(user=researcher)
    html = client.get(reverse("account")).content.decode()

    assert tokens_shown.get(prefix=used[:8]).last_used_at is not None
    assert tokens_shown.get(prefix=unused[:8]).last_used_at is None
    assert html.count("Never") == 1


def test_the_last_use_is_written_at_most_once_a_minute(researcher, django_assert_num_queries):
    key = api_key_for(researcher)
    tokens.holder_of(key)

    with django_assert_num_queries(1):
        assert tokens.holder_of(key).user == researcher


def test_a_revoked_token_stops_working_at_once(client, researcher):
    key = api_key_for(researcher)
    token = ApiToken.objects.get()
    client.force_login(researcher)

    response = client.post(reverse("api-token-revoke", args=[token.pk]))

    assert response["Location"] == reverse("account")
    assert by_token(key).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in client.get(reverse("account")).content.decode()
    event = researcher.account_events.latest("id")
    assert (event.kind, event.detail) == (
        Kind.API_TOKEN_REVOKED,
        f"Test script ({key[:8]}…), revoked by its owner",
    )


def test_nobody_revokes_someone_elses_token(client, researcher, make_user):
    key = api_key_for(researcher)
    client.force_login(make_user(Role.RESEARCHER))

    response = client.post(reverse("api-token-revoke", args=[ApiToken.objects.get().pk]))

    assert response.status_code == 404
    assert by_token(key).status_code == 200


def test_an_administrator_revokes_a_token_in_hub_settings(client, researcher, make_user):
    key = api_key_for(researcher)
    client.force_login(make_user(Role.ADMINISTRATOR))
    url = reverse("hub-settings:person-tokens", args=[researcher.pk])

    listed = client.get(url)
    check = client.post(url)
    revoked = client.post(url, {"confirm": "1"})

    assert listed.status_code == 200 and key[:8] in listed.content.decode()
    assert key not in listed.content.decode()
    assert "1 token stops working at once" in check.content.decode()
    assert revoked.status_code == 302
    assert by_token(key).status_code == 401


def test_the_command_prints_the_key_and_nothing_else(researcher):
    printed, said = StringIO(), StringIO()

    call_command(
        "create_api_token", researcher.username, "--name", "Nightly", stdout=printed, stderr=said
    )

    key = printed.getvalue().strip()
    assert by_token(key).status_code == 200
    assert ApiToken.objects.get().name == "Nightly"
    assert key not in said.getvalue()


@pytest.mark.parametrize("who", ["nobody", "inactive", "no role"])
def test_the_command_refuses_someone_the_api_would_refuse(make_user, who):
    if who == "inactive":
        make_user(Role.RESEARCHER, username="inactive", is_active=False)
    if who == "no role":
        make_user(username="no role")

    with pytest.raises(CommandError):
        call_command("create_api_token", who, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("count", [2, 20])
def test_the_account_page_runs_a_fixed_number_of_queries(
    client, researcher, count, django_assert_max_num_queries
):
    for _ in range(count):
        api_key_for(researcher)
    client.force_login(researcher)

    # session, user, the user's groups (roles), backup codes left, the tokens, the unread count
    with django_assert_max_num_queries(6):
        response = client.get(reverse("account"))

    assert response.content.decode().count("Revoke<span") == count


def test_drfs_plain_text_token_table_is_gone():
    assert "authtoken_token" not in connection.introspection.table_names()
