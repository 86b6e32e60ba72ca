"""Which enquiries a person may know of: the firewall's rule, offered to this app as a hook.

The firewall lives in `sharing`, the layer above, which registers its rule when it starts
(`sharing.apps`). Every list of enquiries this app shows (the rest of a family, earlier
enquiries about the same people, re-referrals, notifications) narrows through `only_visible`,
so a practitioner never learns of an enquiry their agency was not asked about: not its
reference, its people, its outcome, nor that it exists.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from agencies.models import User

# (user, the field naming the enquiry) -> a condition, or None for every enquiry.
Rule = Callable[[User, str], Q | None]

_rule: Rule | None = None


def decide_with(rule: Rule) -> None:
    global _rule
    _rule = rule


def only_visible(queryset: QuerySet, user: User, *, field: str = "pk", or_none: bool = False):
    """`queryset` narrowed to rows whose enquiry (`field`) this person may see; with `or_none`,
    rows about no enquiry at all stay too."""
    if _rule is None:
        raise ImproperlyConfigured("No firewall rule for enquiries: is `sharing` installed?")
    condition = _rule(user, field)
    if condition is None:
        return queryset
    if or_none:
        condition = Q(**{f"{field}__isnull": True}) | condition
    return queryset.filter(condition)
