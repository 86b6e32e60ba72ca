from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Information sharing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import (
            InformationRecord,
            InformationRequest,
            ReleaseDecision,
            ReleaseRequest,
            SharingPolicy,
        )

        auditlog.register(InformationRequest, exclude_fields=["version"])
        # The change log is read by auditors, who may not read agency information: a record's
        # content stays out of it. The access log says who saw it.
        auditlog.register(
            InformationRecord,
            exclude_fields=["summary", "detail", "source_system", "conditions", "version"],
        )
        auditlog.register(ReleaseRequest)
        auditlog.register(ReleaseDecision)
        auditlog.register(SharingPolicy)
