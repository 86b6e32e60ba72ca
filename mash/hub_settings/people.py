"""Hub settings: the people who sign in, their agency and roles, and requests for access.

Every change of access goes through agencies.access, as in the administration site: roles,
a move and a reactivation are asked for and a second administrator approves them here;
removals apply at once; each step is in the access log. Administrators see accounts, never
case content."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from agencies import access, administration, set_up_codes, two_factor
from agencies.models import AccessChange, User
from agencies.requests import SignedInRequest
from core.keyset import query_without
from enquiries import lists
from enquiries.models import HubSettingsChange

from .checked import administrators_only, check_page, stage
from .people_forms import (
    DecisionForm,
    PeopleFilter,
    PersonAddForm,
    PersonChangeForm,
    ResetForm,
)

CAPTION = "Hub settings: people and roles"
PAGE_SIZE = 50
RESETS = {
    "password": AccessChange.Kind.RESET_PASSWORD,
    "two-factor": AccessChange.Kind.RESET_TWO_FACTOR,
}


def _asked(request: SignedInRequest, asked: list[AccessChange]) -> None:
    if asked:
        messages.warning(
            request,
            f"Asked for: {'; '.join(change.describe() for change in asked)}. Nothing is given "
            "until another administrator approves it.",
        )


def _record(request: SignedInRequest, account: User, reason: str, preview) -> None:
    """The change, as checked, in the history of hub settings (in the save's transaction)."""
    lists.record_settings_change(
        area=HubSettingsChange.Area.PEOPLE,
        actor=request.user,
        reason=reason,
        item_id=account.pk,
        preview=preview,
    )


def _form_page(request, form, *, title, back, stale="", status=200, **extra) -> HttpResponse:
    return render(
        request,
        extra.pop("template", "hub_settings/people/form.html"),
        {"form": form, "title": title, "caption": CAPTION, "back": back, "stale": stale, **extra},
        status=status,
    )


@administrators_only
def people_list(request: SignedInRequest) -> HttpResponse:
    filters = PeopleFilter(request.GET or None)
    agency, role = None, ""
    if filters.is_valid():
        agency, role = filters.cleaned_data["agency"], filters.cleaned_data["role"]
    page = Paginator(administration.people_listed(agency=agency, role=role), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "hub_settings/people/list.html",
        {
            "filters": filters,
            "page": page,
            "query": query_without(request.GET, "page"),
            "waiting": AccessChange.objects.filter(status=AccessChange.Status.PENDING).count(),
        },
    )


@administrators_only
def person_add(request: SignedInRequest) -> HttpResponse:
    title, back = "Add a person", reverse("hub-settings:people")
    if request.method != "POST":
        return _form_page(request, PersonAddForm(actor=request.user), title=title, back=back)
    form = PersonAddForm(request.POST, actor=request.user)
    step = stage(request)
    if step == "form" or not form.is_valid():
        return _form_page(request, form, title=title, back=back)
    data = form.cleaned_data
    if step == "check":
        preview = administration.person_add_preview(
            details=form.details(), agency=data["agency"], roles=data["roles"]
        )
        return check_page(request, title=title, caption=CAPTION, preview=preview, back=back)
    try:
        with transaction.atomic():
            account, asked, preview = administration.person_add(
                actor=request.user,
                details=form.details(),
                agency=data["agency"],
                roles=data["roles"],
                reason=data["reason"],
            )
            _record(request, account, data["reason"], preview)
    except ValidationError as error:
        for problem in error.messages:
            form.add_error(None, problem)
        return _form_page(request, form, title=title, back=back)
    messages.success(request, f"Added {account} ({account.username}).")
    _asked(request, asked)
    return redirect("hub-settings:person-change", account.pk)


@administrators_only
def person_change(request: SignedInRequest, person_id: int) -> HttpResponse:
    account = get_object_or_404(User, pk=person_id)
    title, back = f"Change {account}", reverse("hub-settings:people")
    extra = {
        "person": account,
        "pending": access.pending_changes(account.pk),
        "has_password": account.has_usable_password(),
        "has_app": two_factor.has_app(account),
        "tokens_in_use": account.api_tokens.in_use().count(),
    }
    seen = administration.person_version(account)
    if request.method != "POST":
        form = PersonChangeForm(actor=request.user, account=account, initial={"seen": seen})
        return _form_page(request, form, title=title, back=back, **extra)
    form = PersonChangeForm(request.POST, actor=request.user, account=account)
    step = stage(request)
    if step == "form" or not form.is_valid():
        return _form_page(request, form, title=title, back=back, **extra)
    data = form.cleaned_data
    if step == "check":
        preview, _ = administration.person_preview(
            actor=request.user,
            account=account,
            details=form.details(),
            roles=data["roles"],
            agency=data["agency"],
            active=form.active,
        )
        return check_page(request, title=title, caption=CAPTION, preview=preview, back=back)
    try:
        with transaction.atomic():
            asked, preview = administration.person_change(
                actor=request.user,
                account=account,
                details=form.details(),
                roles=data["roles"],
                agency=data["agency"],
                active=form.active,
                reason=data["reason"],
                seen=data["seen"],
            )
            if preview.differences:
                _record(request, account, data["reason"], preview)
    except administration.ChangedMeanwhile:
        current = User.objects.get(pk=account.pk)
        fresh = PersonChangeForm(
            actor=request.user,
            account=current,
            initial={"seen": administration.person_version(current)},
        )
        return _form_page(
            request,
            fresh,
            title=title,
            back=back,
            stale=administration.CHANGED_MEANWHILE,
            status=409,
            **{**extra, "person": current, "pending": access.pending_changes(current.pk)},
        )
    except (ValidationError, PermissionDenied) as error:
        problems = error.messages if isinstance(error, ValidationError) else [str(error)]
        for problem in problems:
            form.add_error(None, problem)
        return _form_page(request, form, title=title, back=back, **extra)
    messages.success(request, f"Saved: {account}.")
    _asked(request, asked)
    return redirect("hub-settings:person-change", account.pk)


@administrators_only
def person_reset(request: SignedInRequest, person_id: int, kind: str) -> HttpResponse:
    """Ask for a password reset (a set-up code) or a two-factor reset, as the administration
    site's password page and action do: a second administrator approves it."""
    if kind not in RESETS:
        raise Http404("No such reset.")
    account = get_object_or_404(User, pk=person_id)
    reset = RESETS[kind]
    title = (
        f"Ask for a password reset: {account}"
        if reset == AccessChange.Kind.RESET_PASSWORD
        else f"Ask to reset two-factor sign-in: {account}"
    )
    back = reverse("hub-settings:person-change", args=[account.pk])
    preview = administration.reset_preview(actor=request.user, account=account, kind=reset)
    form = ResetForm(request.POST if request.method == "POST" else None)
    step = stage(request)
    if step == "form" or not form.is_valid():
        return _form_page(
            request,
            form,
            title=title,
            back=back,
            template="hub_settings/settings_form.html",
            intro=preview.effects[0],
        )
    if step == "check":
        return check_page(
            request,
            title=title,
            caption=CAPTION,
            preview=preview,
            back=back,
            save_label="Ask for the reset",
        )
    try:
        change = administration.reset_request(
            actor=request.user, account=account, kind=reset, reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as error:
        problems = error.messages if isinstance(error, ValidationError) else [str(error)]
        for problem in problems:
            form.add_error(None, problem)
        return _form_page(
            request, form, title=title, back=back, template="hub_settings/settings_form.html"
        )
    _asked(request, [change])
    return redirect(back)


@administrators_only
def access_change_list(request: SignedInRequest) -> HttpResponse:
    changes = administration.access_changes_listed()
    return render(
        request,
        "hub_settings/people/access_changes.html",
        {
            "pending": changes.filter(status=AccessChange.Status.PENDING),
            "decided": changes.exclude(status=AccessChange.Status.PENDING).order_by(
                "-decided_at", "-id"
            )[:20],
        },
    )


@administrators_only
@never_cache
def access_change_decide(request: SignedInRequest, change_id: int) -> HttpResponse:
    """A request's page: a second administrator approves it (with an optional note) or
    declines it (saying why). An approved password reset's set-up code is shown in this
    response only."""
    change = get_object_or_404(administration.access_changes_listed(), pk=change_id)
    refusal = administration.may_decide(actor=request.user, change=change)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    context = {"change": change, "refusal": refusal, "form": form, "caption": CAPTION}
    if request.method != "POST" or not form.is_valid():
        return render(request, "hub_settings/people/access_change.html", context)
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["decision"] == "approve":
            change = access.access_change_approve(
                change_id=change.pk, actor=request.user, note=note
            )
            if change.one_time_code:
                return render(
                    request,
                    "hub_settings/people/set_up_code.html",
                    {
                        "change": change,
                        "code": change.one_time_code,
                        "expires_at": change.set_up_code.expires_at,
                        "set_up_url": request.build_absolute_uri(reverse("set-up-code")),
                        "valid_hours": int(set_up_codes.VALID_FOR.total_seconds() // 3600),
                    },
                )
            done = "Approved"
        else:
            change = access.access_change_decline(
                change_id=change.pk, actor=request.user, note=note
            )
            done = "Declined"
    except (ValidationError, PermissionDenied) as error:
        problems = error.messages if isinstance(error, ValidationError) else [str(error)]
        for problem in problems:
            form.add_error(None, problem)
        return render(request, "hub_settings/people/access_change.html", context)
    messages.success(request, f"{done}: {change}.")
    return redirect("hub-settings:access-changes")


@administrators_only
def person_tokens(request: SignedInRequest, person_id: int) -> HttpResponse:
    """A person's API tokens (names and first characters, never keys), and revoking them."""
    account = get_object_or_404(User, pk=person_id)
    back = reverse("hub-settings:person-change", args=[account.pk])
    if stage(request) == "form":
        return render(
            request,
            "hub_settings/people/tokens.html",
            {"person": account, "tokens": account.api_tokens.all(), "back": back},
        )
    preview = administration.tokens_preview(account=account)
    title = f"Revoke the API tokens of {account}"
    if stage(request) == "check" or preview.problems:
        return check_page(
            request,
            title=title,
            caption=CAPTION,
            preview=preview,
            back=back,
            save_label="Revoke them",
        )
    revoked = administration.tokens_revoke(actor=request.user, account=account, request=request)
    messages.success(request, f"{revoked} API {'token' if revoked == 1 else 'tokens'} revoked.")
    return redirect(back)
