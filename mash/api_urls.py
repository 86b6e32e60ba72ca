"""The REST API under /api/: version 1 of the endpoints, its OpenAPI schema and docs page."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

app_name = "api"

urlpatterns = [
    path("v1/", include("enquiries.api.urls")),
    path("v1/", include("sharing.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, not inline, so scripts and styles
    # keep the site's policy. Swagger UI's stylesheet draws its icons as data: SVG images: the
    # one exception, on this page only, and images cannot run code.
    path(
        "docs/",
        csp_update({"img-src": [SELF, "data:"]})(
            login_required(
                SpectacularSwaggerSplitView.as_view(
                    url_name="api:schema", template_name="api/docs.html"
                )
            )
        ),
        name="docs",
    ),
]
