"""Signing in and the person's own account (included at the root by mash/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import sessions, views

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-in/set-up-code/", views.set_up_with_code, name="set-up-code"),
    path("sign-in/two-factor/", views.verify, name="two-factor"),
    path("sign-in/two-factor/set-up/", views.set_up, name="two-factor-set-up"),
    path("sign-in/two-factor/backup-codes/", views.backup_codes, name="two-factor-backup-codes"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("session/", sessions.status, name="session-status"),
    path("session/keep-alive/", sessions.keep_alive, name="session-keep-alive"),
    path("session/time-out/", sessions.time_out, name="session-time-out"),
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("account/backup-codes/", views.renew_backup_codes, name="backup-codes-renew"),
    path("account/api-tokens/", views.create_api_token, name="api-token-create"),
    path("account/api-tokens/<int:pk>/revoke/", views.revoke_api_token, name="api-token-revoke"),
]
