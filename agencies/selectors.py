"""Reads about agencies and people, shaped for the pages that show them."""

from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Agency, Role, User


def agency_colleagues(*, user: User) -> QuerySet[User]:
    """Active people of the user's own agency, with their roles, in one extra query."""
    return (
        User.objects.filter(agency_id=user.agency_id, is_active=True)
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
        .order_by("last_name", "first_name")
    )


def agencies_with_member_counts() -> QuerySet[Agency]:
    return Agency.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True))
    ).order_by("-is_active", "name")


def role_counts() -> list[tuple[str, int]]:
    """How many active people hold each role, in the order roles are listed in the domain."""
    counts = dict(
        Group.objects.filter(name__in=Role.values)
        .annotate(n=Count("user", filter=Q(user__is_active=True)))
        .values_list("name", "n")
    )
    return [(role.label, counts.get(role.value, 0)) for role in Role]
