from django.contrib import admin
from django.urls import include, path

from enquiries import people_views
from reports import views as report_views
from sharing import urls as sharing_urls

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # Sign-in with its one-time password, sign-out, and the person's own account.
    path("", include("agencies.urls")),
    path("queue/", views.triage_queue, name="triage-queue"),
    path("enquiries/", include("enquiries.urls")),
    path("enquiries/", include(sharing_urls.enquiry_urlpatterns)),
    path("people/", include("enquiries.people_urls")),
    path("people/", include("enquiries.merge_urls")),
    path("search/", people_views.find, name="find"),
    path("inbox/", views.agency_inbox, name="agency-inbox"),
    path("sharing/", include("sharing.urls")),
    path("notifications/", include("enquiries.notification_urls")),
    path("dashboard/", report_views.dashboard, name="manager-dashboard"),
    path(
        "dashboard/agencies/<int:agency_id>/",
        report_views.agency_waiting,
        name="dashboard-agency-waiting",
    ),
    path("reports/", include("reports.urls")),
    path("quality/", include("reports.quality_urls")),
    path("audit/", views.audit_log, name="audit-log"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("administration/", views.administration, name="administration"),
    path("hub-settings/", include("mash.hub_settings.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz-live"),
    path("healthz/ready", views.healthz_ready, name="healthz-ready"),
    path("healthz/background", views.healthz_background, name="healthz-background"),
    path("api/", include("mash.api_urls")),
    path("admin/", admin.site.urls),
]

# Too much data (a body over the size limit, a form with too many fields) is 413, not 400.
handler400 = "core.limits.bad_request"
# An unknown path under /api/ is the API's JSON 404, not the site's page.
handler404 = "core.limits.not_found"
