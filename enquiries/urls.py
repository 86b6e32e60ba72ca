from django.urls import path

from . import amendment_views, referral_views, views

urlpatterns = [
    path("new/", views.enquiry_intake, name="enquiry-intake"),
    path("<str:reference>/", views.enquiry_detail, name="enquiry-detail"),
    path("<str:reference>/rate/", views.enquiry_rate, name="enquiry-rate"),
    path("<str:reference>/move/", views.enquiry_move, name="enquiry-move"),
    path("<str:reference>/assign/", views.enquiry_assign, name="enquiry-assign"),
    path("<str:reference>/escalate/", views.enquiry_escalate, name="enquiry-escalate"),
    path(
        "<str:reference>/acknowledge-escalation/",
        views.enquiry_acknowledge_escalation,
        name="enquiry-acknowledge-escalation",
    ),
    path("<str:reference>/decide/", views.enquiry_decide, name="enquiry-decide"),
    path("<str:reference>/feedback/", views.enquiry_feedback, name="enquiry-feedback"),
    path("<str:reference>/refer/", referral_views.enquiry_refer, name="enquiry-refer"),
    path(
        "<str:reference>/referrals/<int:pk>/answer/",
        referral_views.referral_answer,
        name="enquiry-referral-answer",
    ),
    path(
        "<str:reference>/referrals/<int:pk>/picture.pdf",
        referral_views.referral_picture,
        name="enquiry-referral-picture",
    ),
    path(
        "<str:reference>/people/<int:person_id>/correct/",
        amendment_views.person_correct,
        name="enquiry-person-correct",
    ),
    path("<str:reference>/people/add/", amendment_views.person_add, name="enquiry-person-add"),
    path(
        "<str:reference>/people/<int:involvement_id>/remove/",
        amendment_views.person_remove,
        name="enquiry-person-remove",
    ),
    path("<str:reference>/children/add/", amendment_views.child_add, name="enquiry-child-add"),
    path(
        "<str:reference>/referral/correct/",
        amendment_views.referral_correct,
        name="enquiry-referral-correct",
    ),
]
