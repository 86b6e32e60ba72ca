"""The police's domestic-abuse pages (docs/domain.md 5.7): their queue, one notification with
its triage form, and the CSV upload. Thin: the firewall finds the notifications (anyone else
finds none, and an id is 404, logged), the services decide and write, every look is logged."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from core.forms import add_service_errors
from core.keyset import query_without

from . import domestic_abuse, firewall, services
from .domestic_abuse_forms import QueueFilterForm, TriageForm, UploadForm
from .models import DomesticAbuseNotification

Channel = AccessLogEntry.Channel
Notification = DomesticAbuseNotification
PAGE_SIZE = 50


def queue_order(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    """New first, then oldest first (the page and the API)."""
    return notifications.annotate(
        triaged=Case(
            When(status=Notification.Status.NEW, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("triaged", "received_at", "id")


def filtered(notifications: QuerySet[Notification], data) -> tuple[QuerySet, QueueFilterForm]:
    form = QueueFilterForm(data)
    if form.is_valid():
        for name in ("status", "risk_level"):
            if form.cleaned_data[name]:
                notifications = notifications.filter(**{name: form.cleaned_data[name]})
    else:
        notifications = notifications.none()
    return notifications, form


@role_required(Role.PRACTITIONER)
def queue(request: SignedInRequest) -> HttpResponse:
    notifications, form = filtered(firewall.domestic_abuse_notifications(request.user), request.GET)
    page = Paginator(queue_order(notifications), PAGE_SIZE).get_page(request.GET.get("page"))
    domestic_abuse.log_notifications_seen(
        user=request.user,
        notifications=list(page.object_list),
        channel=Channel.PAGE,
        doing="Triaging domestic-abuse notifications",
    )
    return render(
        request,
        "sharing/da_queue.html",
        {
            "form": form,
            "page": page,
            "query": query_without(request.GET, "page"),
            "receives": firewall.receive_notifications_refusal(request.user) is None,
        },
        status=200 if form.is_valid() else 400,
    )


def _notification(request: SignedInRequest, pk: int) -> Notification:
    with services.refusals_logged(
        user=request.user,
        action=f"open domestic-abuse notification {pk}",
        channel=Channel.PAGE,
    ):
        return firewall.notification_for(request.user, pk)


def _page(
    request: SignedInRequest, notification: Notification, form: TriageForm | None, status=200
) -> HttpResponse:
    domestic_abuse.log_notifications_seen(
        user=request.user,
        notifications=[notification],
        channel=Channel.PAGE,
        doing=f"Triaging domestic-abuse notification {notification.police_reference}",
    )
    may_triage = (
        notification.status == Notification.Status.NEW
        and firewall.triage_refusal(request.user, notification) is None
    )
    return render(
        request,
        "sharing/da_detail.html",
        {
            "notification": notification,
            "form": form if may_triage else None,
            "victims": notification.named(Notification.Part.VICTIM),
            "perpetrators": notification.named(Notification.Part.ALLEGED_PERPETRATOR),
            "children": notification.named(Notification.Part.CHILD),
        },
        status=status,
    )


# Anyone with a role reaches it; the firewall makes it 404 for all but the force's own.
@role_required(*Role.values)
def detail(request: SignedInRequest, pk: int) -> HttpResponse:
    notification = _notification(request, pk)
    if request.method != "POST":
        form = TriageForm(initial={"expected_version": notification.version})
        return _page(request, notification, form)
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _page(request, notification, form, status=400)
    try:
        triaged = domestic_abuse.triage(
            notification=notification, actor=request.user, **form.cleaned_data
        )
    except StaleEdit as error:
        data = request.POST.copy()
        data["expected_version"] = str(error.current_version)
        form = TriageForm(data)
        form.is_valid()
        form.add_error(None, error.messages[0])
        return _page(request, firewall.notification_for(request.user, pk), form, status=409)
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, notification, form, status=400)
    if triaged.enquiry is not None:
        messages.success(
            request,
            f"{triaged.police_reference} referred to the hub as {triaged.enquiry.reference}.",
        )
    else:
        messages.success(request, f"{triaged.police_reference}: no further action recorded.")
    return redirect("da-queue")


@role_required(Role.PRACTITIONER)
def upload(request: SignedInRequest) -> HttpResponse:
    refusal = firewall.receive_notifications_refusal(request.user)
    if refusal:
        raise PermissionDenied(refusal)
    problems: list = []
    summary = ""
    status = 200
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                loaded = domestic_abuse.import_notifications(
                    form.cleaned_data["file"], actor=request.user
                )
            except domestic_abuse.BadNotificationFile as error:
                problems, summary, status = error.problems, error.summary, 400
            else:
                messages.success(request, f"{len(loaded)} notifications received.")
                return redirect("da-queue")
        else:
            status = 400
    return render(
        request,
        "sharing/da_upload.html",
        {"form": form, "problems": problems, "summary": summary, "columns": domestic_abuse.COLUMNS},
        status=status,
    )
