"""What every administration page shares: lists that filter only by their own filters, and
pages for rows the hub's own work writes, which administrators may read and nobody may edit."""

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.db.models.fields.related import RelatedField
from django.http import HttpRequest

if TYPE_CHECKING:
    # What ListFiltersOnly is mixed into; at run time it stands alone (mash.admin mixes it in).
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

# What the admin's own list filters and date drill-down put in the address after a field's
# path: `status__exact`, `agency__id__exact`, `due_at__gte`, `read_at__isempty`, `at__year`.
FILTER_LOOKUPS = frozenset({"exact", "isnull", "isempty", "gte", "lt", "year", "month", "day"})


def _filters_on(lookup: str, path: str, model: type[models.Model]) -> bool:
    """Whether `lookup` is one of the lookups a list filter on `path` makes."""
    if lookup == path:
        return True
    if not lookup.startswith(f"{path}__"):
        return False
    rest = lookup.removeprefix(f"{path}__").split("__")
    field = get_fields_from_path(model, path)[-1]
    if field.is_relation and rest[0] == cast("RelatedField[Any, Any]", field).target_field.name:
        rest = rest[1:]
    return len(rest) == 1 and rest[0] in FILTER_LOOKUPS


class ListFiltersOnly(_ModelAdmin):
    """A ModelAdmin whose lists narrow only by their own filters.

    Django lets the address filter a list by any of the model's fields
    (`?question__icontains=...`), which makes every list a search of whatever its model holds,
    case content included. Here a lookup must be one a `list_filter` or the `date_hierarchy`
    makes; Django answers anything else with a 400 ("Filtering by ... not allowed")."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                if lookup == item.parameter_name:
                    return True
                continue
            path = item[0] if isinstance(item, list | tuple) else item
            if isinstance(path, str) and _filters_on(lookup, path, self.model):
                return True
        return bool(self.date_hierarchy and _filters_on(lookup, self.date_hierarchy, self.model))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the hub's own work writes (the SLA scan, information requests, chasers, requests
    for access): administrators may look, nobody may add, edit or delete here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
