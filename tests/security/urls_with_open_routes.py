"""mash's URLs plus routes someone forgot to protect, for the walk to catch."""

from django.http import Http404, HttpResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def forgotten_page(request, reference: str) -> HttpResponse:
    return HttpResponse(f"Everything about {reference}")


def forgotten_lookup(request, pk: int) -> HttpResponse:
    """Looks the object up before asking who wants it: a 404 for a stranger is a leak too."""
    raise Http404


class ForgottenEndpoint(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"children": []})

    def post(self, request):
        return Response({"saved": True})


urlpatterns = [
    path("forgotten/<str:reference>/", forgotten_page, name="forgotten-page"),
    path("forgotten/lookup/<int:pk>/", forgotten_lookup, name="forgotten-lookup"),
    path("forgotten-api/", ForgottenEndpoint.as_view(), name="forgotten-endpoint"),
    path("", include("mash.urls")),
]
