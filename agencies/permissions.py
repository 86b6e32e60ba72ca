"""Role checks for the REST API, as agencies.decorators.role_required is for the pages."""

from rest_framework.permissions import BasePermission

from .models import Role


class HoldsAHubRole(BasePermission):
    """The API's default (settings REST_FRAMEWORK): a signed-in person with no role yet has
    nothing to read or do. Endpoints narrow it further to the roles they serve."""

    message = "Your account has no role in the hub yet: ask your hub administrator for one."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.has_role(*Role.values)
