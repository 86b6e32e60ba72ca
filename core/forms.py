from django.core.exceptions import ValidationError
from django.forms import Form


def add_service_errors(form: Form, error: ValidationError, *, fields_elsewhere=()) -> None:
    """A service's field errors onto the form's fields (or the page's summary)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.message_dict.items():
        target = field if field in form.fields and field not in fields_elsewhere else None
        for message in field_errors:
            form.add_error(target, message)
