"""The time-out warning's server side and typed work never lost (issue 22 item 3): the idle
limit to the second, "Stay signed in" within the limit from sign-in, and a form sent after
the session ended kept for its owner, restored (never submitted) after they sign in again."""

import logging
import time
import uuid

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from agencies import kept_forms
from agencies.models import Role
from audit.models import AccountEvent
from enquiries.models import Enquiry, Outcome
from tests.enquiries.test_pages import log
from tests.factories import PASSWORD
from tests.sharing.conftest import make_hub
from tests.two_factor import app_for, code_now

pytestmark = pytest.mark.django_db

RATIONALE = "Father engaging with the IDVA; NFA-KEPT-7731."
SIGNED_OUT = "You were signed out after 30 minutes without activity."
KEPT = f"{SIGNED_OUT} What you typed has been kept."


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch):
    """The cache outlives a test's database (and people's ids repeat): what one test kept must
    not reach the next."""
    monkeypatch.setattr(kept_forms, "KEY_PREFIX", f"kept-form-test-{uuid.uuid4()}")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


@pytest.fixture
def clock():
    """A clock that moves only when told, by exactly as much."""
    with time_machine.travel(int(time.time()), tick=False) as traveller:
        yield traveller


def sign_in(client: Client, user, next_url: str) -> str:
    """Sign in with the password and the app's code; where the person is sent."""
    app = app_for(user)
    client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": next_url}
    )
    response = client.post(reverse("two-factor"), {"code": code_now(app), "next": next_url})
    return response["Location"]


def seconds_left(client: Client) -> int:
    return client.get(reverse("session-status")).json()["seconds_left"]


def sign_in_page(client: Client, response) -> str:
    return client.get(response["Location"]).content.decode()


# The idle limit and "Stay signed in".


def test_29_minutes_idle_is_signed_in_31_ends_with_the_reason(client, researcher, clock):
    client.force_login(researcher)
    clock.shift(29 * 60)

    kept_on = client.get(reverse("triage-queue"))
    clock.shift(31 * 60)
    ended = client.get(reverse("triage-queue"))

    assert kept_on.status_code == 200
    assert 'data-session-seconds-left="1800"' in kept_on.content.decode()
    assert ended.status_code == 302
    assert ended["Location"].startswith(reverse("login"))
    assert f"{SIGNED_OUT} Sign in again." in sign_in_page(client, ended)


def test_stay_signed_in_extends_the_idle_limit_not_the_limit_from_sign_in(
    client, researcher, clock, settings
):
    settings.SESSION_MAX_HOURS = 1
    client.force_login(researcher)
    clock.shift(25 * 60)

    kept_alive = client.post(reverse("session-keep-alive"))
    after_keep_alive = seconds_left(client)
    clock.shift(25 * 60)
    # Asking how long is left is not activity: the idle clock runs on.
    asked = seconds_left(client)
    client.post(reverse("session-keep-alive"))

    assert kept_alive.status_code == 204
    assert after_keep_alive == 30 * 60
    assert asked == 5 * 60
    assert seconds_left(client) == 10 * 60


def test_keep_alive_and_status_signed_out(client):
    assert client.post(reverse("session-keep-alive")).status_code == 401
    assert seconds_left(client) == 0


# Typed work kept and restored.


@pytest.fixture
def ended_decision(client, researcher, manager, clock):
    """A manager's decision sent 31 minutes after their last request."""
    (amy,) = log(researcher, "Amy")
    page = reverse("enquiry-decide", args=[amy.reference])
    client.force_login(manager)
    client.get(page)
    clock.shift(31 * 60)
    nfa = Outcome.objects.get(code="nfa")
    response = client.post(
        page,
        {"outcome": nfa.pk, "rationale": RATIONALE, "expected_version": 1},
        HTTP_REFERER=f"http://testserver{page}",
    )
    return amy, page, nfa, response


def test_a_decision_sent_after_the_time_out_is_kept_not_acted_on(client, ended_decision):
    amy, page, _nfa, response = ended_decision

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page}"
    assert KEPT in sign_in_page(client, response)
    amy.refresh_from_db()
    assert (amy.state, amy.decided_at) == ("received", None)


