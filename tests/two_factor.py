"""Signing in past the one-time password in tests: a confirmed authenticator app for a person,
the code it would show now, and a test client's session marked as past both factors."""

from django.http import HttpRequest
from django.test import Client
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import User

TEST_APP = "Test authenticator"

# Django's own, kept before tests/conftest.py makes force_login pass the second factor too.
_django_force_login = Client.force_login


def password_only_login(client: Client, user: User, backend=None) -> None:
    """Signed in with the password alone: not yet past the one-time password."""
    _django_force_login(client, user, backend)


def app_for(user: User) -> TOTPDevice:
    """The person's confirmed authenticator app, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name=TEST_APP, confirmed=True)


def code_now(device: TOTPDevice) -> str:
    """The six digits the app shows now. Each 30-second code signs in once (the device keeps
    the last step used), so a test that signs the same person in twice forgets that first."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def pass_second_factor(client: Client, user: User) -> None:
    """Mark the client's signed-in session as past the one-time password, as the verify page
    does, through django-otp's own login."""
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, app_for(user))
    request.session.save()
