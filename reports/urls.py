from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="reports-index"),
    path("<slug:name>/", views.report_page, name="report"),
    path("<slug:name>.csv", views.report_download, {"extension": "csv"}, name="report-csv"),
    path("<slug:name>.xlsx", views.report_download, {"extension": "xlsx"}, name="report-xlsx"),
]
