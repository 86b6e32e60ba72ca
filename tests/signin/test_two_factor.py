"""Two-factor sign-in: the app set up at the first sign-in with a QR code and backup codes, a code
at every sign-in after, the admin behind the same, and the account log of each step."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import two_factor
from agencies.models import Role
from audit.models import AccountEvent
from tests.factories import PASSWORD
from tests.two_factor import app_for, code_now

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind


def password_step(client: Client, user, next_url: str = ""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def kinds(user) -> list[str]:
    return list(user.account_events.order_by("id").values_list("kind", flat=True))


# The first sign-in.


def test_a_first_sign_in_goes_to_set_up_the_app(client, researcher):
    response = password_step(client, researcher, next_url="/queue/")

    assert response.status_code == 302
    assert response["Location"] == "/sign-in/two-factor/?next=%2Fqueue%2F"
    onward = client.get(response["Location"])
    assert onward["Location"] == "/sign-in/two-factor/set-up/?next=%2Fqueue%2F"


def test_the_set_up_page_shows_a_qr_code_as_markup_and_the_secret_as_text(client, researcher):
    password_step(client, researcher)

    first = client.get(reverse("two-factor-set-up")).content.decode()
    again = client.get(reverse("two-factor-set-up")).content.decode()

    device = TOTPDevice.objects.get(user=researcher)
    assert not device.confirmed
    assert two_factor.secret_text(device) in first
    assert re.search(r"<svg[^>]*class=\"mash-qr-code\"", first)
    # Within the Content-Security-Policy: no inline style, no data: image, no script.
    qr = re.search(r"<svg.*?</svg>", first, re.S).group(0)
    assert "style=" not in qr and "data:" not in qr and "<script" not in qr
    # A reload keeps the same secret, so a half-scanned code still works.
    assert re.search(r"<svg.*?</svg>", again, re.S).group(0) == qr
    assert two_factor.secret_text(device) in again
    assert TOTPDevice.objects.filter(user=researcher).count() == 1


def test_the_secret_is_the_devices_key_in_base32_for_typing_in(researcher):
    device = TOTPDevice.objects.create(user=researcher, key="00" * 20, confirmed=False)

    assert two_factor.secret_text(device) == "AAAA " * 7 + "AAAA"
    assert "secret=AAAAAAAA" in device.config_url
    assert device.config_url.startswith("otpauth://totp/Countyshire%20MASH%3A")


def test_a_wrong_code_does_not_confirm_the_app(client, researcher):
    password_step(client, researcher)
    client.get(reverse("two-factor-set-up"))

    response = client.post(reverse("two-factor-set-up"), {"code": "000000"})

    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=researcher).confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert kinds(researcher)[-1] == Kind.TWO_FACTOR_FAILED


def test_the_first_code_confirms_the_app_and_the_backup_codes_are_shown_once(client, researcher):
    password_step(client, researcher, next_url="/queue/")
    client.get(reverse("two-factor-set-up"))
    device = TOTPDevice.objects.get(user=researcher)

    confirmed = client.post(
        reverse("two-factor-set-up"), {"code": code_now(device), "next": "/queue/"}
    )
    shown = client.get(confirmed["Location"])
    again = client.get(confirmed["Location"])

    assert confirmed["Location"] == "/sign-in/two-factor/backup-codes/?next=%2Fqueue%2F"
    codes = StaticToken.objects.filter(device__user=researcher).values_list("token", flat=True)
    assert len(codes) == 10
    html = shown.content.decode()
    assert all(code in html for code in codes)
    assert 'href="/queue/"' in html
    assert again.status_code == 302 and again["Location"] == "/queue/"
    assert not any(code in again.content.decode() for code in codes)
    assert client.get("/queue/").status_code == 200
    assert kinds(researcher) == [
        Kind.SIGNED_IN,
        Kind.TWO_FACTOR_ADDED,
        Kind.BACKUP_CODES_ISSUED,
    ]


def test_someone_with_an_app_cannot_set_up_another_with_the_password_alone(client, researcher):
    app_for(researcher)
    password_step(client, researcher)

    response = client.get(reverse("two-factor-set-up"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))
    assert TOTPDevice.objects.filter(user=researcher).count() == 1


# Each sign-in after.


def test_each_sign_in_asks_for_the_code_and_then_goes_where_asked(client, researcher):
    app = app_for(researcher)
    password_step(client, researcher, next_url="/notifications/")
    before = client.get("/queue/")

    page = client.get(reverse("two-factor") + "?next=/notifications/")
    done = client.post(reverse("two-factor"), {"code": code_now(app), "next": "/notifications/"})

    assert before.status_code == 302
    assert before["Location"] == "/sign-in/two-factor/?next=%2Fqueue%2F"
    assert "Enter the code from your authenticator app" in page.content.decode()
    assert done["Location"] == "/notifications/"
    assert client.get("/queue/").status_code == 200
    assert kinds(researcher)[-1] == Kind.TWO_FACTOR_PASSED


def test_a_wrong_code_is_refused_and_logged(client, researcher):
    app_for(researcher)
    password_step(client, researcher)

    response = client.post(reverse("two-factor"), {"code": "123456"})

    assert response.status_code == 200
    assert "The code is not right, or it has expired" in response.content.decode()
    assert client.get("/queue/").status_code == 302
    event = researcher.account_events.latest("id")
    assert (event.kind, event.detail) == (Kind.TWO_FACTOR_FAILED, "authenticator code")


def test_guessing_is_slowed_down_after_a_wrong_code(client, researcher, settings):
    # 1 s after one wrong code by default, then 2, 4, 8...; 60 here, so no slow machine
    # outlasts it between two requests.
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    app = app_for(researcher)
    password_step(client, researcher)
    client.post(reverse("two-factor"), {"code": "123456"})

    # Even the right code waits out the delay.
    response = client.post(reverse("two-factor"), {"code": code_now(app)})

    assert re.search(r"Too many wrong codes\. Wait \d\d seconds", response.content.decode())
    assert client.get("/queue/").status_code == 302


def test_each_code_signs_in_once(researcher):
    app = app_for(researcher)
    code = code_now(app)
    first, second = Client(), Client()
    password_step(first, researcher)
    password_step(second, researcher)

    first.post(reverse("two-factor"), {"code": code})
    replayed = second.post(reverse("two-factor"), {"code": code})

    assert first.get("/queue/").status_code == 200
    assert replayed.status_code == 200
    assert second.get("/queue/").status_code == 302


def test_a_backup_code_signs_in_once(client, researcher):
    app_for(researcher)
    codes = two_factor.issue_backup_codes(user=researcher)
    password_step(client, researcher)

    used = client.post(reverse("two-factor"), {"code": codes[3].upper()[:4] + " " + codes[3][4:]})
    assert used.status_code == 302
    assert client.get("/queue/").status_code == 200
    event = researcher.account_events.latest("id")
    assert (event.kind, event.detail) == (Kind.BACKUP_CODE_USED, "9 left")

    again = Client()
    password_step(again, researcher)
    refused = again.post(reverse("two-factor"), {"code": codes[3]})
    assert "The code is not right" in refused.content.decode()
    assert two_factor.backup_codes_left(researcher) == 9


def test_the_session_gets_a_new_key_once_the_code_is_accepted(client, researcher):
    app = app_for(researcher)
    password_step(client, researcher)
    after_password = client.session.session_key

    client.post(reverse("two-factor"), {"code": code_now(app)})

    assert client.session.session_key != after_password
    assert not Session.objects.filter(session_key=after_password).exists()
    assert client.session[SESSION_KEY] == str(researcher.pk)


def test_before_the_code_the_menu_offers_nothing_but_signing_out(client, researcher):
    app_for(researcher)
    password_step(client, researcher)

    html = client.get(reverse("two-factor")).content.decode()

    assert "Triage queue" not in html
    assert "Your account" not in html
    assert "Sign out" in html


# The admin site.


def test_the_admin_needs_the_code_too(client, make_user):
    superuser = make_user(is_superuser=True)
    app = app_for(superuser)
    password_step(client, superuser)

    index = client.get(reverse("admin:index"))
    admin_login = client.get(index["Location"])
    sign_in = client.get(admin_login["Location"])
    client.post(reverse("two-factor"), {"code": code_now(app)})

    assert index["Location"].startswith(reverse("admin:login"))
    assert admin_login["Location"] == "/sign-in/?next=/admin/"
    assert sign_in["Location"] == "/sign-in/two-factor/?next=%2Fadmin%2F"
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admins_own_password_form_is_not_a_way_in(client, make_user):
    administrator = make_user(Role.ADMINISTRATOR)

    page = client.get(reverse("admin:login"))
    posted = client.post(
        reverse("admin:login"), {"username": administrator.username, "password": PASSWORD}
    )

    assert page.status_code == posted.status_code == 302
    assert page["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session


def test_two_administrators_reset_a_lost_phone_and_the_person_is_signed_out(client, make_user):
    """One asks, a second approves (tests/agencies/test_account_resets.py has the rules)."""
    administrator, approver = make_user(Role.ADMINISTRATOR), make_user(Role.ADMINISTRATOR)
    researcher = make_user(Role.RESEARCHER)
    phone_holder = Client()
    phone_holder.force_login(researcher)
    two_factor.issue_backup_codes(user=researcher)
    client.force_login(administrator)

    asked = client.post(
        reverse("hub-settings:person-reset", args=[researcher.pk, "two-factor"]),
        {"reason": "Lost their phone; rang from the office line.", "confirm": "1"},
    )
    assert asked.status_code == 302
    assert TOTPDevice.objects.filter(user=researcher).exists()
    client.force_login(approver)
    change = researcher.access_changes.get()
    approved = client.post(
        reverse("hub-settings:access-change", args=[change.pk]), {"decision": "approve"}
    )

    assert approved.status_code == 302
    assert not TOTPDevice.objects.filter(user=researcher).exists()
    assert not StaticDevice.objects.filter(user=researcher).exists()
    assert phone_holder.get("/queue/").status_code == 302
    removed = researcher.account_events.filter(kind=Kind.TWO_FACTOR_REMOVED)
    assert {event.detail for event in removed} == {
        f"Test authenticator, removed by {approver.username}",
        f"Backup codes, removed by {approver.username}",
    }
    # The next sign-in sets up a new app.
    password_step(phone_holder, researcher)
    assert phone_holder.get(reverse("two-factor"))["Location"].startswith(
        reverse("two-factor-set-up")
    )
    assert client.get(reverse("hub-settings:people")).status_code == 200


def test_the_admin_never_shows_a_devices_secret_or_backup_codes(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))

    index = client.get(reverse("admin:index")).content.decode()

    assert "otp_totp" not in index and "otp_static" not in index


# Backup codes from the account page.


def test_new_backup_codes_replace_the_old_and_are_shown_once(client, researcher):
    old = two_factor.issue_backup_codes(user=researcher)
    client.force_login(researcher)

    made = client.post(reverse("backup-codes-renew"))
    shown = client.get(made["Location"]).content.decode()
    again = client.get(reverse("account")).content.decode()

    new = list(StaticToken.objects.filter(device__user=researcher).values_list("token", flat=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert all(code in shown for code in new)
    assert not any(code in again for code in new)
    assert "You have 10 backup codes left." in again
    assert kinds(researcher).count(Kind.BACKUP_CODES_ISSUED) == 2


# The demo, with two-factor switched off.


def test_with_two_factor_off_the_password_alone_signs_in_and_every_page_says_so(
    client, researcher, settings
):
    settings.TWO_FACTOR_REQUIRED = False

    sign_in_page = client.get(reverse("login")).content.decode()
    signed_in = password_step(client, researcher)
    queue = client.get("/queue/")
    missing = client.get("/no/such/page/")

    assert signed_in["Location"] == "/"
    assert queue.status_code == 200
    for html in (sign_in_page, queue.content.decode(), missing.content.decode()):
        assert 'data-testid="two-factor-off"' in html
        assert "Two-factor sign-in is switched off" in html
    assert not TOTPDevice.objects.filter(user=researcher).exists()


def test_with_two_factor_on_there_is_no_banner(client, settings):
    assert settings.TWO_FACTOR_REQUIRED

    assert 'data-testid="two-factor-off"' not in client.get(reverse("login")).content.decode()


def test_the_error_page_rendered_without_a_request_shows_the_banner_too(settings):
    from django.template.loader import render_to_string

    settings.TWO_FACTOR_REQUIRED = False

    assert "Two-factor sign-in is switched off" in render_to_string("500.html")
