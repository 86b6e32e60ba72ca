"""What every HTML form says when something needs correcting, in the GOV.UK Design System's
words, and where its error summary links to (docs/forms.md)."""

from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.forms import BoundField, Form
from django.forms.widgets import ChoiceWidget

from .filters import NOT_A_CHOICE, NOT_A_NUMBER


def add_service_errors(form: Form, error: ValidationError, *, fields_elsewhere=()) -> None:
    """A service's field errors onto the form's fields (or the page's summary)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.message_dict.items():
        target = field if field in form.fields and field not in fields_elsewhere else None
        for message in field_errors:
            form.add_error(target, message)


# Where an error summary links to.


def error_target_id(field: BoundField) -> str:
    """The id of the element an error summary's link for `field` moves focus to: the first
    radio or checkbox of a group, the first input (the day) of a date input, else the input
    itself. Asked of the widget, so a new widget needs no change here."""
    auto_id = field.auto_id
    if not auto_id:
        return ""
    widget = field.field.widget
    if isinstance(widget, ChoiceWidget) and widget.option_inherits_attrs:
        # Radios and checkboxes: Django's RadioSelect gives no id "for a label" of the group.
        return ChoiceWidget.id_for_label(widget, auto_id, "0")
    own = widget.id_for_label(auto_id)
    if own:
        return own
    if isinstance(widget, forms.MultiWidget):
        attrs = widget.build_attrs(widget.attrs, {"id": auto_id})
        context = widget.get_context(field.html_name, field.value(), attrs)
        for subwidget in context["widget"]["subwidgets"]:
            if subwidget["attrs"].get("id"):
                return subwidget["attrs"]["id"]
    return auto_id


def error_links(form: forms.BaseForm) -> list[tuple[str, BoundField | None, str]]:
    """An error summary's lines: the id each links to, the field (None for the whole form's)
    and the message. A message about the whole form, or about a hidden field, links to the
    first field the person can correct; with none, the line is not a link ("")."""
    visible = form.visible_fields()
    first = error_target_id(visible[0]) if visible else ""
    lines: list[tuple[str, BoundField | None, str]] = [
        (first, None, str(message)) for message in form.non_field_errors()
    ]
    for field in form:
        target = first if field.is_hidden else error_target_id(field)
        lines.extend((target, field, str(message)) for message in field.errors)
    return lines


def forms_with_errors(values: Any, *, depth: int = 2) -> bool:
    """Whether any form or formset among `values`, or in a dict, list or tuple of them (to
    `depth`), has errors to show. Types are compared exactly, so a lazy value (the CSRF
    token, the user) is never evaluated for it."""
    kind = type(values)
    if issubclass(kind, forms.BaseForm):
        return values.is_bound and bool(values.errors)
    if issubclass(kind, forms.BaseFormSet):
        return values.is_bound and bool(values.total_error_count())
    if issubclass(kind, django_filters.FilterSet):
        return values.is_bound and bool(values.form.errors)
    if depth and issubclass(kind, dict):
        return any(forms_with_errors(value, depth=depth - 1) for value in values.values())
    if depth and kind in (list, tuple):
        return any(forms_with_errors(value, depth=depth - 1) for value in values)
    return False


# The messages.

_HIDDEN = "Part of the form was missing or changed. Reload the page and try again"


def _generic(field: forms.Field) -> set[str]:
    """The messages that say nothing of the field: Django's own for its class, and REST
    framework's, which the API's filters keep (core.filters)."""
    generic = {str(message) for message in (*NOT_A_CHOICE.values(), *NOT_A_NUMBER.values())}
    for cls in type(field).__mro__:
        generic |= {str(message) for message in getattr(cls, "default_error_messages", {}).values()}
    return generic


def _what(label: str) -> str:
    """A label as the object of a sentence: "Date of birth" becomes "date of birth", "NHS
    number" stays as it is."""
    text = label.replace(" (optional)", "").rstrip("?:").strip()
    if len(text) > 1 and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def govuk_messages(field: forms.Field, what: str) -> dict[str, str]:
    """The messages a field of this kind gives, about `what` ("the referrer's name")."""
    if isinstance(field.widget, forms.HiddenInput):
        codes = ("required", "invalid", "invalid_choice", "min_value", "max_value", "max_length")
        return dict.fromkeys(codes, _HIDDEN)
    subject = _capital(what)
    messages: dict[str, str] = {}
    if isinstance(field, forms.BooleanField):
        messages["required"] = f"Select “{field.label}” to continue"
    elif isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        chosen = f"Select {what} from the options shown"  # noqa: S608 (words, not SQL)
        messages |= {
            "required": f"Select {what}",
            "invalid_choice": chosen,
            "invalid_list": chosen,
            "invalid_pk_value": chosen,
        }
    elif isinstance(field, forms.FileField):
        messages |= {
            "required": f"Select {what}",
            "invalid": "The selected file could not be read: select it again",
            "missing": "The selected file could not be read: select it again",
            "empty": "The selected file is empty",
        }
    else:
        messages["required"] = f"Enter {what}"
    if isinstance(field, forms.DateTimeField):
        messages["invalid"] = f"{subject} must be a real date and time"
    elif isinstance(field, forms.DateField):
        messages["invalid"] = f"{subject} must be a real date"
    elif isinstance(field, forms.IntegerField):
        messages["invalid"] = f"{subject} must be a whole number, like 7"
        low, high = field.min_value, field.max_value
        if low is not None and high is not None:
            messages["min_value"] = messages["max_value"] = (
                f"{subject} must be between {low} and {high}"
            )
        else:
            messages["min_value"] = f"{subject} must be {low} or more"
            messages["max_value"] = f"{subject} must be {high} or less"
    elif isinstance(field, forms.EmailField):
        messages["invalid"] = "Enter an email address in the correct format, like name@example.com"
    # TextLimit's words (free text) are the API's too (core.text), and already say what to do.
    if any(type(validator) is MaxLengthValidator for validator in field.validators):
        messages["max_length"] = f"{subject} must be %(limit_value)s characters or fewer"
    return messages


