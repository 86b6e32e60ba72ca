"""The hub's settings as GOV.UK pages, for administrators (and superusers), in place of the
Django admin: the timing settings here (opening hours, closure days and bank holidays, RAG
allowances, escalations, sharing), each change checked before it is saved.

Every settings page posts to itself (mash.hub_settings.checked `stage`): valid, it shows
"Check your changes" with what changes (old and new), what it moves, counted in the database,
and a required reason; "Save" posts it all again with the version the page started from, and
the service saves it only if nobody saved a change since.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from agencies.requests import SignedInRequest
from core.exceptions import StaleEdit
from core.forms import add_service_errors
from enquiries import clock_settings
from enquiries.clock_settings import Change
from enquiries.models import HubClock, HubSettingsChange, Rag, Weekday
from sharing import policy_settings

from . import forms
from .checked import administrators_only, carried, stage

Area = HubSettingsChange.Area

# The settings another page set keeps (agencies, people and lists): a row each on the index
# once its page exists.
OTHER_AREAS = [
    ("Agencies", "hub-settings:agencies", "The agencies in the hub and whether they take part"),
    ("People and roles", "hub-settings:people", "Who signs in, their agency and their roles"),
    ("Outcomes", "hub-settings:outcomes", "The outcomes a manager can record"),
    ("Referrer types", "hub-settings:referrer-types", "Who can make a referral"),
]


def _url_if_any(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@require_http_methods(["GET"])
@administrators_only
def index(request: SignedInRequest) -> HttpResponse:
    others = [
        {"label": label, "url": url, "about": about}
        for label, name, about in OTHER_AREAS
        if (url := _url_if_any(name))
    ]
    clock = clock_settings.clock_settings()
    escalation = clock_settings.escalation_settings()
    policy = policy_settings.policy_settings()
    today = timezone.localdate()
    return render(
        request,
        "hub_settings/index.html",
        {
            "clock": clock,
            "week": [
                (weekday.label, clock_settings.day_in_words(clock.week[weekday]))
                for weekday in Weekday
            ],
            "bank_holidays": dict(HubClock.BankHolidays.choices)[clock.bank_holidays],
            "closures_to_come": [
                clock_settings.closure_in_words(day, reason)
                for day, reason in clock.closures
                if day >= today
            ],
            "allowances": [
                (Rag(rating).label, clock_settings.allowance_in_words(*allowance))
                for rating, allowance in clock.allowances.items()
            ],
            "escalation": escalation,
            "escalation_managers": clock_settings.managers_in_words(escalation.managers),
            "policy": policy,
            "lead_agency": policy_settings.agency_name(policy.lead_agency),
            "others": others,
        },
    )


def _flow(
    request: SignedInRequest,
    *,
    form_class: type[forms.SettingsForm],
    current: Any,
    initial: dict,
    template: str,
    changes_of: Callable[[Any, Any], list[Change]],
    effect_of: Callable[[Any], str],
    apply: Callable[..., HubSettingsChange],
    caption: str,
    context: dict | None = None,
) -> HttpResponse:
    """Show the form, check the change, or save it, by what was posted."""
    context = {**(context or {}), "caption": caption}
    step = stage(request)
    if step == "form" and request.method != "POST":
        form = form_class(initial=initial)
        return render(request, template, {**context, "form": form})
    form = form_class(request.POST)
    if step == "form":  # "Change again": what was typed, without its errors
        return render(request, template, {**context, "form": form, "hide_errors": True})
    if not form.is_valid():
        return render(request, template, {**context, "form": form})
    proposed = form.proposed(current)
    changes = changes_of(current, proposed)
    page = {**context, "form": form, "changes": changes, "carried": _carried(request)}
    if proposed.version != current.version:
        return render(request, "hub_settings/check.html", {**page, "stale": _stale_message()})
    if not changes:
        form.add_error(None, "You have not changed anything: change a setting, or go back")
        return render(request, template, {**context, "form": form})
    try:
        effect = effect_of(proposed)
    except ValidationError as error:
        add_service_errors(form, error)
        return render(request, template, {**context, "form": form})
    page["effect"] = effect
    if step == "check":
        return render(request, "hub_settings/check.html", page)
    try:
        apply(proposed=proposed, actor=request.user, reason=form.cleaned_data["reason"])
    except StaleEdit as error:
        return render(request, "hub_settings/check.html", {**page, "stale": error.message})
    except ValidationError as error:
        add_service_errors(form, error)
        return render(request, "hub_settings/check.html", page)
    messages.success(request, f"{caption}: your change is saved. {effect}")
    return redirect("hub-settings:index")


def _carried(request: SignedInRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, value in carried(request) if name != "reason"]


def _stale_message() -> str:
    return str(StaleEdit(changes=[], current_version=0, what="setting").message)


def _clock_page(
    request: SignedInRequest,
    form_class: type[forms.SettingsForm],
    *,
    area: str,
    template: str,
    initial: Callable[[clock_settings.ClockSettings], dict] | None = None,
    context: dict | None = None,
) -> HttpResponse:
    current = clock_settings.clock_settings()

    def apply(**kwargs) -> HubSettingsChange:
        return clock_settings.apply_clock_change(area=area, **kwargs)

    return _flow(
        request,
        form_class=form_class,
        current=current,
        initial=initial(current) if initial else {"version": current.version},
        template=template,
        changes_of=clock_settings.clock_changes,
        effect_of=lambda proposed: clock_settings.preview_clock_change(proposed).summary,
        apply=apply,
        caption=Area(area).label,
        context={"current": current, **(context or {})},
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def opening_hours(request: SignedInRequest) -> HttpResponse:
    return _clock_page(
        request,
        forms.OpeningHoursForm,
        area=Area.OPENING_HOURS,
        template="hub_settings/opening_hours.html",
        initial=forms.OpeningHoursForm.initial_for,
    )


@require_http_methods(["GET"])
@administrators_only
def closure_days(request: SignedInRequest) -> HttpResponse:
    current = clock_settings.clock_settings()
    return render(
        request,
        "hub_settings/closure_days.html",
        {
            "current": current,
            "closures": [
                {
                    "date": day,
                    "reason": reason,
                    "in_words": clock_settings.closure_in_words(day, reason),
                }
                for day, reason in current.closures
            ],
            "bank_holidays": dict(HubClock.BankHolidays.choices)[current.bank_holidays],
        },
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def add_closure_day(request: SignedInRequest) -> HttpResponse:
    return _clock_page(
        request,
        forms.ClosureDayForm,
        area=Area.CLOSURE_DAYS,
        template="hub_settings/add_closure_day.html",
    )


@require_http_methods(["POST"])
@administrators_only
def remove_closure_day(request: SignedInRequest) -> HttpResponse:
    if stage(request) == "form":  # "Change again": back to the list to choose
        return redirect("hub-settings:closure-days")
    return _clock_page(
        request,
        forms.RemoveClosureForm,
        area=Area.CLOSURE_DAYS,
        template="hub_settings/remove_closure_day.html",
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def bank_holidays(request: SignedInRequest) -> HttpResponse:
    return _clock_page(
        request,
        forms.BankHolidaysForm,
        area=Area.CLOSURE_DAYS,
        template="hub_settings/bank_holidays.html",
        initial=lambda current: {
            "version": current.version,
            "bank_holidays": current.bank_holidays,
        },
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def allowances(request: SignedInRequest) -> HttpResponse:
    return _clock_page(
        request,
        forms.AllowancesForm,
        area=Area.ALLOWANCES,
        template="hub_settings/allowances.html",
        initial=forms.AllowancesForm.initial_for,
        context={"ratings": clock_settings.RATINGS},
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def escalation(request: SignedInRequest) -> HttpResponse:
    current = clock_settings.escalation_settings()
    return _flow(
        request,
        form_class=forms.EscalationForm,
        current=current,
        initial=forms.EscalationForm.initial_for(current),
        template="hub_settings/escalation.html",
        changes_of=clock_settings.escalation_changes,
        effect_of=clock_settings.escalation_effect,
        apply=clock_settings.apply_escalation_change,
        caption=Area.ESCALATION.label,
    )


@require_http_methods(["GET", "POST"])
@administrators_only
def sharing_policy(request: SignedInRequest) -> HttpResponse:
    current = policy_settings.policy_settings()
    return _flow(
        request,
        form_class=forms.SharingPolicyForm,
        current=current,
        initial=forms.SharingPolicyForm.initial_for(current),
        template="hub_settings/sharing_policy.html",
        changes_of=policy_settings.policy_changes,
        effect_of=lambda proposed: policy_settings.preview_policy_change(proposed).summary,
        apply=policy_settings.apply_policy_change,
        caption=Area.SHARING.label,
    )


HISTORY_PAGE_SIZE = 25


@require_http_methods(["GET"])
@administrators_only
def history(request: SignedInRequest) -> HttpResponse:
    changes = HubSettingsChange.objects.select_related("changed_by").order_by("-changed_at", "-id")
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hub_settings/history.html", {"page": page})
