"""Step-up: a practitioner types their password again to release a sensitive record, on the
page and in the API; a wrong or missing one releases nothing and the refusal is logged."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.lockout import message
from agencies.models import Role
from audit.models import AccessLogEntry, AccountEvent
from sharing.models import LawfulBasis, ReleaseDecision, ReleaseStatus
from tests.factories import PASSWORD, api_key_for

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
Kind = AccountEvent.Kind
RELEASE = {
    "necessary_and_proportionate": "on",
    "lawful_basis": LawfulBasis.CHILDREN_ACT_1989_S47,
    "reason": "Pertinent to the strategy discussion.",
    "conditions": "",
}
TYPED = "the-wrong-password-typed"


def denials(hub) -> list[str]:
    entries = AccessLogEntry.objects.filter(user=hub.police_officer, action=Log.DENIED)
    return list(entries.values_list("reason", flat=True))


def release(client, record, password: str):
    """The release form, filled in, with `password` typed."""
    return client.post(
        reverse("sharing-record-release", args=[record.pk]), {**RELEASE, "password": password}
    )


def still_asked(record) -> bool:
    record.refresh_from_db()
    return record.release_status == ReleaseStatus.REQUESTED and not ReleaseDecision.objects.exists()


def test_the_release_form_asks_for_the_password(client, hub):
    record = hub.record("release_requested", marker="ASK")
    client.force_login(hub.police_officer)

    html = client.get(reverse("sharing-record", args=[record.pk])).content.decode()

    form = html.split('data-testid="release-form"')[1].split("</form>")[0]
    assert 'type="password" name="password"' in form
    assert 'autocomplete="current-password"' in form


@pytest.mark.parametrize("password", ["", TYPED])
def test_a_missing_or_wrong_password_releases_nothing_and_is_logged(client, hub, password):
    record = hub.record("release_requested", marker="WRONG")
    client.force_login(hub.police_officer)

    response = release(client, record, password)

    assert response.status_code == 400
    html = response.content.decode()
    expected = "Your password is not right" if password else "Enter your password to confirm"
    assert 'id="id_password-error"' in html and expected in html
    assert TYPED not in html
    assert still_asked(record)
    assert len(denials(hub)) == 1
    assert expected in denials(hub)[0]
    assert TYPED not in denials(hub)[0]


def test_the_right_password_releases(client, hub):
    record = hub.record("release_requested", marker="RIGHT")
    client.force_login(hub.police_officer)

    response = release(client, record, PASSWORD)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED
    assert denials(hub) == []


def test_someone_who_may_not_release_is_refused_for_that_not_for_the_password(client, hub):
    record = hub.record("release_requested", marker="NOT-YOURS")
    client.force_login(hub.researcher)

    response = release(client, record, TYPED)

    assert response.status_code == 403
    assert not AccountEvent.objects.filter(kind=Kind.STEP_UP_FAILED).exists()


def test_a_researchers_wrong_passwords_at_release_lock_nobody_out(hub):
    """A researcher may release nothing: their passwords are never checked nor counted, on the
    page or in the API, so the address stays open to the police officer who may."""
    record = hub.record("release_requested", marker="RESEARCHER-GUESS")
    page = Client()
    page.force_login(hub.researcher)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(hub.researcher)}")
    url = reverse("api:information-record-release", args=[record.pk])
    body = {**RELEASE, "necessary_and_proportionate": True}

    on_page = [release(page, record, f"{TYPED}-{n}") for n in range(6)]
    by_api = [api.post(url, {**body, "password": f"{TYPED}-{n}"}, format="json") for n in range(6)]
    officer = Client()
    officer.force_login(hub.police_officer)
    released = release(officer, record, PASSWORD)

    assert {response.status_code for response in on_page + by_api} == {403}
    assert not AccountEvent.objects.filter(
        kind__in=[Kind.STEP_UP_FAILED, Kind.SIGN_IN_FAILED, Kind.LOCKED_OUT]
    ).exists()
    assert released.status_code == 302
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED
    sign_in = {"username": hub.police_officer.username, "password": PASSWORD}
    assert Client().post(reverse("login"), sign_in).status_code == 302


def test_someone_who_cannot_see_the_record_gets_404_and_their_password_is_not_counted(
    hub, make_user
):
    record = hub.record("release_requested", marker="UNSEEN")
    never_asked = make_user(Role.PRACTITIONER)  # of an agency of their own, not asked
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(never_asked)}")
    url = reverse("api:information-record-release", args=[record.pk])
    body = {**RELEASE, "necessary_and_proportionate": True}

    answers = [api.post(url, {**body, "password": f"{TYPED}-{n}"}, format="json") for n in range(6)]

    assert {response.status_code for response in answers} == {404}
    assert not AccountEvent.objects.filter(kind=Kind.STEP_UP_FAILED).exists()


@pytest.mark.parametrize("by", ["session", "token"])
def test_the_api_release_needs_the_password_too(hub, by):
    record = hub.record("release_requested", marker="API")
    api = APIClient()
    if by == "session":
        api.force_login(hub.police_officer)
    else:
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(hub.police_officer)}")
    url = reverse("api:information-record-release", args=[record.pk])
    body = {**RELEASE, "necessary_and_proportionate": True}

    wrong = api.post(url, {**body, "password": TYPED}, format="json")
    missing = api.post(url, body, format="json")
    assert still_asked(record)
    right = api.post(url, {**body, "password": PASSWORD}, format="json")

    assert wrong.status_code == missing.status_code == 400
    assert wrong.json() == {
        "password": ["Your password is not right. Enter the password you sign in with."]
    }
    assert list(missing.json()) == ["password"]
    assert len(denials(hub)) == 2
    assert right.status_code == 201
    assert right.json()["release_status"] == ReleaseStatus.RELEASED
    assert "password" not in right.json()


def account_log(user) -> list[str]:
    return list(
        AccountEvent.objects.filter(username=user.username)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


def test_wrong_passwords_at_release_count_towards_the_lockout_and_end_the_session(client, hub):
    """Whoever finds a signed-in session guesses its owner's password no more often here than
    at the sign-in page: the fifth wrong one locks the username out and ends the session."""
    record = hub.record("release_requested", marker="GUESS")
    client.force_login(hub.police_officer)

    guesses = [release(client, record, f"{TYPED}-{n}") for n in range(5)]

    assert [response.status_code for response in guesses] == [400, 400, 400, 400, 429]
    assert guesses[-1]["Retry-After"] == "900"
    assert message() in guesses[-1].content.decode()
    assert SESSION_KEY not in client.session
    assert client.get(reverse("home")).status_code == 302
    assert still_asked(record)
    first, *between, last = account_log(hub.police_officer)
    assert (first, last) == (Kind.SIGNED_IN, Kind.SIGNED_OUT)
    assert sorted(between) == [Kind.LOCKED_OUT] + [Kind.STEP_UP_FAILED] * 5
    signed_out = AccountEvent.objects.get(kind=Kind.SIGNED_OUT)
    assert signed_out.detail == "locked out after wrong passwords at release"
    # Locked out at this address (the test client's), not elsewhere.
    sign_in = {"username": hub.police_officer.username, "password": PASSWORD}
    assert Client().post(reverse("login"), sign_in).status_code == 429
    elsewhere = Client().post(reverse("login"), sign_in, REMOTE_ADDR="198.51.100.9")
    assert elsewhere.status_code == 302


def test_four_wrong_passwords_then_the_right_one_releases(client, hub):
    record = hub.record("release_requested", marker="FOURTH")
    client.force_login(hub.police_officer)

    for n in range(4):
        assert release(client, record, f"{TYPED}-{n}").status_code == 400
    right = release(client, record, PASSWORD)

    assert right.status_code == 302
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED


def guess_at_sign_in(username: str, address: str) -> None:
    for n in range(5):
        Client().post(
            reverse("login"),
            {"username": username, "password": f"{TYPED}-{n}"},
            REMOTE_ADDR=address,
        )


def test_a_username_locked_out_at_this_address_cannot_release_even_with_the_right_password(
    client, hub
):
    """Someone guessing the username at the sign-in page here locks it here; release here
    then waits too (the test client's address is 127.0.0.1)."""
    record = hub.record("release_requested", marker="LOCKED")
    guess_at_sign_in(hub.police_officer.username, "127.0.0.1")
    client.force_login(hub.police_officer)

    response = release(client, record, PASSWORD)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    assert message() in response.content.decode()
    assert still_asked(record)


def test_a_lockout_from_elsewhere_does_not_stop_the_officer_releasing(client, hub):
    record = hub.record("release_requested", marker="ELSEWHERE")
    guess_at_sign_in(hub.police_officer.username, "198.51.100.9")
    client.force_login(hub.police_officer)

    response = release(client, record, PASSWORD)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.RELEASED


def test_the_api_counts_wrong_passwords_at_release_and_answers_the_lockout_in_json(hub):
    record = hub.record("release_requested", marker="API-GUESS")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(hub.police_officer)}")
    url = reverse("api:information-record-release", args=[record.pk])
    body = {**RELEASE, "necessary_and_proportionate": True}

    guesses = [api.post(url, {**body, "password": f"{TYPED}-{n}"}, format="json") for n in range(5)]
    right = api.post(url, {**body, "password": PASSWORD}, format="json")

    assert [response.status_code for response in guesses] == [400, 400, 400, 400, 429]
    assert guesses[-1].json() == right.json() == {"detail": message()}
    assert right.status_code == 429
    assert guesses[-1]["Retry-After"] == right["Retry-After"] == "900"
    assert still_asked(record)
    # The right password during the lockout was never checked: locked out, not wrong.
    assert account_log(hub.police_officer).count(Kind.STEP_UP_FAILED) == 5
    assert account_log(hub.police_officer).count(Kind.LOCKED_OUT) == 2


def test_a_release_slowed_by_guesses_from_elsewhere_keeps_its_page_and_session(
    client, hub, settings
):
    """Past the per-username limit, an officer at an address they have not signed in from is
    slowed at release too: 429 with Retry-After on the release page, still signed in."""
    record = hub.record("release_requested", marker="SLOWED")
    settings.LOCKOUT_USERNAME_FAILURE_LIMIT = 1
    client.force_login(hub.police_officer)  # force_login: no address to call their own
    Client().post(
        reverse("login"),
        {"username": hub.police_officer.username, "password": TYPED},
        REMOTE_ADDR="198.51.100.9",
    )
    release(client, record, f"{TYPED}-taken")  # its turn, counted

    slowed = release(client, record, PASSWORD)

    assert slowed.status_code == 429
    assert slowed["Retry-After"] == "1"
    assert "Wait 1 second, then try again" in slowed.content.decode()
    assert SESSION_KEY in client.session
    assert still_asked(record)
