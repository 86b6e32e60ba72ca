from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    name = "enquiries"
    verbose_name = "Enquiries"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import ClosureDay, HubClock, OpeningHours, RagAllowance

        auditlog.register(HubClock, exclude_fields=["version", "updated_at"])
        for model in (OpeningHours, ClosureDay, RagAllowance):
            auditlog.register(model)
