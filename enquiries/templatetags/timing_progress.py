"""How many stored deadlines are still being brought to the clock and policy in force, for the
pages where they are changed and the administration home (enquiries.timing)."""

from django import template

from enquiries.timing import behind_count

register = template.Library()


@register.inclusion_tag("enquiries/_timing_progress.html", takes_context=True)
def timing_progress(context: template.Context, css: str = "") -> dict[str, object]:
    """The count now, and a link to count again: the page is right without JavaScript."""
    request = context.get("request")
    return {
        "behind": behind_count(),
        "again": request.get_full_path() if request is not None else "",
        "css": css,
    }
