"""What every REST endpoint shares: its pages, what a request body may hold, and how domain
errors become responses. Who may call it by default: agencies.permissions.HoldsAHubRole."""

from collections.abc import Mapping

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .exceptions import RefusedWrite


class Pagination(PageNumberPagination):
    """Pages of 50; a client may ask for up to 200 (`page_size`), never more: a larger number
    is capped, anything but a whole number of at least 1 refused (400), as the schema says.
    A `page` that is not one of the list's is 404, as REST framework has it."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not (asked.isascii() and asked.isdigit() and int(asked) >= 1):
            raise serializers.ValidationError(
                {self.page_size_query_param: ["Give a whole number of at least 1."]}
            )
        return min(int(asked), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"How many to a page: {self.page_size} unless asked, at most "
                    f"{self.max_page_size} (more is taken as {self.max_page_size})."
                )
        return parameters


class RefusesUnknownFields:
    """For every input serializer: a field the API does not know is refused by name, not
    silently dropped, so a misspelt `rationle` cannot save an enquiry without its reason.

    `required_by_service` names the fields a service refuses when missing or blank although
    the serializer lets them through, so that the service says everything missing at once, in
    its own words, and logs the refusal where it logs them: the schema declares them required
    and not empty all the same (core.schema)."""

    required_by_service: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not part of this request."] for name in unknown}
                )
        return super().to_internal_value(data)


def validation_errors(error: ValidationError) -> dict[str, list[str]]:
    """A Django ValidationError in DRF's shape: messages by field, the rest as non-field."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
        for field, messages in error.message_dict.items()
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The services speak Django (ValidationError, PermissionDenied, RefusedWrite); the API
    answers 400 with field-level errors, 403, and for a refused write its own status with what
    the client needs to act on: 409 with what changed since the client read it (StaleEdit),
    422 for an intake's Idempotency-Key reused with different details."""
    if isinstance(exc, RefusedWrite):
        set_rollback()
        return Response({"detail": exc.messages[0], **exc.details()}, status=exc.status)
    if isinstance(exc, ValidationError):
        set_rollback()
        return Response(validation_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    # Django's PermissionDenied and Http404 are mapped to 403 and 404 by DRF itself.
    return drf_exception_handler(exc, context)
