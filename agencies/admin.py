from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from .models import Agency, User


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "participation", "is_active", "member_count"]
    list_filter = ["kind", "participation", "is_active"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, agency: Agency) -> int:
        return agency.member_count

    def has_delete_permission(self, request, obj=None) -> bool:
        # Agencies own records and history: deactivate them instead.
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "agency", "role_list", "is_active"]
    list_filter = ["agency", "groups", "is_active"]
    list_select_related = ["agency"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email", "job_title", "agency"]}),
        ("Roles", {"fields": ["groups", "is_active"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "agency",
                    "groups",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def role_list(self, user: User) -> str:
        return ", ".join(sorted(user.roles)) or "none"

    def has_delete_permission(self, request, obj=None) -> bool:
        # People appear in audit trails: deactivate them instead.
        return False
