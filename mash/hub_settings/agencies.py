"""Hub settings: the hub's agencies, listed, added, changed and deactivated, each change
checked first (mash.hub_settings.checked) and saved by agencies.administration."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from agencies import administration
from agencies.models import Agency
from agencies.requests import SignedInRequest
from enquiries import lists
from enquiries.models import HubSettingsChange

from .agency_forms import AgencyForm
from .checked import administrators_only, check_page, stage

CAPTION = "Hub settings: agencies"


@administrators_only
def agency_list(request: SignedInRequest) -> HttpResponse:
    return render(
        request,
        "hub_settings/agencies/list.html",
        {"agencies": administration.agencies_listed()},
    )


def _form_page(request, form: AgencyForm, *, title: str, stale: str = "", status: int = 200):
    return render(
        request,
        "hub_settings/settings_form.html",
        {
            "form": form,
            "title": title,
            "caption": CAPTION,
            "back": reverse("hub-settings:agencies"),
            "stale": stale,
        },
        status=status,
    )


def _agency_page(request: SignedInRequest, agency: Agency | None) -> HttpResponse:
    title = "Add an agency" if agency is None else f"Change {agency.name}"
    seen = administration.agency_version(agency) if agency is not None else ""
    step = stage(request)
    if request.method != "POST":
        return _form_page(request, AgencyForm(agency=agency, initial={"seen": seen}), title=title)
    form = AgencyForm(request.POST, agency=agency)
    if step == "form" or not form.is_valid():
        return _form_page(request, form, title=title)
    if step == "check":
        preview = administration.agency_preview(
            actor=request.user, agency=agency, values=form.values()
        )
        return check_page(
            request,
            title=title,
            caption=CAPTION,
            preview=preview,
            back=reverse("hub-settings:agencies"),
        )
    try:
        with transaction.atomic():
            saved, preview = administration.agency_save(
                actor=request.user,
                agency=agency,
                values=form.values(),
                seen=form.cleaned_data["seen"],
            )
            # As it was checked: the save refused anything changed since.
            lists.record_settings_change(
                area=HubSettingsChange.Area.AGENCIES,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                item_id=saved.pk,
                preview=preview,
            )
    except administration.ChangedMeanwhile:
        # Only a change to an agency that exists can be overtaken.
        current = Agency.objects.get(pk=agency.pk) if agency else None
        fresh = AgencyForm(
            agency=current,
            initial={"seen": administration.agency_version(current) if current else ""},
        )
        return _form_page(
            request, fresh, title=title, stale=administration.CHANGED_MEANWHILE, status=409
        )
    except ValidationError as error:
        for problem in error.messages:
            form.add_error(None, problem)
        return _form_page(request, form, title=title)
    messages.success(request, f"{'Added' if agency is None else 'Saved'}: {saved.name}.")
    return redirect("hub-settings:agencies")


@administrators_only
def agency_add(request: SignedInRequest) -> HttpResponse:
    return _agency_page(request, None)


@administrators_only
def agency_change(request: SignedInRequest, agency_id: int) -> HttpResponse:
    return _agency_page(request, get_object_or_404(Agency, pk=agency_id))
