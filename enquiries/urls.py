from django.urls import path

from . import views

urlpatterns = [
    path("new/", views.enquiry_intake, name="enquiry-intake"),
    path("<str:reference>/", views.enquiry_detail, name="enquiry-detail"),
    path("<str:reference>/rate/", views.enquiry_rate, name="enquiry-rate"),
    path("<str:reference>/move/", views.enquiry_move, name="enquiry-move"),
    path("<str:reference>/assign/", views.enquiry_assign, name="enquiry-assign"),
    path("<str:reference>/escalate/", views.enquiry_escalate, name="enquiry-escalate"),
    path("<str:reference>/decide/", views.enquiry_decide, name="enquiry-decide"),
    path("<str:reference>/feedback/", views.enquiry_feedback, name="enquiry-feedback"),
]
