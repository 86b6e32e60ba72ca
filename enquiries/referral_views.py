"""The pages of onward referrals (docs/domain.md 6.2): record one, record the receiving
team's answer, and read the picture exactly as it was sent. The hub's only: a referral hands
on what the hub knows, so nobody outside it learns where an enquiry went."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from audit.models import AccessLogEntry
from core.forms import add_service_errors

from . import referrals
from .exceptions import StaleEdit
from .models import Enquiry, OnwardReferral
from .referral_forms import ReferOnForm, ReferralAnswerForm

HUB = (Role.RESEARCHER, Role.MANAGER)


def _enquiry(reference: str) -> Enquiry:
    return get_object_or_404(
        Enquiry.objects.select_related("subject", "outcome"), reference=reference
    )


def _referral(enquiry: Enquiry, pk: int) -> OnwardReferral:
    return get_object_or_404(referrals.referrals_of(enquiry), pk=pk)


@role_required(Role.MANAGER)
def enquiry_refer(request: SignedInRequest, reference: str) -> HttpResponse:
    """Record where the enquiry went; the picture is compiled and attached as it is sent."""
    enquiry = _enquiry(reference)
    form = ReferOnForm(request.POST or None, enquiry=enquiry, user=request.user)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            referral = referrals.refer_on(enquiry=enquiry, actor=request.user, **form.cleaned_data)
        except StaleEdit as error:
            stale = error
            enquiry.refresh_from_db()
            data = request.POST.copy()
            data["expected_version"] = str(error.current_version)
            form = ReferOnForm(data, enquiry=enquiry, user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Referral to {referral.get_destination_display()} recorded, with the picture "
                "as it was sent.",
            )
            return redirect(enquiry)
    return render(
        request,
        "enquiries/refer.html",
        {
            "enquiry": enquiry,
            "form": form,
            "stale": stale,
            "refusal": referrals.referral_refusal(enquiry),
            "earlier": list(referrals.referrals_of(enquiry)),
        },
    )


@role_required(*HUB)
def referral_answer(request: SignedInRequest, reference: str, pk: int) -> HttpResponse:
    """Record the receiving team's answer: accepted, or returned with a reason."""
    enquiry = _enquiry(reference)
    referral = _referral(enquiry, pk)
    form = ReferralAnswerForm(request.POST or None, referral=referral)
    stale = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referrals.record_referral_answer(
                referral=referral,
                actor=request.user,
                accepted=data["answer"] == "accepted",
                answered_by_name=data["answered_by_name"],
                returned_reason=data["returned_reason"],
                answered_at=data["answered_at"],
                expected_version=data["expected_version"],
            )
        except StaleEdit as error:
            stale = error
            referral.refresh_from_db()
            again = request.POST.copy()
            again["expected_version"] = str(error.current_version)
            form = ReferralAnswerForm(again, referral=referral)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The receiving team's answer is recorded.")
            return redirect(enquiry)
    return render(
        request,
        "enquiries/referral_answer.html",
        {"enquiry": enquiry, "referral": referral, "form": form, "stale": stale},
    )


@role_required(*HUB)
def referral_picture(request: SignedInRequest, reference: str, pk: int) -> HttpResponse:
    """The picture as it was sent with the referral, not as it would be compiled today."""
    enquiry = _enquiry(reference)
    referral = _referral(enquiry, pk)
    pdf = referrals.referral_picture(
        referral=referral, reader=request.user, channel=AccessLogEntry.Channel.EXPORT
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    sent = referral.sent_at.strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="{enquiry.reference}-picture-sent-{sent}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response
