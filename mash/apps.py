from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core import checks
from django.db.models.signals import post_migrate


class MashAdminConfig(AdminConfig):
    default_site = "mash.admin.MashAdminSite"


class MashConfig(AppConfig):
    name = "mash"
    verbose_name = "MASH"

    def ready(self) -> None:
        from . import database_roles

        post_migrate.connect(
            database_roles.grant_after_migrate, dispatch_uid="mash.grant_runtime_role"
        )
        checks.register(database_roles.check_runtime_role, checks.Tags.database, deploy=True)
