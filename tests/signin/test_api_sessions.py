"""The API and a session past the password alone: refused by the session authentication in
settings, and by HoldsAHubRole too for a view that uses DRF's own session authentication."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient

from agencies.models import Role
from agencies.permissions import HoldsAHubRole
from tests.two_factor import password_only_login

pytestmark = pytest.mark.django_db


@api_view(["GET"])
@authentication_classes([SessionAuthentication])
@permission_classes([IsAuthenticated, HoldsAHubRole])
def plain_session_view(request):
    return Response({"ok": True})


def test_a_view_with_drfs_own_session_authentication_still_needs_the_second_factor(make_user):
    request = RequestFactory().get("/")
    request.user = make_user(Role.RESEARCHER)
    request.session = SessionStore()

    refused = plain_session_view(request)
    request.session[DEVICE_ID_SESSION_KEY] = "otp_totp.totpdevice/1"
    allowed = plain_session_view(request)

    assert refused.status_code == 403
    assert refused.data == {"detail": HoldsAHubRole.unverified}
    assert allowed.status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_endpoint_answers_401_to_a_password_alone(make_user, method):
    api = APIClient()
    password_only_login(api, make_user(*Role.values))

    response = getattr(api, method)(reverse("api:information-record-list"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
