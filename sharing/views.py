"""Pages for information requests, agency answers, and release or refusal of sensitive records.

Thin: the firewall decides what each person sees, the services decide and write, and a refused
action re-shows its page with the reason and everything typed.
"""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from core.forms import add_service_errors
from core.text import UTF8_BOM, spreadsheet_safe
from enquiries.models import Enquiry

from . import access_log, firewall, selectors, services
from .filters import RecordSearch
from .models import ReleaseDecision, ReleaseRequest
from .web_forms import (
    AnswerForm,
    InformationRecordForm,
    RefuseForm,
    ReleaseForm,
    ReleaseRequestForm,
    SendRequestsForm,
)

Channel = AccessLogEntry.Channel
WORKING = firewall.WORKING_ROLES


def _enquiry_or_404(user, reference: str) -> Enquiry:
    try:
        return firewall.visible_enquiries(user).select_related("subject").get(reference=reference)
    except Enquiry.DoesNotExist:
        raise firewall.NotVisible("No enquiry has that reference.") from None


# Sending requests.


@role_required(*firewall.HUB_ROLES)
def send_requests(request: SignedInRequest, reference: str) -> HttpResponse:
    """Ask agencies what they hold, in two steps that work without JavaScript: the form, the
    usual agencies ticked; its post shows what is about to be sent, with the choices carried
    in hidden fields; only the post that confirms it (`confirmed`) sends. "Change" (`change`)
    goes back to the form as it was filled in."""
    enquiry = _enquiry_or_404(request.user, reference)
    posted = request.method == "POST"
    form = SendRequestsForm(request.POST if posted else None, enquiry=enquiry)
    if posted and form.is_valid():
        if "change" in request.POST:
            # The form again, ticked as it was filled in.
            chosen = form.cleaned_data
            initial = {
                "agencies": [agency.pk for agency in chosen["agencies"]],
                "question": chosen["question"],
                "people": [person.pk for person in chosen["people"]],
            }
            form = SendRequestsForm(initial=initial, enquiry=enquiry)
            return render(request, "sharing/send_requests.html", {"enquiry": enquiry, "form": form})
        if "confirmed" not in request.POST:
            return render(
                request,
                "sharing/send_requests_confirm.html",
                {"enquiry": enquiry, "form": form, "choices": form.carried()},
            )
        try:
            sent = services.send_information_requests(
                enquiry=enquiry, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Asked {', '.join(str(r.agency) for r in sent)}.")
            return redirect(enquiry)
    return render(request, "sharing/send_requests.html", {"enquiry": enquiry, "form": form})


# Answering a request.


@role_required(*WORKING)
def request_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    info_request = firewall.request_for(request.user, pk)
    return _request_page(request, info_request)


def _request_page(request, info_request, *, record_form=None, answer_error=None, status=200):
    user = request.user
    may_answer = firewall.answer_refusal(user, info_request) is None
    # After the hub withdrew it, the agency may still add what it found (sharing.withdrawals).
    may_add = firewall.add_record_refusal(user, info_request) is None
    records = selectors.records_for_request(user, info_request)
    enquiry = info_request.enquiry
    mine = info_request.agency_id == user.agency_id
    access_log.log_person_view(
        user=user,
        channel=Channel.PAGE,
        reason=access_log.justification(user, enquiry, requests=[info_request] if mine else None),
        enquiry=enquiry,
        shown=[r.shown for r in records],
    )
    return render(
        request,
        "sharing/request_detail.html",
        {
            "info_request": info_request,
            "enquiry": enquiry,
            "people": info_request.people.all(),
            "records": records,
            "may_answer": may_answer,
            "may_add": may_add,
            "withdrawal_reason": info_request.withdrawal_reason
            if firewall.may_read_withdrawal_reason(user, info_request)
            else "",
            "record_form": record_form
            or (InformationRecordForm(request=info_request) if may_add else None),
            "answer_form": AnswerForm(initial={"expected_version": info_request.version}),
            "answer_error": answer_error,
        },
        status=status,
    )


@require_POST
@role_required(Role.PRACTITIONER)
def request_add_record(request: SignedInRequest, pk: int) -> HttpResponse:
    info_request = firewall.request_for(request.user, pk)
    form = InformationRecordForm(request.POST, request=info_request)
    if form.is_valid():
        try:
            record = services.add_information_record(
                request=info_request, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Record added. The hub is told; the request stays withdrawn."
                if record.added_after_withdrawal
                else "Record added. Add another, or send the answer.",
            )
            return redirect("sharing-request", pk=info_request.pk)
    return _request_page(request, info_request, record_form=form, status=400)


def _close_request(request: SignedInRequest, pk: int, *, service, done: str) -> HttpResponse:
    info_request = firewall.request_for(request.user, pk)
    form = AnswerForm(request.POST)
    version = form.cleaned_data["expected_version"] if form.is_valid() else None
    try:
        service(request=info_request, actor=request.user, expected_version=version)
    except StaleEdit as error:
        info_request.refresh_from_db()
        return _request_page(request, info_request, answer_error=error.messages[0], status=409)
    except ValidationError as error:
        return _request_page(
            request, info_request, answer_error=" ".join(error.messages), status=400
        )
    messages.success(request, done)
    return redirect("agency-inbox")


@require_POST
@role_required(Role.PRACTITIONER)
def request_send_answer(request: SignedInRequest, pk: int) -> HttpResponse:
    """“Send the answer” first shows what is being sent, each record with its sensitivity;
    only the post that confirms it (`confirmed`) answers the request. Anything the service
    would refuse is refused at once, as before."""
    if "confirmed" not in request.POST:
        info_request = firewall.request_for(request.user, pk)
        if firewall.answer_refusal(request.user, info_request) is None:
            records = selectors.records_for_request(request.user, info_request)
            if records:
                return _confirm_answer_page(request, info_request, records)
    return _close_request(request, pk, service=services.send_answer, done="Answer sent.")


def _confirm_answer_page(request, info_request, records) -> HttpResponse:
    user = request.user
    enquiry = info_request.enquiry
    access_log.log_person_view(
        user=user,
        channel=Channel.PAGE,
        reason=access_log.justification(user, enquiry, requests=[info_request]),
        enquiry=enquiry,
        shown=[r.shown for r in records],
    )
    form = AnswerForm(request.POST)
    version = form.cleaned_data["expected_version"] if form.is_valid() else info_request.version
    return render(
        request,
        "sharing/request_confirm_answer.html",
        {
            "info_request": info_request,
            "enquiry": enquiry,
            "records": [r.shown for r in records],
            "sensitive": sum(1 for r in records if r.shown.is_sensitive),
            "answer_form": AnswerForm(initial={"expected_version": version}),
        },
    )


@require_POST
@role_required(Role.PRACTITIONER)
def request_nothing_held(request: SignedInRequest, pk: int) -> HttpResponse:
    return _close_request(
        request, pk, service=services.record_nothing_held, done="Answered: nothing held."
    )


# One record: read it, or its signpost; ask for it; release or refuse it.


def _record_page(request, pk, *, forms: dict[str, Form] | None = None, status=200):
    user = request.user
    shown = firewall.record_for(user, pk)
    enquiry = Enquiry.objects.select_related("subject").get(pk=shown.enquiry_id)
    access_log.log_person_view(
        user=user,
        channel=Channel.PAGE,
        reason=access_log.justification(user, enquiry),
        record=shown,
        shown=[shown],
    )
    forms = forms or {}
    actions = selectors.with_actions(user, [shown])[0].actions
    return render(
        request,
        "sharing/record_detail.html",
        {
            "record": shown,
            "enquiry": enquiry,
            "release_requests": ReleaseRequest.objects.filter(record_id=shown.pk).select_related(
                "requested_by", "requested_by__agency"
            ),
            "decisions": ReleaseDecision.objects.filter(record_id=shown.pk).select_related(
                "decided_by"
            ),
            # Its corrections and withdrawal; what it said before, to its agency's
            # practitioners only (sharing.revisions).
            "revisions": firewall.revisions_for(user, shown),
            "may_correct": firewall.can(user, firewall.Action.CORRECT, shown),
            "may_withdraw": firewall.can(user, firewall.Action.WITHDRAW, shown),
            "request_form": forms.get("request release", ReleaseRequestForm())
            if "request release" in actions
            else None,
            "release_form": forms.get("release", ReleaseForm()) if "release" in actions else None,
            "refuse_form": forms.get("refuse", RefuseForm()) if "refuse" in actions else None,
        },
        status=status,
    )


@role_required(*WORKING)
def record_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    # A record that exists but is not visible is logged with its enquiry and person.
    with services.refusals_logged(
        user=request.user, action="open", channel=Channel.PAGE, record_id=pk
    ):
        return _record_page(request, pk)


def _record_action(request, pk, *, name: str, form_class, service, done: str) -> HttpResponse:
    """Hand what was typed to the service even when the form finds fault with it, so the
    service (not the page) refuses it and the refused attempt is logged like any other."""
    form = form_class(request.POST)
    form.is_valid()
    typed = {
        field: form.cleaned_data.get(field, request.POST.get(field, "")) for field in form.fields
    }
    if "necessary_and_proportionate" in typed:
        typed["necessary_and_proportionate"] = typed["necessary_and_proportionate"] is True
    try:
        service(record_pk=pk, actor=request.user, channel=Channel.PAGE, **typed)
    except ValidationError as error:
        for field, field_errors in getattr(error, "message_dict", {None: error.messages}).items():
            target = field if field in form.fields else None
            for message in field_errors:
                if message not in form.errors.get(target or "__all__", []):
                    form.add_error(target, message)
        return _record_page(request, pk, forms={name: form}, status=400)
    messages.success(request, done)
    return redirect("sharing-record", pk=pk)


@require_POST
@role_required(*WORKING)
def record_request_release(request: SignedInRequest, pk: int) -> HttpResponse:
    return _record_action(
        request,
        pk,
        name="request release",
        form_class=ReleaseRequestForm,
        service=services.request_release,
        done="Release requested. The owning agency has been told.",
    )


@require_POST
@sensitive_post_parameters("password")
@role_required(*WORKING)
def record_release(request: SignedInRequest, pk: int) -> HttpResponse:
    return _record_action(
        request,
        pk,
        name="release",
        form_class=ReleaseForm,
        service=services.release_record,
        done="Released to the hub for this enquiry.",
    )


@require_POST
@role_required(*WORKING)
def record_refuse(request: SignedInRequest, pk: int) -> HttpResponse:
    return _record_action(
        request,
        pk,
        name="refuse",
        form_class=RefuseForm,
        service=services.refuse_release,
        done="Release refused. The people who asked have been told.",
    )


# Search and export.


@role_required(*WORKING)
def record_search(request: SignedInRequest) -> HttpResponse:
    search = RecordSearch(request.GET, firewall.visible_records(request.user), request=request)
    results = selectors.search_records(request.user, search.qs) if search.words else []
    if search.words:
        access_log.log_search(
            user=request.user,
            channel=Channel.SEARCH,
            doing="Searching agency records",
            terms=access_log.search_terms(**search.asked()),
            shown=results,
        )
    return render(
        request,
        "sharing/search.html",
        {
            "form": search.form,
            "q": search.words,
            "results": results,
            "limit": selectors.SEARCH_LIMIT,
        },
        status=200 if search.is_valid() else 400,
    )


EXPORT_COLUMNS = [
    "enquiry",
    "agency",
    "person",
    "information date",
    "sensitivity",
    "release status",
    "summary",
    "detail",
    "source system",
    "conditions",
]


@role_required(*WORKING)
def enquiry_information_export(request: SignedInRequest, reference: str) -> HttpResponse:
    """The enquiry's information picture as this person may see it: content where allowed,
    the signpost otherwise. The export and each sensitive record in it are logged."""
    enquiry = _enquiry_or_404(request.user, reference)
    records = firewall.shown_records(
        firewall.visible_records(request.user, enquiry=enquiry).order_by("agency__name", "id")
    )
    reason = access_log.justification(request.user, enquiry)
    access_log.write_access_log(
        access_log.access_entries(
            user=request.user,
            action=AccessLogEntry.Action.EXPORT,
            channel=Channel.EXPORT,
            enquiry=enquiry,
            person_id=enquiry.subject_id,
            reason=reason,
            terms=f"Information picture of {enquiry.reference}: {len(records)} records",
        ),
        access_log.content_view_entries(
            user=request.user, records=records, channel=Channel.EXPORT, reason=reason
        ),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="{enquiry.reference}-information-{stamp}.csv"'
    )
    response.write(UTF8_BOM)
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        content = (
            [record.summary, record.detail, record.source_system, record.conditions]
            if record.content_visible
            else [record.signpost, "", "", ""]
        )
        writer.writerow(
            spreadsheet_safe(value)
            for value in [
                record.enquiry_reference,
                record.agency_name,
                record.person_name,
                record.information_date.isoformat(),
                record.sensitivity_label,
                record.release_status_label if record.is_sensitive else "",
                *content,
            ]
        )
    return response
