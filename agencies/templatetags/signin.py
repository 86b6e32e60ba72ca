from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def two_factor_off() -> bool:
    """For base.html's banner; read from settings, so error pages rendered without a request
    show it too."""
    return not settings.TWO_FACTOR_REQUIRED
