from django.urls import path

from . import quality_views

urlpatterns = [
    path("", quality_views.review_queue, name="nfa-review-queue"),
    path("<int:pk>/", quality_views.review, name="nfa-review"),
]