def test_the_same_person_signing_in_again_gets_the_form_filled_not_submitted(
    client, manager, ended_decision
):
    amy, page, nfa, _response = ended_decision

    sent_to = sign_in(client, manager, page)
    restored = client.get(sent_to).content.decode()
    again = client.get(page).content.decode()

    assert sent_to == page
    assert kept_forms.RESTORED in restored
    assert RATIONALE in restored
    assert f'value="{nfa.pk}" checked' in restored
    amy.refresh_from_db()
    assert amy.state == "received"
    assert RATIONALE not in again
    assert kept_forms.RESTORED not in again


def test_someone_else_signing_in_on_the_same_browser_gets_nothing(
    client, manager, make_user, ended_decision
):
    _amy, page, _nfa, _response = ended_decision
    colleague = make_user(Role.MANAGER)

    sign_in(client, colleague, page)
    theirs = client.get(page).content.decode()
    client.post(reverse("logout"))
    sign_in(client, manager, page)
    mine = client.get(page).content.decode()

    assert RATIONALE not in theirs
    assert kept_forms.RESTORED not in theirs
    assert RATIONALE in mine


def test_what_was_kept_is_forgotten_after_30_minutes(client, manager, clock, ended_decision):
    _amy, page, _nfa, _response = ended_decision
    clock.shift(kept_forms.KEPT_FOR + 1)

    sign_in(client, manager, page)

    assert RATIONALE not in client.get(page).content.decode()


def test_what_was_kept_is_never_logged_or_audited(client, manager, caplog, ended_decision):
    caplog.set_level(logging.DEBUG)
    _amy, page, _nfa, _response = ended_decision

    sign_in(client, manager, page)
    client.get(page)

    assert "NFA-KEPT-7731" not in caplog.text
    assert not LogEntry.objects.filter(changes_text__contains="NFA-KEPT-7731").exists()
    assert not [e for e in AccountEvent.objects.all() if "NFA-KEPT-7731" in str(e.detail)]


def test_a_release_keeps_no_password(client, clock):
    hub = make_hub()
    record = hub.record("release_requested", marker="KEPT")
    page = reverse("sharing-record", args=[record.pk])
    client.force_login(hub.police_officer)
    client.get(page)
    clock.shift(31 * 60)

    response = client.post(
        reverse("sharing-record-release", args=[record.pk]),
        {
            "necessary_and_proportionate": "on",
            "lawful_basis": "children_act_1989_s47",
            "reason": "Pertinent to the strategy meeting.",
            "conditions": "",
            "password": PASSWORD,
            "csrfmiddlewaretoken": "x" * 64,
        },
        HTTP_REFERER=f"http://testserver{page}",
    )
    kept = cache.get(kept_forms.key(hub.police_officer.pk))
    sent_to = sign_in(client, hub.police_officer, page)
    restored = client.get(sent_to).content.decode()
    before = record.release_status
    record.refresh_from_db()

    assert response["Location"].startswith(reverse("login"))
    assert kept == {
        "path": page,
        "until": time.time() + kept_forms.KEPT_FOR,
        "fields": {
            "necessary_and_proportionate": ["on"],
            "lawful_basis": ["children_act_1989_s47"],
            "reason": ["Pertinent to the strategy meeting."],
        },
    }
    assert "Pertinent to the strategy meeting." in restored
    assert record.release_status == before == "requested"


def test_codes_and_secrets_are_never_kept():
    from django.http import QueryDict

    sent = QueryDict(
        "reason=Why&code=123456&otp_token=654321&password=x&new_password1=y"
        "&csrfmiddlewaretoken=z&api_token=t&backup_code=b&blank="
    )

    assert kept_forms.keepable_fields(sent) == {"reason": ["Why"]}


