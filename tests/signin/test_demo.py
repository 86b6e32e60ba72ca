"""The demo seed and sign-in: with two-factor off the demo logins need nothing more; with it on,
each sets up an app at its first sign-in, and the seed says which."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_with_two_factor_off_a_demo_login_signs_in_with_its_password(client, settings):
    settings.TWO_FACTOR_REQUIRED = False

    output = seed()
    response = client.post(
        reverse("login"), {"username": "police", "password": "police-demo-2026"}, follow=True
    )

    assert "Two-factor sign-in is off (TWO_FACTOR_REQUIRED=false)" in output
    assert response.redirect_chain[-1][0] == reverse("agency-inbox")
    assert "Two-factor sign-in is switched off" in response.content.decode()
    assert not TOTPDevice.objects.exists()


def test_with_two_factor_on_a_demo_login_sets_up_its_app_first(client):
    output = seed()

    response = client.post(reverse("login"), {"username": "police", "password": "police-demo-2026"})

    assert "each login sets up an authenticator app at its first sign-in" in output
    assert client.get(response["Location"])["Location"].startswith(reverse("two-factor-set-up"))
    assert not TOTPDevice.objects.filter(user=User.objects.get(username="police")).exists()
