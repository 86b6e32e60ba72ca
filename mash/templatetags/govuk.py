"""Form widgets with GOV.UK Design System classes, so templates need not re-implement them."""

from django import template
from django.forms import BaseForm, BoundField
from django.template import Context

from core.forms import error_links, error_target_id, forms_with_errors

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


@register.filter
def error_target(field: BoundField | str) -> str:
    """The id an error summary links to for `field` (core.forms.error_target_id)."""
    return error_target_id(field) if isinstance(field, BoundField) else ""


@register.simple_tag
def error_summary_lines(form: BaseForm) -> list[tuple[str, BoundField | None, str]]:
    """A form's error summary lines (core.forms.error_links): (id, field, message)."""
    return error_links(form)


# What besides a form's errors puts an error summary on a page: an edit overtaken by someone
# else's, people at intake who may already be known, a file's problems, a sign-in locked out,
# an answer refused, or a view's own `page_errors`.
PAGE_ERROR_FLAGS = ("stale", "checking", "problems", "locked_out", "answer_error", "page_errors")


@register.simple_tag(takes_context=True)
def error_title(context: Context) -> str:
    """ "Error: " before the page's title whenever the page shows an error summary: any form,
    formset or filter set in the context with errors, or one of `PAGE_ERROR_FLAGS`. A page
    that shows a form again without its errors (`hide_errors`) has none."""
    values = context.flatten()
    if values.get("hide_errors"):
        return ""
    if any(values.get(flag) for flag in PAGE_ERROR_FLAGS) or forms_with_errors(values):
        return "Error: "
    return ""
