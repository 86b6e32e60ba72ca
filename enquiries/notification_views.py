"""The signed-in person's notifications page and marking them read. Anyone with a role has
one; someone whose roles were all taken away no longer reads about enquiries."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from core.forms import add_service_errors

from .mail import chosen_kinds, email_preference_of, email_preference_save
from .notification_forms import EmailChoiceForm, NotificationFilterForm
from .notifications import (
    UnreadCount,
    notification_mark_read,
    notifications_mark_all_read,
    unread_notification_count,
    user_notifications,
)

PAGE_SIZE = 50


def _back(request: SignedInRequest) -> HttpResponse:
    """To the page the button was on, if it is one of ours; else the first page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications")


@role_required(*Role.values)
def notifications(request: SignedInRequest) -> HttpResponse:
    form = NotificationFilterForm(request.GET)
    shown = form.cleaned_data if form.is_valid() else {}
    page = Paginator(
        user_notifications(
            user=request.user, group=shown.get("group", ""), unread=shown.get("unread", False)
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "enquiries/notifications.html",
        {
            "page": page,
            "form": form,
            "filtered": bool(shown.get("group") or shown.get("unread")),
            "acknowledges": request.user.has_role(Role.MANAGER),
            # Counted in full here, where the caption says how many; in place of the
            # navigation's count, which stops at "99+" and so shows the same.
            "unread_notifications": UnreadCount(unread_notification_count(user=request.user)),
        },
        status=200 if form.is_valid() else 400,
    )


@role_required(*Role.values)
@require_POST
def notification_read(request: SignedInRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(user_notifications(user=request.user), pk=pk)
    notification_mark_read(notification=notification)
    return _back(request)


@role_required(*Role.values)
@require_POST
def notifications_read_all(request: SignedInRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return _back(request)


@role_required(*Role.values)
def notification_emails(request: SignedInRequest) -> HttpResponse:
    """Choose which kinds of one's notifications also come by email."""
    chosen = sorted(chosen_kinds(email_preference_of(request.user)))
    form = EmailChoiceForm(
        request.POST if request.method == "POST" else None, initial={"kinds": chosen}
    )
    if form.is_valid():
        try:
            email_preference_save(user=request.user, kinds=form.cleaned_data["kinds"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your choice of notifications by email is saved.")
            return redirect("notification-emails")
    return render(request, "enquiries/notification_emails.html", {"form": form})
