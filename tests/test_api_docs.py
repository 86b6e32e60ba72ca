"""The API's OpenAPI schema, its docs page (served from our own static files), and the error
shapes every endpoint shares."""

import re

import pytest
import yaml
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from agencies.models import Role
from core.api import exception_handler
from enquiries.exceptions import StaleEdit

pytestmark = pytest.mark.django_db

ENQUIRY_PATHS = {
    "/api/v1/enquiries/",
    "/api/v1/enquiries/{reference}/",
    "/api/v1/enquiries/{reference}/rate/",
    "/api/v1/enquiries/{reference}/transition/",
    "/api/v1/enquiries/{reference}/assign/",
    "/api/v1/enquiries/{reference}/escalate/",
    "/api/v1/enquiries/{reference}/acknowledge-escalation/",
    "/api/v1/enquiries/{reference}/decide/",
    "/api/v1/enquiries/{reference}/feedback/",
    "/api/v1/referrer-types/",
    "/api/v1/outcomes/",
    "/api/v1/people/matches/",
}


@pytest.fixture
def signed_in(make_user):
    client = APIClient()
    client.force_login(make_user(Role.RESEARCHER))
    return client


def test_the_schema_is_valid_openapi_in_json_with_every_enquiry_path(signed_in):
    response = signed_in.get(reverse("api:schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["info"]["title"] == "Countyshire MASH API"
    assert ENQUIRY_PATHS <= set(schema["paths"])
    decide = schema["paths"]["/api/v1/enquiries/{reference}/decide/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(decide["responses"])
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_schema_is_served_as_yaml_by_default(signed_in):
    response = signed_in.get(reverse("api:schema"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert ENQUIRY_PATHS <= set(schema["paths"])


def test_the_schema_needs_a_signed_in_user():
    assert APIClient().get(reverse("api:schema")).status_code == 401


def test_the_docs_page_loads_only_our_own_files(signed_in):
    response = signed_in.get(reverse("api:docs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="swagger-ui"></div>' in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<style" not in html
    assert re.search(r"<script>", html) is None  # no inline script: CSP can forbid them
    resources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(resources) == 7
    for resource in resources:
        assert resource.startswith("/") and not resource.startswith("//"), resource
        assert signed_in.get(resource).status_code == 200, resource


def test_the_docs_start_up_script_points_at_our_schema(signed_in):
    html = signed_in.get(reverse("api:docs")).content.decode()
    (script_url,) = re.findall(r'src="(/api/docs/[^"]+)"', html)

    response = signed_in.get(script_url.replace("&amp;", "&"))

    assert response["Content-Type"].startswith("application/javascript")
    script = response.content.decode()
    assert 'url: "/api/schema/"' in script
    assert "https://" not in script and "http://" not in script


def test_the_docs_page_sends_strangers_to_sign_in(client):
    response = client.get(reverse("api:docs"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (ValidationError("Not decided."), 400, {"non_field_errors": ["Not decided."]}),
        (
            ValidationError({NON_FIELD_ERRORS: ["Both."], "rationale": ["Give a reason."]}),
            400,
            {"non_field_errors": ["Both."], "rationale": ["Give a reason."]},
        ),
        (PermissionDenied("Your role does not allow this."), 403, None),
        (
            StaleEdit(changes=["assigned by Mo Khan at 10:02"], current_version=3),
            409,
            {"changes": ["assigned by Mo Khan at 10:02"], "current_version": 3},
        ),
    ],
    ids=["message", "fields", "permission", "stale"],
)
def test_domain_errors_become_drf_shaped_responses(error, status, body):
    response = exception_handler(error, {})

    assert response.status_code == status
    if status == 409:
        assert response.data["detail"].startswith("Someone else changed this enquiry")
        assert {key: response.data[key] for key in body} == body
    elif body is not None:
        assert response.data == body
    else:
        assert response.data == {"detail": "Your role does not allow this."}
