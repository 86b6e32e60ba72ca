from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("enquiries", views.EnquiryViewSet, basename="enquiry")

urlpatterns = [
    *router.urls,
    path("referrer-types/", views.ReferrerTypeList.as_view(), name="referrer-type-list"),
    path("outcomes/", views.OutcomeList.as_view(), name="outcome-list"),
    path("people/matches/", views.PersonMatchList.as_view(), name="person-match-list"),
]
