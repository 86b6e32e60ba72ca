"""The merge pages, under /people/ (mash/urls.py)."""

from django.urls import path

from . import merge_views

urlpatterns = [
    path("<int:person_id>/merge/", merge_views.person_merge, name="person-merge"),
    path("merges/<int:merge_id>/undo/", merge_views.person_merge_undo, name="person-merge-undo"),
]