def apply_govuk_messages(field: forms.Field, what: str) -> None:
    """Each of Django's generic messages on `field` replaced by its GOV.UK one; a message the
    form gives itself is kept."""
    generic = _generic(field)
    for code, message in govuk_messages(field, what).items():
        current = field.error_messages.get(code)
        if current is None or str(current) in generic:
            field.error_messages[code] = message


class GovukErrorsMixin:
    """Every field of the form says what to do, in the GOV.UK pattern ("Enter the referrer's
    name", "Select the outcome", "Date of birth must be a real date"), unless it has its own
    message. `error_names` says how a message names a field whose label does not read well in
    a sentence; otherwise the label is used."""

    error_names: ClassVar[dict[str, str]] = {}
    fields: dict[str, forms.Field]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            what = self.error_names.get(name) or _what(str(field.label or name.replace("_", " ")))
            apply_govuk_messages(field, what)


class GovukForm(GovukErrorsMixin, forms.Form):
    """A form of the service's pages: see `GovukErrorsMixin`. A new one starts from what the
    person typed before their session ran out, if this page is where they typed it
    (agencies.kept_forms)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.update(kept_initial(self))


def kept_initial(form: Form) -> dict[str, Any]:
    """Initial values from the fields kept for this request (`request.kept_form`, a QueryDict),
    read as each field's widget reads a submitted form: checkboxes, dates in parts, lists."""
    from .request_context import current_request

    kept = getattr(current_request(), "kept_form", None)
    if not kept:
        return {}
    initial = {}
    for name, field in form.fields.items():
        widget, key = field.widget, form.add_prefix(name)
        if not widget.value_omitted_from_data(kept, {}, key):
            initial[name] = widget.value_from_datadict(kept, {}, key)
    return initial
