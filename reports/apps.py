from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .aggregates import connect
        from .models import NfaReview, NfaSampling

        connect()
        auditlog.register(NfaSampling, m2m_fields={"reviewers"})
        # A reviewer's words on a decision may quote what the manager decided on, released
        # agency information included; the change log says who reviewed and the verdict.
        auditlog.register(
            NfaReview,
            exclude_fields=["version"],
            mask_fields=["what_should_have_happened", "learning"],
        )
