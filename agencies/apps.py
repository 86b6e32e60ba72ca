from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Agencies and people"

    def ready(self) -> None:
        from auditlog.models import LogEntry
        from auditlog.registry import auditlog
        from django.contrib.auth.models import Group
        from django.db.models.signals import pre_save

        from mash.audit import fill_actor

        from . import audit
        from .models import Agency, User

        auditlog.register(Agency)
        # A password change shows as one, without the hash; sign-ins are in the account log.
        auditlog.register(
            User,
            exclude_fields=["last_login"],
            mask_fields=["password"],
            m2m_fields={"groups", "user_permissions"},
        )
        # Roles are groups: what a role may do is a permission change too.
        auditlog.register(Group, m2m_fields={"permissions"})
        pre_save.connect(fill_actor, sender=LogEntry, dispatch_uid="audit-fill-actor")
        audit.connect()
