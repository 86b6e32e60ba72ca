"""The shell of the web app: where "/" sends each person, each role's home, and health."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agencies import selectors
from agencies.decorators import role_required
from agencies.models import Role
from enquiries.forms import QueueFilterForm
from enquiries.selectors import enquiry_queue, hub_clock_settings, queue_rows

from .navigation import homes_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    homes = homes_for(request.user)
    if homes:
        return redirect(homes[0].url_name)
    return render(request, "home/no_role.html")


@role_required(Role.RESEARCHER, Role.MANAGER)
def triage_queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    enquiries = enquiry_queue(user=request.user, filters=form.filters(), now=now)
    page = Paginator(enquiries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "home/triage_queue.html",
        {
            "form": form,
            "page": page,
            "rows": queue_rows(page.object_list, now=now),
            "query": query.urlencode(),
        },
    )


@role_required(Role.PRACTITIONER)
def agency_inbox(request: HttpRequest) -> HttpResponse:
    colleagues = selectors.agency_colleagues(user=request.user)
    return render(request, "home/agency_inbox.html", {"colleagues": colleagues})


@role_required(Role.MANAGER)
def manager_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home/manager_dashboard.html",
        {
            "role_counts": selectors.role_counts(),
            "participation_counts": selectors.participation_counts(),
        },
    )


@role_required(Role.ANALYST, Role.MANAGER)
def reports_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home/reports_index.html",
        {
            "kind_counts": selectors.agency_kind_counts(),
            "participation_counts": selectors.participation_counts(),
        },
    )


@role_required(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.change_log(), 50).get_page(request.GET.get("page"))
    return render(request, "home/audit_log.html", {"page": page})


@role_required(Role.ADMINISTRATOR)
def administration(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home/administration.html",
        {
            "agencies": selectors.agencies_with_member_counts(),
            "role_counts": selectors.role_counts(),
            "clock": hub_clock_settings(today=timezone.localdate()),
        },
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose health checks: no sign-in, no case data."""
    checks = {"database": "ok", "redis": "not configured"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "down" to a load balancer
        checks["database"] = "down"
    if settings.REDIS_URL:
        try:
            cache.set("healthz", "ok", timeout=5)
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "down"
    healthy = all(value != "down" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
