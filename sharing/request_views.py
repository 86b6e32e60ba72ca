"""The page that withdraws an information request (sharing.withdrawals), for researchers and
managers. Thin: the firewall finds the request (404, logged, for one that does not exist for
the person) and says who may withdraw it (403, logged); the service decides and writes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from agencies.decorators import role_required
from agencies.requests import SignedInRequest
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from core.forms import add_service_errors

from . import access_log, firewall, services, withdrawals
from .models import InformationRequest
from .web_forms import WithdrawRequestForm

Channel = AccessLogEntry.Channel


def _request_to_withdraw(request: SignedInRequest, pk: int) -> InformationRequest:
    with services.refusals_logged(
        user=request.user,
        action=f"withdraw an information request (information request {pk})",
        channel=Channel.PAGE,
    ):
        info_request = firewall.request_for(request.user, pk)
        refusal = firewall.withdraw_refusal(request.user, info_request)
        if refusal:
            raise PermissionDenied(refusal)
    return info_request


def _page(
    request: SignedInRequest,
    info_request: InformationRequest,
    form: WithdrawRequestForm,
    *,
    status: int = 200,
) -> HttpResponse:
    enquiry = info_request.enquiry
    access_log.log_person_view(
        user=request.user,
        channel=Channel.PAGE,
        reason=access_log.justification(request.user, enquiry),
        enquiry=enquiry,
    )
    return render(
        request,
        "sharing/request_withdraw.html",
        {"info_request": info_request, "enquiry": enquiry, "form": form},
        status=status,
    )


@role_required(*firewall.WORKING_ROLES)
def request_withdraw(request: SignedInRequest, pk: int) -> HttpResponse:
    info_request = _request_to_withdraw(request, pk)
    if request.method != "POST":
        form = WithdrawRequestForm(initial={"expected_version": info_request.version})
        return _page(request, info_request, form)
    form = WithdrawRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, info_request, form, status=400)
    try:
        withdrawals.withdraw_request(request=info_request, actor=request.user, **form.cleaned_data)
    except StaleEdit as error:
        # What they typed stays; withdrawing again, having seen what changed, is a choice.
        data = request.POST.copy()
        data["expected_version"] = str(error.current_version)
        info_request.refresh_from_db()
        form = WithdrawRequestForm(data)
        form.is_valid()
        form.add_error(None, error.messages[0])
        return _page(request, info_request, form, status=409)
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, info_request, form, status=400)
    messages.success(
        request, f"Request to {info_request.agency} withdrawn. Its practitioners have been told."
    )
    return redirect(info_request.enquiry)
