from rest_framework.routers import SimpleRouter

from . import domestic_abuse, views

router = SimpleRouter()
router.register(
    "information-requests", views.InformationRequestViewSet, basename="information-request"
)
router.register(
    "information-records", views.InformationRecordViewSet, basename="information-record"
)

router.register(
    "domestic-abuse-notifications",
    domestic_abuse.DomesticAbuseNotificationViewSet,
    basename="domestic-abuse-notification",
)

urlpatterns = router.urls
