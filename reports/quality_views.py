"""The NFA quality pages (docs/domain.md 7.1): the review queue, one review, and the reviews
of one's own decisions. Reviewers only; a decision's maker never sees it in their queue."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from core.forms import add_service_errors
from enquiries.exceptions import StaleEdit

from . import quality
from .models import NfaReview
from .quality_forms import NfaReviewForm

HUB = (Role.RESEARCHER, Role.MANAGER)


@role_required(*HUB)
def review_queue(request: SignedInRequest) -> HttpResponse:
    if not quality.may_review(request.user):
        raise PermissionDenied("Only the hub's NFA reviewers review decisions.")
    page = Paginator(quality.review_queue(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/quality_queue.html",
        {
            "page": page,
            "reviews": list(page),
            "own": list(quality.reviews_for_deciders(request.user)[:20]),
        },
    )


@role_required(*HUB)
def review(request: SignedInRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(
        NfaReview.objects.select_related(
            "enquiry__subject", "enquiry__decided_by", "enquiry__outcome", "reviewer"
        ),
        pk=pk,
    )
    refusal = quality.review_refusal(request.user, found)
    if refusal:
        raise PermissionDenied(refusal)
    form = NfaReviewForm(request.POST or None, review=found)
    stale = None
    if request.method == "POST" and not found.is_done and form.is_valid():
        try:
            quality.record_review(review=found, actor=request.user, **form.cleaned_data)
        except StaleEdit as error:
            stale = error
            found.refresh_from_db()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Review of {found.enquiry.reference} saved.")
            return redirect("nfa-review-queue")
    return render(
        request,
        "reports/quality_review.html",
        {"review": found, "enquiry": found.enquiry, "form": form, "stale": stale},
    )
