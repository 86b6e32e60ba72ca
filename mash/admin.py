from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from agencies import two_factor
from core.admin import ListFiltersOnly


class MashAdminSite(admin.AdminSite):
    """The Django admin, for superusers only, and only to a session that has passed the
    one-time password (as django-otp's OTPAdminSite would). Administrators change the hub's
    settings on its own pages (/hub-settings/, mash.hub_settings), which check each change
    before it is saved and keep its history."""

    site_header = "mash administration"
    site_title = "mash administration"
    index_title = "Superusers' administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser and two_factor.passed(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """One way in: the hub's own sign-in, with its lockout and one-time password. The
        admin's password form would be a second door without them."""
        if request.user.is_authenticated and two_factor.passed(request):
            raise PermissionDenied(
                "Only superusers use the administration site; administrators change the hub's "
                "settings in Hub settings."
            )
        wanted = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(wanted)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Every list filters only by its own filters, the apps' admins (auth's groups) as much
        as ours."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ListFiltersOnly):
            admin_class = type(
                admin_class.__name__,
                (ListFiltersOnly, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
