"""How the API knows who is calling: an API token (agencies.tokens) or a browser session that
has passed both factors of sign-in."""

from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from . import tokens, two_factor

NOT_PAST_SECOND_FACTOR = "Finish signing in first: enter the code from your authenticator app."


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's own, against our digests instead of stored keys."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = tokens.holder_of(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return token.user, token


class VerifiedSessionAuthentication(SessionAuthentication):
    """A session signed in with the password alone is not signed in for the API: 401 until
    the one-time password is entered. Every endpoint is covered, whatever its permissions."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not two_factor.passed(request._request):
            raise exceptions.AuthenticationFailed(NOT_PAST_SECOND_FACTOR)
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI schema's `cookieAuth`, as for DRF's own session authentication."""

    target_class = "agencies.authentication.VerifiedSessionAuthentication"
