from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    name = "enquiries"
    verbose_name = "Enquiries"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from audit.access_log import log_broken

        from . import notifications
        from .models import (
            ClosureDay,
            Enquiry,
            EnquiryPerson,
            EscalationContact,
            EscalationPolicy,
            HubClock,
            OnwardReferral,
            OpeningHours,
            Outcome,
            Person,
            PersonAlias,
            RagAllowance,
            ReferrerType,
        )

        auditlog.register(HubClock, exclude_fields=["version", "updated_at"])
        # Rationales are written once agencies have answered, and may quote what an agency
        # released to the people working on the enquiry; auditors are not among them, so the
        # change log says who changed a rationale, not what it says. tests/audit/test_masking.py
        # gives the reason for each free-text field left readable.
        auditlog.register(
            Enquiry,
            exclude_fields=["version", "updated_at"],
            mask_fields=["rating_rationale", "decision_rationale"],
        )
        for model in (
            OpeningHours,
            ClosureDay,
            RagAllowance,
            ReferrerType,
            Outcome,
            EnquiryPerson,
            PersonAlias,
            EscalationPolicy,
            EscalationContact,
        ):
            auditlog.register(model)
        auditlog.register(Person, exclude_fields=["version"])
        # The picture is kept whole on the referral itself; the change log says that one was
        # sent, not what it held. Notes and reasons may quote agency information.
        auditlog.register(
            OnwardReferral,
            exclude_fields=["version", "picture"],
            mask_fields=["note", "returned_reason"],
        )
        log_broken.connect(
            notifications.auditors_told_of_a_break, dispatch_uid="auditors-told-of-a-break"
        )
