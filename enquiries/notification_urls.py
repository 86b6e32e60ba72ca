from django.urls import path

from . import notification_views as views

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("email/", views.notification_emails, name="notification-emails"),
    path("read/", views.notifications_read_all, name="notifications-read-all"),
    path("<int:pk>/read/", views.notification_read, name="notification-read"),
]
