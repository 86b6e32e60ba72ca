"""The shell of the web app: where "/" sends each person, each role's home, and health."""

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agencies import selectors, two_factor
from agencies.decorators import role_required, to_second_factor
from agencies.models import Role
from agencies.requests import SignedInRequest
from audit.access_log import acting_as, log_access, search_terms
from audit.models import AccessLogEntry
from core.downloads import csv_download
from core.keyset import query_without
from enquiries.clock import clock_in_force
from enquiries.filters import QueueFilter
from enquiries.selectors import hub_clock_settings, hub_hours, open_enquiries, queue_page
from sharing import access_log, audit
from sharing import selectors as sharing_selectors
from sharing.access_log import log_search
from sharing.filters import AuditFilter
from sharing.log_pages import log_page

from . import health
from .navigation import homes_for


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    if not two_factor.passed(request):
        return to_second_factor(request)
    homes = homes_for(request.user)
    if homes:
        return redirect(homes[0].url_name)
    return render(request, "home/no_role.html")


@role_required(Role.RESEARCHER, Role.MANAGER)
def triage_queue(request: SignedInRequest) -> HttpResponse:
    now = timezone.now()
    asked = QueueFilter(request.GET or None, open_enquiries(), request=request, now=now)
    clock = clock_in_force()
    page, rows = queue_page(
        asked.qs,
        searched=bool(asked.words),
        now=now,
        number=request.GET.get("page"),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        reader=request.user,
        clock=clock,
    )
    if asked.words:
        # A search by reference or name, with the filters it ran under; a plain queue is not
        # logged.
        log_search(
            user=request.user,
            channel=AccessLogEntry.Channel.SEARCH,
            doing="Searching the triage queue",
            terms=search_terms(**asked.asked()),
        )
    return render(
        request,
        "home/triage_queue.html",
        {
            "form": asked.form,
            "page": page,
            "rows": rows,
            "query": query_without(request.GET, "page", "after", "before"),
            # For the countdown script, and "Clock paused" while the hub is closed.
            "hours": hub_hours(clock, now=now),
        },
    )


@role_required(Role.PRACTITIONER)
def agency_inbox(request: SignedInRequest) -> HttpResponse:
    """The practitioner's home: their agency's open requests soonest due first, its records
    awaiting a release decision, and what it answered, and the hub withdrew, lately."""
    page = Paginator(sharing_selectors.open_inbox_ids(request.user), 50).get_page(
        request.GET.get("page")
    )
    awaiting, awaiting_release = sharing_selectors.awaiting_release_page(
        request.user, request.GET.get("awaiting")
    )
    access_log.log_content_views(
        user=request.user, records=awaiting_release, channel=AccessLogEntry.Channel.PAGE
    )
    requests = sharing_selectors.open_inbox_rows(
        request.user, cast(QuerySet, page.object_list), now=timezone.now()
    )
    answered = sharing_selectors.recently_answered(request.user)
    withdrawn = sharing_selectors.recently_withdrawn(request.user)
    return render(
        request,
        "home/agency_inbox.html",
        {
            "page": page,
            "requests": requests,
            "awaiting": awaiting,
            "awaiting_release": awaiting_release,
            # Each list's pages keep the other's place.
            "query": query_without(request.GET, "page"),
            "awaiting_query": query_without(request.GET, "awaiting"),
            "answered": sharing_selectors.inbox_lines(answered, "answered_at"),
            "withdrawn": sharing_selectors.inbox_lines(withdrawn, "withdrawn_at"),
            "colleagues": selectors.agency_colleagues(user=request.user),
            # Links that differ only by the id: one reverse() each, not one a row.
            "request_link": sharing_selectors.link_around_id("sharing-request"),
            "record_link": sharing_selectors.link_around_id("sharing-record"),
        },
    )


