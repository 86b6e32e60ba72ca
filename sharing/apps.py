from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Information sharing"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

        from audit.access_log import on_content_shown

        from . import enquiry_hooks, reads
        from .firewall import CONTENT_FIELDS
        from .models import (
            DomesticAbuseNotification,
            InformationRecord,
            InformationRequest,
            RecordGroupObjectPermission,
            RecordRevision,
            RecordUserObjectPermission,
            ReleaseDecision,
            ReleaseRequest,
            SharingPolicy,
        )

        enquiry_hooks.register()
        on_content_shown(reads.note_first_reads)
        auditlog.register(
            InformationRequest,
            exclude_fields=["version", "clock_version", "policy_version"],
            m2m_fields={"people"},
        )
        # The change log is read by auditors, who may not read agency information: a record's
        # content is masked (core.request_context.withhold): the log says it changed, not to what.
        # The access log says who saw it.
        auditlog.register(
            InformationRecord, exclude_fields=["version"], mask_fields=list(CONTENT_FIELDS)
        )
        auditlog.register(ReleaseRequest)
        # What a corrected record said before is as sensitive as the record itself.
        auditlog.register(RecordRevision, mask_fields=["previous"])
        # Release conditions become the record's conditions, which are its content.
        auditlog.register(ReleaseDecision, mask_fields=["conditions"])
        auditlog.register(SharingPolicy, exclude_fields=["version"])
        # A force's notifications are police information until referred, and after: who is
        # named, where, what happened and why it was closed are masked; status, risk and who
        # triaged stay readable.
        auditlog.register(
            DomesticAbuseNotification,
            exclude_fields=["version"],
            mask_fields=["people", "summary", "address", "rationale"],
        )
        # Grants and removals of a right on one record (a release is a grant to the hub's
        # working roles), and on anything else through guardian's generic tables.
        for model in (
            RecordUserObjectPermission,
            RecordGroupObjectPermission,
            get_user_obj_perms_model(),
            get_group_obj_perms_model(),
        ):
            auditlog.register(model)
