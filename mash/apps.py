from django.contrib.admin.apps import AdminConfig


class MashAdminConfig(AdminConfig):
    default_site = "mash.admin.MashAdminSite"
