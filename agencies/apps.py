from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Agencies and people"

    def ready(self) -> None:
        from auditlog.models import LogEntry
        from auditlog.registry import auditlog
        from django.contrib.auth.models import Group
        from django.db.models.signals import post_delete, post_migrate, pre_save
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from core.request_context import fill_actor

        from . import lockout, roles, sessions, two_factor
        from .models import AccessChange, Agency, User

        auditlog.register(Agency)
        auditlog.register(AccessChange)
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
        lockout.connect()
        sessions.connect()
        for device in (TOTPDevice, StaticDevice):
            post_delete.connect(
                two_factor.device_removed, sender=device, dispatch_uid=f"removed-{device.__name__}"
            )
        post_migrate.connect(roles.after_migrate, dispatch_uid="role-permissions")
