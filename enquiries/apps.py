from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    name = "enquiries"
    verbose_name = "Enquiries"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import (
            ClosureDay,
            Enquiry,
            EnquiryPerson,
            HubClock,
            OpeningHours,
            Outcome,
            Person,
            RagAllowance,
            ReferrerType,
        )

        auditlog.register(HubClock, exclude_fields=["version", "updated_at"])
        auditlog.register(Enquiry, exclude_fields=["version", "updated_at"])
        for model in (
            OpeningHours,
            ClosureDay,
            RagAllowance,
            ReferrerType,
            Outcome,
            Person,
            EnquiryPerson,
        ):
            auditlog.register(model)
