from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from reports import views as report_views

from . import views
from .forms import SignInForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("queue/", views.triage_queue, name="triage-queue"),
    path("enquiries/", include("enquiries.urls")),
    path("inbox/", views.agency_inbox, name="agency-inbox"),
    path("sharing/", include("sharing.urls")),
    path("notifications/", include("enquiries.notification_urls")),
    path("dashboard/", report_views.dashboard, name="manager-dashboard"),
    path("reports/", include("reports.urls")),
    path("audit/", views.audit_log, name="audit-log"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("administration/", views.administration, name="administration"),
    path("healthz", views.healthz, name="healthz"),
    path("api/", include("mash.api_urls")),
    path("admin/", admin.site.urls),
]
