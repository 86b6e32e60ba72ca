from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register(
    "information-requests", views.InformationRequestViewSet, basename="information-request"
)
router.register(
    "information-records", views.InformationRecordViewSet, basename="information-record"
)

urlpatterns = router.urls
