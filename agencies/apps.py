from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Agencies and people"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import Agency, User

        auditlog.register(Agency)
        auditlog.register(User, exclude_fields=["password", "last_login"], m2m_fields={"groups"})
