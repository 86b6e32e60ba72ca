from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from agencies import two_factor

# What the admin's own list filters and date drill-down put in the address after a field's
# path: `status__exact`, `agency__id__exact`, `due_at__gte`, `read_at__isempty`, `at__year`.
FILTER_LOOKUPS = frozenset({"exact", "isnull", "isempty", "gte", "lt", "year", "month", "day"})


def _filters_on(lookup: str, path: str, model) -> bool:
    """Whether `lookup` is one of the lookups a list filter on `path` makes."""
    if lookup == path:
        return True
    if not lookup.startswith(f"{path}__"):
        return False
    rest = lookup.removeprefix(f"{path}__").split("__")
    field = get_fields_from_path(model, path)[-1]
    if field.is_relation and rest[0] == field.target_field.name:
        rest = rest[1:]
    return len(rest) == 1 and rest[0] in FILTER_LOOKUPS


class ListFiltersOnly:
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
        return bool(self.date_hierarchy) and _filters_on(lookup, self.date_hierarchy, self.model)


class MashAdminSite(admin.AdminSite):
    """The admin for administrators: the role, not the is_staff flag, opens it, and only to a
    session that has passed the one-time password (as django-otp's OTPAdminSite would)."""

    site_header = "mash administration"
    site_title = "mash administration"
    index_title = "Agencies, people and hub settings"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            user.is_active
            and (user.is_superuser or user.has_role("administrator"))
            and two_factor.passed(request)
        )

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """One way in: the hub's own sign-in, with its lockout and one-time password. The
        admin's password form would be a second door without them."""
        if request.user.is_authenticated and two_factor.passed(request):
            raise PermissionDenied("Only administrators use the administration site.")
        wanted = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(wanted)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Every list filters only by its own filters, the apps' admins (auth's groups, axes'
        sign-in attempts) as much as ours."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ListFiltersOnly):
            admin_class = type(
                admin_class.__name__,
                (ListFiltersOnly, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
