"""Pages for correcting and withdrawing a record (sharing.revisions), for the practitioners of
the agency that gave it. Thin: the firewall decides who may (404 for a record that does not
exist for them, 403 for one they see but may not change, both logged), the service decides
and writes."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from agencies.decorators import role_required
from agencies.requests import SignedInRequest
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from core.forms import add_service_errors

from . import access_log, firewall, revisions, services
from .firewall import Action, ShownRecord
from .revision_forms import RecordCorrectionForm, RecordWithdrawalForm, RevisionForm

Channel = AccessLogEntry.Channel


def _record_for_revision(request: SignedInRequest, pk: int, action: Action) -> ShownRecord:
    with services.refusals_logged(
        user=request.user, action=str(action), channel=Channel.PAGE, record_id=pk
    ):
        shown = firewall.record_for(request.user, pk)
        firewall.require(request.user, action, shown)
    return shown


def _page(
    request: SignedInRequest,
    shown: ShownRecord,
    form: RevisionForm,
    *,
    template: str,
    status: int = 200,
) -> HttpResponse:
    # The agency's own record, content and all: a look at it is logged like the record page.
    access_log.log_person_view(
        user=request.user,
        channel=Channel.PAGE,
        reason=access_log.record_justifications(request.user, [shown])[shown.enquiry_id],
        record=shown,
        shown=[shown],
    )
    return render(request, template, {"record": shown, "form": form}, status=status)


def _revise(
    request: SignedInRequest,
    pk: int,
    *,
    action: Action,
    form_class: type[RevisionForm],
    service,
    template: str,
    done: str,
) -> HttpResponse:
    shown = _record_for_revision(request, pk, action)
    if request.method != "POST":
        return _page(request, shown, form_class(record=shown), template=template)
    form = form_class(request.POST, record=shown)
    if not form.is_valid():
        return _page(request, shown, form, template=template, status=400)
    try:
        record = service(
            record_pk=shown.pk, actor=request.user, channel=Channel.PAGE, **form.cleaned_data
        )
    except StaleEdit as error:
        # What they typed stays; saving again, at the version they can now see, is a choice.
        data = request.POST.copy()
        data["expected_version"] = str(error.current_version)
        form = form_class(data, record=firewall.record_for(request.user, shown.pk))
        form.is_valid()
        form.add_error(None, error.messages[0])
        return _page(request, shown, form, template=template, status=409)
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, shown, form, template=template, status=400)
    told = " The hub has been told." if record.first_read_at is not None else ""
    messages.success(request, f"{done}{told}")
    return redirect("sharing-record", pk=shown.pk)


@role_required(*firewall.WORKING_ROLES)
def record_correct(request: SignedInRequest, pk: int) -> HttpResponse:
    return _revise(
        request,
        pk,
        action=Action.CORRECT,
        form_class=RecordCorrectionForm,
        service=revisions.correct_record,
        template="sharing/record_correct.html",
        done="Record corrected.",
    )


@role_required(*firewall.WORKING_ROLES)
def record_withdraw(request: SignedInRequest, pk: int) -> HttpResponse:
    return _revise(
        request,
        pk,
        action=Action.WITHDRAW,
        form_class=RecordWithdrawalForm,
        service=revisions.withdraw_record,
        template="sharing/record_withdraw.html",
        done="Record withdrawn.",
    )
