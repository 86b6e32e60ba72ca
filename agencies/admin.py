from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import tokens, two_factor
from .models import Agency, ApiToken, User

# django-otp's own pages would show a device's backup codes; administrators reset a person's
# two-factor from the people list instead.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


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
    actions = ["reset_two_factor", "revoke_api_tokens"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def role_list(self, user: User) -> str:
        return ", ".join(sorted(user.roles)) or "none"

    def has_delete_permission(self, request, obj=None) -> bool:
        # People appear in audit trails: deactivate them instead.
        return False

    @admin.action(description="Reset two-factor sign-in (a lost phone): they set it up again")
    def reset_two_factor(self, request, queryset) -> None:
        for user in queryset:
            two_factor.reset(user)
        self.message_user(
            request,
            f"Two-factor sign-in reset for {len(queryset)} people: they are signed out and set "
            "up an authenticator app at their next sign-in.",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke all their API tokens")
    def revoke_api_tokens(self, request, queryset) -> None:
        revoked = sum(
            tokens.revoke_all(user, request=request, why="revoked by an administrator")
            for user in queryset
        )
        self.message_user(request, f"{revoked} API tokens revoked.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners (or `manage.py create_api_token`), never shown again,
    and never edited: administrators see them and revoke them."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "user__agency"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(
            tokens.revoke(token, request=request, why="revoked by an administrator")
            for token in queryset.select_related("user")
        )
        self.message_user(request, f"{revoked} API tokens revoked.", messages.SUCCESS)