def test_an_enquiry_logged_after_the_time_out_is_restored_to_the_intake_page(
    client, researcher, clock
):
    page = reverse("enquiry-intake")
    client.force_login(researcher)
    client.get(page)
    clock.shift(31 * 60)

    client.post(
        page,
        {
            "referrer_name": "Ms Patel, Oak Primary",
            "concern": "Bruise on the arm, KEPT-INTAKE-5512.",
            "categories": ["physical_abuse", "neglect"],
            "subjects-TOTAL_FORMS": "1",
            "subjects-INITIAL_FORMS": "0",
            "subjects-0-first_name": "Keira",
        },
        HTTP_REFERER=f"http://testserver{page}",
    )
    sign_in(client, researcher, page)
    restored = client.get(page).content.decode()

    assert "KEPT-INTAKE-5512" in restored
    assert 'value="Ms Patel, Oak Primary"' in restored
    assert 'value="Keira"' in restored
    assert not Enquiry.objects.exists()


def test_a_record_added_to_an_answer_after_the_time_out_is_restored(client, clock):
    hub = make_hub()
    page = reverse("sharing-request", args=[hub.police_request.pk])
    client.force_login(hub.police_officer)
    client.get(page)
    clock.shift(31 * 60)

    client.post(
        reverse("sharing-request-add-record", args=[hub.police_request.pk]),
        {"summary": "Domestic incident", "detail": "Officers attended; KEPT-RECORD-4410."},
        HTTP_REFERER=f"http://testserver{page}",
    )
    sign_in(client, hub.police_officer, page)
    restored = client.get(page).content.decode()

    assert "KEPT-RECORD-4410" in restored
    assert not hub.police_request.records.filter(detail__contains="KEPT-RECORD").exists()


# The warning's own sign-out.


def test_the_warnings_sign_out_waits_if_another_tab_kept_the_session(client, researcher, clock):
    client.force_login(researcher)
    clock.shift(20 * 60)

    response = client.post(reverse("session-time-out"), {"kept_path": "/", "reason": "x"})

    assert response.status_code == 409
    assert response.json() == {"seconds_left": 600}
    assert client.get(reverse("triage-queue")).status_code == 200


def test_the_warnings_sign_out_keeps_the_page_and_says_why(client, manager, clock, researcher):
    (amy,) = log(researcher, "Amy")
    page = reverse("enquiry-decide", args=[amy.reference])
    client.force_login(manager)
    clock.shift(30 * 60 - 2)

    response = client.post(reverse("session-time-out"), {"kept_path": page, "rationale": RATIONALE})
    sign_in_page = client.get(f"{reverse('login')}?next={page}").content.decode()
    sent_to = sign_in(client, manager, page)

    assert response.status_code == 204
    assert KEPT in sign_in_page
    assert sent_to == page
    assert RATIONALE in client.get(page).content.decode()


def test_a_form_from_elsewhere_is_not_kept(researcher, clock):
    """Only a form the site gave out (Django's CSRF check) is kept for the session's owner."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)
    clock.shift(31 * 60)

    client.post(reverse("enquiry-intake"), {"concern": "Planted text."})

    assert cache.get(kept_forms.key(researcher.pk)) is None


def test_the_warnings_sign_out_after_the_session_expired_still_keeps_it(
    client, manager, clock, researcher
):
    (amy,) = log(researcher, "Amy")
    page = reverse("enquiry-decide", args=[amy.reference])
    client.force_login(manager)
    clock.shift(40 * 60)

    response = client.post(reverse("session-time-out"), {"kept_path": page, "rationale": RATIONALE})

    assert response.status_code == 204
    assert KEPT in client.get(f"{reverse('login')}?next={page}").content.decode()
    assert cache.get(kept_forms.key(manager.pk))["fields"] == {"rationale": [RATIONALE]}


def test_a_form_sent_in_the_minute_before_the_row_expires_is_kept_too(
    client, manager, clock, researcher
):
    """At 30 minutes 30 seconds the session's row still loads and SessionLimits ends it."""
    (amy,) = log(researcher, "Amy")
    page = reverse("enquiry-decide", args=[amy.reference])
    client.force_login(manager)
    clock.shift(30 * 60 + 30)

    response = client.post(page, {"rationale": RATIONALE}, HTTP_REFERER=f"http://testserver{page}")

    assert response["Location"] == f"{reverse('login')}?next={page}"
    assert manager.account_events.latest("id").detail == "30 minutes without activity"
    assert cache.get(kept_forms.key(manager.pk))["fields"] == {"rationale": [RATIONALE]}
