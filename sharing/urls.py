from django.urls import path

from . import domestic_abuse_views, picture_views, request_views, revision_views, views

urlpatterns = [
    path("requests/<int:pk>/", views.request_detail, name="sharing-request"),
    path("requests/<int:pk>/records/", views.request_add_record, name="sharing-request-add-record"),
    path("requests/<int:pk>/answer/", views.request_send_answer, name="sharing-request-answer"),
    path(
        "requests/<int:pk>/nothing-held/",
        views.request_nothing_held,
        name="sharing-request-nothing-held",
    ),
    path(
        "requests/<int:pk>/withdraw/",
        request_views.request_withdraw,
        name="sharing-request-withdraw",
    ),
    path("records/<int:pk>/", views.record_detail, name="sharing-record"),
    path(
        "records/<int:pk>/request-release/",
        views.record_request_release,
        name="sharing-record-request-release",
    ),
    path("records/<int:pk>/release/", views.record_release, name="sharing-record-release"),
    path("records/<int:pk>/refuse/", views.record_refuse, name="sharing-record-refuse"),
    path("records/<int:pk>/correct/", revision_views.record_correct, name="sharing-record-correct"),
    path(
        "records/<int:pk>/withdraw/",
        revision_views.record_withdraw,
        name="sharing-record-withdraw",
    ),
    path("search/", views.record_search, name="sharing-search"),
    # The police's triage of domestic-abuse notifications (docs/domain.md 5.7).
    path("domestic-abuse/", domestic_abuse_views.queue, name="da-queue"),
    path("domestic-abuse/upload/", domestic_abuse_views.upload, name="da-upload"),
    path("domestic-abuse/<int:pk>/", domestic_abuse_views.detail, name="da-notification"),
]

# Under /enquiries/ beside the enquiry's own pages (mash.urls).
enquiry_urlpatterns = [
    path(
        "<str:reference>/information-requests/",
        views.send_requests,
        name="enquiry-send-requests",
    ),
    path(
        "<str:reference>/information.csv",
        views.enquiry_information_export,
        name="enquiry-information-export",
    ),
    # An enquiry's picture, or a family's (MASH-F-...); `?format=pdf` for the PDF.
    path("<str:reference>/picture/", picture_views.enquiry_picture, name="enquiry-picture"),
]
