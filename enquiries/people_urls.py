from django.urls import path

from . import people_views

urlpatterns = [
    path("", people_views.people_search, name="people-search"),
    path("<int:pk>/", people_views.person_detail, name="person-detail"),
    path(
        "<int:pk>/chronology.csv",
        people_views.person_chronology_csv,
        name="person-chronology-csv",
    ),
]
