"""Form widgets with GOV.UK Design System classes, so templates need not re-implement them."""

from django import template
from django.forms import BoundField

register = template.Library()

WIDGET_CLASSES = {"select": "govuk-select", "textarea": "govuk-textarea"}


@register.simple_tag
def govuk_widget(field: BoundField, *, hide_errors: bool = False, width: str = "") -> str:
    """The field's own widget (so dates and times keep their formats) with GOV.UK classes,
    its error state and the ids of its hint and error for screen readers."""
    base = WIDGET_CLASSES.get(field.widget_type, "govuk-input")
    classes = [base]
    if width:
        classes.append(f"{base}--width-{width}")
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors and not hide_errors:
        classes.append(f"{base}--error")
        described_by.append(f"{field.auto_id}-error")
    attrs: dict[str, str | bool] = {"class": " ".join(classes)}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)
