"""Reads about enquiries and the hub's clock, shaped for the pages that show them."""

from datetime import date

from django.db.models import Prefetch

from .models import HUB_CLOCK_ID, ClosureDay, HubClock


def hub_clock_settings(*, today: date) -> HubClock:
    """The clock's configuration with its hours, allowances and coming closures (4 queries)."""
    return HubClock.objects.prefetch_related(
        "openinghours_set",
        "ragallowance_set",
        Prefetch(
            "closureday_set",
            queryset=ClosureDay.objects.filter(date__gte=today),
            to_attr="coming_closures",
        ),
    ).get(pk=HUB_CLOCK_ID)
