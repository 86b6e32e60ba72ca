from django.contrib import admin
from django.http import HttpRequest


class MashAdminSite(admin.AdminSite):
    """The admin for administrators: the role, not the is_staff flag, opens it."""

    site_header = "mash administration"
    site_title = "mash administration"
    index_title = "Agencies, people and hub settings"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.has_role("administrator"))
