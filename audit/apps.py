from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit logs"

    def ready(self) -> None:
        from agencies import access

        from . import account_log  # noqa: F401  (it listens for what agencies announces)
        from .access_changes import log_access_change

        access.record_with(log_access_change)
