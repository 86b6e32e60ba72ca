"""What every REST endpoint shares: its pages and how domain errors become responses."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from enquiries.exceptions import StaleEdit


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def validation_errors(error: ValidationError) -> dict[str, list[str]]:
    """A Django ValidationError in DRF's shape: messages by field, the rest as non-field."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
        for field, messages in error.message_dict.items()
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The services speak Django (ValidationError, PermissionDenied, StaleEdit); the API answers
    400 with field-level errors, 403, and 409 with what changed since the client read it."""
    if isinstance(exc, StaleEdit):
        set_rollback()
        return Response(
            {
                "detail": exc.messages[0],
                "changes": exc.changes,
                "current_version": exc.current_version,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, ValidationError):
        set_rollback()
        return Response(validation_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    # Django's PermissionDenied and Http404 are mapped to 403 and 404 by DRF itself.
    return drf_exception_handler(exc, context)
