"""Which enquiries a person may know of, and why: the firewall's answers, offered to this app
as a hook.

The firewall lives in `sharing`, the layer above, which registers its answers when it starts
(`sharing.apps`). Every list of enquiries this app shows (the rest of a family, earlier
enquiries about the same people, re-referrals, notifications) narrows through `only_visible`,
so a practitioner never learns of an enquiry their agency was not asked about: not its
reference, its people, its outcome, nor that it exists. A page about one enquiry asks
`can_see`, and logs the look with `justification`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from agencies.models import User

from .models import Enquiry


@dataclass(frozen=True)
class Gate:
    # (user, the field naming the enquiry) -> a condition, or None for every enquiry.
    rule: Callable[[User, str], Q | None]
    can_see: Callable[[User, Enquiry], bool]
    # Why this person may look at this enquiry, in the access log's words.
    justification: Callable[[User, Enquiry], str]


_gate: Gate | None = None


def decide_with(gate: Gate) -> None:
    global _gate
    _gate = gate


def _the_gate() -> Gate:
    if _gate is None:
        raise ImproperlyConfigured("No firewall for enquiries: is `sharing` installed?")
    return _gate


def only_visible(queryset: QuerySet, user: User, *, field: str = "pk", or_none: bool = False):
    """`queryset` narrowed to rows whose enquiry (`field`) this person may see; with `or_none`,
    rows about no enquiry at all stay too."""
    condition = _the_gate().rule(user, field)
    if condition is None:
        return queryset
    if or_none:
        condition = Q(**{f"{field}__isnull": True}) | condition
    return queryset.filter(condition)


def sees_every_enquiry(user: User) -> bool:
    return _the_gate().rule(user, "pk") is None


def can_see(user: User, enquiry: Enquiry) -> bool:
    return _the_gate().can_see(user, enquiry)


def justification(user: User, enquiry: Enquiry) -> str:
    return _the_gate().justification(user, enquiry)
