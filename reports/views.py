"""Report pages, their downloads, and the manager's dashboard; the figures come from
`reports.selectors`, the same as `manage.py report`."""

from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import urlencode

from agencies.decorators import role_required
from agencies.models import Agency, Role
from agencies.requests import SignedInRequest
from audit.access_log import acting_as, log_access
from audit.models import AccessLogEntry
from core.downloads import csv_download

from . import exports, running
from .dashboard import manager_dashboard_figures
from .forms import ReportPeriodForm
from .periods import last_full_month
from .selectors import CATALOGUE, REPORTS, ReportKind, build_report, period_description

REPORT_ROLES = (Role.MANAGER, Role.ANALYST)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _kind(name: str) -> ReportKind:
    try:
        return REPORTS[name]
    except KeyError:
        raise Http404("There is no report by that name.") from None


@role_required(*REPORT_ROLES)
def index(request: SignedInRequest) -> HttpResponse:
    """The analysts' home: the catalogue, and last month by category and subject at a glance."""
    month = last_full_month()
    kind = REPORTS["breakdown"]
    glance = build_report("breakdown", month, user=request.user, now=timezone.now())
    return render(
        request,
        "reports/index.html",
        {
            "catalogue": CATALOGUE,
            "default_period": month.label(),
            "report": glance,
            "described": period_description(glance),
            "table": _table(glance),
            "chart": exports.chart_data(glance, kind.chart),
        },
    )


def _report_asked_for(request: SignedInRequest, name: str):
    """The report for the period in the query string: (kind, form, report), the report None
    while the period has errors."""
    kind = _kind(name)
    form = ReportPeriodForm(
        request.GET or None, compares=kind.compares, default=kind.default_period()
    )
    if form.is_bound and not form.is_valid():
        return kind, form, None
    report = build_report(
        name, form.period, compared_with=form.compared_with, user=request.user, now=timezone.now()
    )
    return kind, form, report


def _period_errors(request: SignedInRequest, kind: ReportKind, form: ReportPeriodForm):
    return render(
        request, "reports/report.html", {"kind": kind, "form": form, "report": None}, status=400
    )


@role_required(*REPORT_ROLES)
def report_page(request: SignedInRequest, name: str) -> HttpResponse:
    kind, form, report = _report_asked_for(request, name)
    if report is None:
        return _period_errors(request, kind, form)
    return render(
        request,
        "reports/report.html",
        {
            "kind": kind,
            "form": form,
            "report": report,
            "described": period_description(report),
            "table": _table(report),
            "chart": exports.chart_data(report, kind.chart) if kind.chart else None,
            "query": urlencode(form.query()),
        },
    )


def _table(report) -> list[list[tuple[str, str]]]:
    """Each row's cells as (text, kind), so the template aligns figures without knowing them."""
    return [
        [(exports.format_cell(row[col.name], col.kind), col.kind) for col in report.columns]
        for row in report.rows
    ]


@role_required(*REPORT_ROLES)
def report_download(request: SignedInRequest, name: str, extension: str) -> HttpResponseBase:
    """The report as CSV or Excel. Downloads are written to the access log, like every other
    export, though a report holds counts only."""
    kind, form, report = _report_asked_for(request, name)
    if report is None:
        return _period_errors(request, kind, form)
    file_name = exports.filename(report, extension)
    log_access(
        user=request.user,
        action=AccessLogEntry.Action.EXPORT,
        channel=AccessLogEntry.Channel.EXPORT,
        reason=acting_as(request.user, "Downloading a report"),
        terms=f"{kind.title}: {period_description(report)}; file {file_name}",
    )
    if extension == "csv":
        return csv_download(exports.csv_lines(report), file_name)
    response = HttpResponse(exports.as_xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@role_required(Role.MANAGER)
def dashboard(request: SignedInRequest) -> HttpResponse:
    figures = manager_dashboard_figures(now=timezone.now(), user=request.user)
    return render(request, "reports/dashboard.html", figures)


@role_required(Role.MANAGER)
def agency_waiting(request: SignedInRequest, agency_id: int) -> HttpResponse:
    """What one agency owes the hub: its overdue requests and the releases it has not yet
    decided, oldest first; the dashboard's figures for that agency, as lists."""
    agency = get_object_or_404(Agency, pk=agency_id)
    lists = running.agency_waiting_lists(user=request.user, agency_id=agency.pk, now=timezone.now())
    return render(request, "reports/agency_waiting.html", {"agency": agency, **lists})
