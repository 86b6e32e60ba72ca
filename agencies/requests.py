"""Requests past sign-in, typed as such: behind `role_required`, `login_required` or DRF's
`IsAuthenticated`, the user is a person of this hub, never the anonymous user."""

from django.http import HttpRequest
from rest_framework.request import Request

from .models import User


class SignedInRequest(HttpRequest):
    user: User


class SignedInApiRequest(Request):
    user: User
