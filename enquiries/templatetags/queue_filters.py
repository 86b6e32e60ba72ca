"""The triage queue's filters, written out here rather than by includes/select.html and
includes/checkbox.html: nine includes, a template variable at a time, cost the queue more than
its fifty rows (`queue_table`). The markup is those includes', character for character
(tests/enquiries/test_queue_filters_markup.py); every value is escaped."""

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _errors(field: BoundField) -> str:
    return "".join(
        f'<p class="govuk-error-message" id="{conditional_escape(field.auto_id)}-error">'
        f'<span class="govuk-visually-hidden">Error:</span> {conditional_escape(str(error))}</p>'
        for error in field.errors
    )


@register.simple_tag
def queue_select(field: BoundField) -> SafeString:
    """As includes/select.html: a field whose bound field gives `options`
    (`core.filters.SelectOptions`)."""
    errors = bool(field.errors)
    field_id = conditional_escape(field.id_for_label)
    described = f' aria-describedby="{conditional_escape(field.auto_id)}-error"' if errors else ""
    options = "".join(
        f'\n      <option value="{conditional_escape(value)}"{" selected" if selected else ""}>'
        f"{conditional_escape(label)}</option>\n    "
        for value, label, selected in field.options  # type: ignore[attr-defined]
    )
    return mark_safe(  # noqa: S308 - escaped above
        f'<div class="govuk-form-group{" govuk-form-group--error" if errors else ""}">\n'
        f'  <label class="govuk-label govuk-label--s" for="{field_id}">'
        f"{conditional_escape(field.label)}</label>\n"
        f"  {_errors(field)}\n"
        f'  <select class="govuk-select{" govuk-select--error" if errors else ""}" '
        f'id="{field_id}" name="{conditional_escape(field.html_name)}"{described}>\n'
        f"    {options}\n"
        "  </select>\n"
        "</div>\n"
    )


@register.simple_tag
def queue_checkbox(field: BoundField) -> SafeString:
    """As includes/checkbox.html."""
    field_id = conditional_escape(field.id_for_label)
    return mark_safe(  # noqa: S308 - escaped above
        '<div class="govuk-checkboxes__item">\n'
        f'  <input class="govuk-checkboxes__input" id="{field_id}" '
        f'name="{conditional_escape(field.html_name)}" type="checkbox" value="on"'
        f"{' checked' if field.value() else ''}>\n"
        f'  <label class="govuk-label govuk-checkboxes__label" for="{field_id}">'
        f"{conditional_escape(field.label)}</label>\n"
        "</div>\n"
    )
