from django.urls import path
from rest_framework.routers import SimpleRouter

from . import merge, people, referrals, views

router = SimpleRouter()
router.register("enquiries", views.EnquiryViewSet, basename="enquiry")

urlpatterns = [
    *router.urls,
    path("referrer-types/", views.ReferrerTypeList.as_view(), name="referrer-type-list"),
    path("outcomes/", views.OutcomeList.as_view(), name="outcome-list"),
    path("people/matches/", views.PersonMatchList.as_view(), name="person-match-list"),
    *merge.urlpatterns,
    *referrals.urlpatterns,
    path("people/", people.PeopleSearch.as_view(), name="person-list"),
    path("people/<int:pk>/", people.PersonDetail.as_view(), name="person-detail"),
    path(
        "people/<int:pk>/chronology/",
        people.PersonChronology.as_view(),
        name="person-chronology",
    ),
]
