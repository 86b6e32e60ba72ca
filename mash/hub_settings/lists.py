"""Hub settings: the outcomes managers record and the referrer types enquiries are logged
with. Added, renamed and retired, never deleted, each change checked first and saved by
enquiries.lists."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from agencies.administration import CHANGED_MEANWHILE, ChangedMeanwhile
from agencies.requests import SignedInRequest
from enquiries import lists
from enquiries.models import Outcome, ReferrerType

from .checked import administrators_only, check_page, stage
from .list_forms import ListItemForm, OutcomeForm


@dataclass(frozen=True)
class HubList:
    model: type[Outcome] | type[ReferrerType]
    form: type[ListItemForm]
    title: str
    one: str
    url_name: str
    about: str
    add_name: str
    change_name: str

    def listed(self):
        if self.model is Outcome:
            return lists.outcomes_listed()
        return lists.referrer_types_listed()


LISTS = {
    "outcomes": HubList(
        Outcome,
        OutcomeForm,
        "Outcomes",
        "outcome",
        "hub-settings:outcomes",
        "The decisions a manager can record on an enquiry.",
        "hub-settings:outcome-add",
        "hub-settings:outcome-change",
    ),
    "referrer-types": HubList(
        ReferrerType,
        ListItemForm,
        "Referrer types",
        "referrer type",
        "hub-settings:referrer-types",
        "Who made a referral, chosen when an enquiry is logged.",
        "hub-settings:referrer-type-add",
        "hub-settings:referrer-type-change",
    ),
}


def _list(name: str) -> HubList:
    if name not in LISTS:
        raise Http404("No such list.")
    return LISTS[name]


@administrators_only
def list_items(request: SignedInRequest, list_name: str) -> HttpResponse:
    hub_list = _list(list_name)
    return render(
        request,
        "hub_settings/lists/list.html",
        {"hub_list": hub_list, "list_name": list_name, "items": hub_list.listed()},
    )


def _form_page(request, form, *, hub_list, title, stale="", status=200) -> HttpResponse:
    return render(
        request,
        "hub_settings/settings_form.html",
        {
            "form": form,
            "title": title,
            "caption": f"Hub settings: {hub_list.title.lower()}",
            "back": reverse(hub_list.url_name),
            "stale": stale,
        },
        status=status,
    )


def _item_page(request: SignedInRequest, hub_list: HubList, item) -> HttpResponse:
    title = f"Add an {hub_list.one}" if hub_list.one[0] in "aeiou" else f"Add a {hub_list.one}"
    if item is not None:
        title = f"Change {item.name}"
    back = reverse(hub_list.url_name)
    if request.method != "POST":
        seen = lists.list_item_version(item) if item is not None else ""
        form = hub_list.form(item=item, initial={"seen": seen})
        return _form_page(request, form, hub_list=hub_list, title=title)
    form = hub_list.form(request.POST, item=item)
    step = stage(request)
    if step == "form" or not form.is_valid():
        return _form_page(request, form, hub_list=hub_list, title=title)
    if step == "check":
        preview = lists.list_item_preview(model=hub_list.model, item=item, values=form.values())
        return check_page(
            request,
            title=title,
            caption=f"Hub settings: {hub_list.title.lower()}",
            preview=preview,
            back=back,
        )
    try:
        saved = lists.list_item_save(
            actor=request.user,
            model=hub_list.model,
            item=item,
            values=form.values(),
            reason=form.cleaned_data["reason"],
            seen=form.cleaned_data["seen"],
        )
    except ChangedMeanwhile:
        current = hub_list.model.objects.get(pk=item.pk)
        fresh = hub_list.form(item=current, initial={"seen": lists.list_item_version(current)})
        return _form_page(
            request, fresh, hub_list=hub_list, title=title, stale=CHANGED_MEANWHILE, status=409
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return _form_page(request, form, hub_list=hub_list, title=title)
    messages.success(request, f"{'Added' if item is None else 'Saved'}: {saved.name}.")
    return redirect(hub_list.url_name)


@administrators_only
def list_item_add(request: SignedInRequest, list_name: str) -> HttpResponse:
    return _item_page(request, _list(list_name), None)


@administrators_only
def list_item_change(request: SignedInRequest, list_name: str, item_id: int) -> HttpResponse:
    hub_list = _list(list_name)
    return _item_page(request, hub_list, get_object_or_404(hub_list.model, pk=item_id))