def _log_reading(
    request: SignedInRequest, filters: AuditFilter, channel: str, *, page: int = 1
) -> None:
    """An auditor's read of the logs is itself in the access log, with the filters used."""
    log_access(
        user=request.user,
        action=AccessLogEntry.Action.READ_LOG,
        channel=channel,
        enquiry=filters.enquiry_asked,
        reason=acting_as(request.user, "Auditing the logs"),
        terms=filters.read_terms(page=page),
    )


def _audit_page(
    request: SignedInRequest, filters: AuditFilter, *, status: int = 200
) -> HttpResponse:
    log = filters.shown_log
    valid = filters.is_valid()
    entries = filters.qs if valid else filters.queryset.none()
    page = log_page(
        entries,
        when=audit.WHEN[log],
        number=request.GET.get("page"),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    rows = (
        audit.change_rows(page.object_list)
        if log == audit.CHANGES
        else audit.with_names(list(page.object_list))
    )
    if valid:
        # Read first, then logged: the page shows the log as it was when read.
        _log_reading(request, filters, AccessLogEntry.Channel.PAGE, page=page.number)
    query = request.GET.copy()
    for place in ("page", "after", "before"):
        query.pop(place, None)
    tabs = []
    for value, label in audit.LOGS:
        # An action belongs to one log: switching logs keeps every other filter.
        tab_query = query.copy()
        tab_query.pop("action", None)
        tab_query["log"] = value
        tabs.append({"label": label, "query": tab_query.urlencode(), "current": value == log})
    return render(
        request,
        "home/audit_log.html",
        {
            "form": filters.form,
            "log": log,
            "filters": filters,
            "tabs": tabs,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
        },
        status=status,
    )


@role_required(Role.AUDITOR)
def audit_log(request: SignedInRequest) -> HttpResponse:
    return _audit_page(request, AuditFilter.of_log(request.GET or None, request=request))


@role_required(Role.AUDITOR)
def audit_export(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered log as CSV, streamed. The export is itself written to the access log."""
    filters = AuditFilter.of_log(request.GET, request=request)
    if not filters.is_valid():
        return _audit_page(request, filters, status=400)
    _log_reading(request, filters, AccessLogEntry.Channel.EXPORT)
    log = filters.shown_log
    return csv_download(audit.csv_lines(log, filters.qs), audit.export_filename(log))


@role_required(Role.ADMINISTRATOR)
def administration(request: SignedInRequest) -> HttpResponse:
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
    """The combined check as it always was, for monitors that read it: 503 when the database
    or Redis is down or the scheduled scan is late. Not for a load balancer: use
    /healthz/ready (mash.health)."""
    report = health.check()
    return JsonResponse(report.as_json(), status=200 if report.healthy else 503)


@require_GET
@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """The process answers; nothing else is asked."""
    return JsonResponse(health.live())


@require_GET
@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose's web health check: 503 only when the database does not
    answer, since a web node without it can serve nothing."""
    answer = health.ready()
    return JsonResponse(answer, status=200 if health.is_ready(answer) else 503)


@require_GET
@never_cache
def healthz_background(request: HttpRequest) -> JsonResponse:
    """For monitoring: Redis, beat, the workers and the rest of mash.health's background
    checks; 503 when one fails. Each call also feeds the watch that alerts administrators, so
    a beat that has stopped (and with it the watch's own job) is still told of."""
    report = health.background()
    state = health.watch(report)
    body = {
        **report.as_json(),
        "failing_since": state.bad_since.isoformat() if state.bad_since else None,
        "administrators_told_at": state.alerted_at.isoformat() if state.alerted_at else None,
    }
    return JsonResponse(body, status=200 if report.healthy else 503)


# Answered before the Host check (mash.middleware.HealthCheckFirst), by URL name.
HEALTH_CHECKS = {
    "healthz": healthz,
    "healthz-live": healthz_live,
    "healthz-ready": healthz_ready,
    "healthz-background": healthz_background,
}
