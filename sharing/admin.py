"""The sharing settings and a content-free view of requests and chasers, for administrators.

Information records, release requests and decisions and the access log are deliberately not
registered: administrators may not read agency information (docs/domain.md section 2), and the
auditors have their own page for the logs. django-auditlog's own admin for the change log is
taken away too: it would show administrators case content (people, concerns), and the logs are
nobody's to add to, change or delete.
"""

from auditlog.models import LogEntry
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from core.admin import ReadOnlyAdmin
from enquiries.tasks import recompute_open_deadlines

from .models import Chaser, InformationRequest, SharingPolicy

if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(SharingPolicy)
class SharingPolicyAdmin(admin.ModelAdmin):
    fields = ["request_due_percent", "chase_interval_minutes", "lead_agency"]

    def save_model(self, request: HttpRequest, obj: SharingPolicy, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Saving bumped the policy's version, which is all the save itself does to open
        # requests: the worker recomputes their due times in batches, once the change is
        # committed, or within the minute (beat) if the queue cannot take this (sharing.timing).
        recompute_open_deadlines.delay_on_commit()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One hub, one policy: the list would only ever hold this row.
        policy = SharingPolicy.current()
        return HttpResponseRedirect(reverse("admin:sharing_sharingpolicy_change", args=[policy.pk]))


@admin.register(InformationRequest)
class InformationRequestAdmin(ReadOnlyAdmin):
    # No question and no people: who is asked about is case content, not administration.
    fields = [
        "enquiry",
        "agency",
        "status",
        "requested_at",
        "requested_by",
        "due_at",
        "answered_at",
        "answered_by",
        "response_minutes",
        "last_chased_at",
        "chase_count",
        "withdrawn_at",
        "withdrawn_by",
    ]
    list_display = [
        "enquiry",
        "agency",
        "status",
        "requested_at",
        "due_at",
        "answered_at",
        "response_minutes",
        "chase_count",
    ]
    list_filter = ["status", "agency", "due_at"]
    list_select_related = ["enquiry", "agency"]
    search_fields = ["enquiry__reference"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("question")


@admin.register(Chaser)
class ChaserAdmin(ReadOnlyAdmin):
    list_display = ["chased_at", "enquiry", "agency", "request_status"]
    list_filter = ["chased_at", "request__agency"]
    list_select_related = ["request__enquiry", "request__agency"]
    search_fields = ["request__enquiry__reference"]

    @admin.display(description="Enquiry", ordering="request__enquiry__reference")
    def enquiry(self, chaser: Chaser) -> str:
        return chaser.request.enquiry.reference

    @admin.display(description="Agency", ordering="request__agency__name")
    def agency(self, chaser: Chaser) -> str:
        return chaser.request.agency.name

    @admin.display(description="Request now")
    def request_status(self, chaser: Chaser) -> str:
        return chaser.request.get_status_display()
