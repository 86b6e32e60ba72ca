"""Role checks for the REST API, as agencies.decorators.role_required is for the pages."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from . import two_factor
from .authentication import NOT_PAST_SECOND_FACTOR
from .models import Role


class HoldsAHubRole(BasePermission):
    """The API's default (settings REST_FRAMEWORK): a signed-in person with no role yet has
    nothing to read or do. Endpoints narrow it further to the roles they serve.

    A browser session must also have passed the one-time password. The session authentication
    in settings already refuses one that has not (agencies.authentication); this holds even for
    a view configured with DRF's own. A token is its own credential (agencies.tokens)."""

    message = "Your account has no role in the hub yet: ask your hub administrator for one."
    unverified = NOT_PAST_SECOND_FACTOR

    def has_permission(self, request, view) -> bool:
        if not (request.user.is_authenticated and request.user.has_role(*Role.values)):
            return False
        by_session = isinstance(request.successful_authenticator, SessionAuthentication)
        if by_session and not two_factor.passed(request._request):
            self.message = self.unverified
            return False
        return True
