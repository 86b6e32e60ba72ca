"""NFA quality sampling, for administrators: the share drawn each week and who reviews. The
reviews themselves are case work, for the hub's reviewers only (reports.quality_views)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from agencies.models import Role, User

from .models import NfaSampling


@admin.register(NfaSampling)
class NfaSamplingAdmin(admin.ModelAdmin):
    fields = ["share_percent", "reviewers"]
    filter_horizontal = ["reviewers"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Only the hub's researchers and managers read enquiries, so only they review.
        if db_field.name == "reviewers":
            kwargs["queryset"] = (
                User.objects.filter(
                    is_active=True, groups__name__in=[Role.RESEARCHER, Role.MANAGER]
                )
                .distinct()
                .order_by("first_name", "last_name")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One hub, one setting: the list would only ever hold this row.
        sampling = NfaSampling.current()
        return HttpResponseRedirect(reverse("admin:reports_nfasampling_change", args=[sampling.pk]))
