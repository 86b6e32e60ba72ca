from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from agencies.models import Role, User
from core.admin import ReadOnlyAdmin

from . import worktime
from .models import (
    HUB_CLOCK_ID,
    ClosureDay,
    EscalationContact,
    EscalationPolicy,
    HubClock,
    Notification,
    OpeningHours,
    Outcome,
    RagAllowance,
    ReferrerType,
    SlaEvent,
    opening_week,
)
from .tasks import recompute_open_deadlines


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    """Checks the week as a whole with the clock itself, so admin and clock agree on 'valid'."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = [
            OpeningHours(
                weekday=form.cleaned_data["weekday"],
                opens=form.cleaned_data["opens"],
                closes=form.cleaned_data["closes"],
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            worktime.WorkingCalendar(week=opening_week(rows), nation=None)
        except ValueError as error:
            raise ValidationError(f"These opening hours cannot be used: {error}.") from error


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 1


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    extra = 1


class RagAllowanceInline(admin.TabularInline):
    """The four ratings are fixed; only their allowance and clock change."""

    model = RagAllowance
    fields = ["rating", "minutes", "clock"]
    readonly_fields = ["rating"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(HubClock)
class HubClockAdmin(admin.ModelAdmin):
    fields = ["time_zone", "bank_holidays", "at_risk_percent"]
    inlines = [OpeningHoursInline, ClosureDayInline, RagAllowanceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Saving bumped the clock's version, which is all the save itself does to open
        # enquiries: the worker recomputes those behind it in batches, starting once the change
        # is committed, or within the minute (beat) if the queue cannot take this. The page
        # says how many are left (enquiries.timing).
        recompute_open_deadlines.delay_on_commit()

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One hub, one clock: the list would only ever hold this row.
        return HttpResponseRedirect(reverse("admin:enquiries_hubclock_change", args=[HUB_CLOCK_ID]))


class EscalationContactInline(admin.TabularInline):
    """The order an unacknowledged escalation is repeated in: managers only."""

    model = EscalationContact
    fields = ["position", "manager"]
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "manager":
            kwargs["queryset"] = (
                User.objects.filter(is_active=True, groups__name=Role.MANAGER)
                .distinct()
                .order_by("first_name", "last_name")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    fields = ["repeat_minutes"]
    inlines = [EscalationContactInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One hub, one policy: the list would only ever hold this row.
        policy = EscalationPolicy.current()
        return HttpResponseRedirect(
            reverse("admin:enquiries_escalationpolicy_change", args=[policy.pk])
        )


@admin.register(ReferrerType)
class ReferrerTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Past enquiries keep their referrer type: retire it instead.
        return False


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "fits", "leads_to_referral", "is_active"]
    list_filter = ["fits", "leads_to_referral", "is_active"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Past decisions keep their outcome: retire it instead.
        return False


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnlyAdmin):
    list_display = ["enquiry", "kind", "rating", "occurred_at", "deadline", "recorded_at"]
    list_filter = ["kind", "rating", "occurred_at"]
    list_select_related = ["enquiry"]
    search_fields = ["enquiry__reference"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Listed, never opened: a notification's message, which is also its name, names people
    and says what happened in their case."""

    fields = list_display = ("recipient", "enquiry", "kind", "created_at", "read_at")
    list_display_links = None
    list_filter = ["kind", "created_at", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient", "enquiry"]
    search_fields = ["enquiry__reference", "recipient__username"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("message")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_view_permission(request, obj)
