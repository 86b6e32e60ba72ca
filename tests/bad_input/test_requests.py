"""Requests too large to take, with too many fields, with a NUL in the address or JSON nested
beyond reading: each gets a clear answer (a page, or `{"detail": ...}` from the API), never a
500, and nothing is saved."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.bad_input.conftest import client_for, snapshot
from tests.test_settings import run_with

pytestmark = pytest.mark.django_db

TOO_MUCH = (
    "That was too much to send at once: the hub takes at most 2.5 MB in one go. Nothing was saved."
)
OVER = 2_621_440 + 1


def rate_url(stage) -> str:
    return reverse("enquiry-rate", args=[stage.enquiry.reference])


def test_the_limits_default_to_djangos_and_come_from_the_environment():
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000

    result = run_with(
        {
            "DEBUG": "true",
            "DATA_UPLOAD_MAX_MEMORY_SIZE": "1048576",
            "DATA_UPLOAD_MAX_NUMBER_FIELDS": "400",
        },
        "from django.conf import settings; "
        "print(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1048576", "400"]


def test_a_form_over_the_size_limit_gets_the_too_much_page_and_saves_nothing(stage):
    client = client_for(stage, "researcher", api=False)
    before = snapshot()

    response = client.post(
        rate_url(stage),
        {"rating": "red", "rationale": "x" * OVER, "expected_version": stage.enquiry.version},
    )

    assert response.status_code == 413
    html = response.content.decode()
    assert '<h1 class="govuk-heading-l">That was too much to send at once</h1>' in html
    assert TOO_MUCH in html
    assert "your browser usually keeps what you typed" in html
    # Refused inside the header middleware: the page carries every header a page does.
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    assert snapshot() == before


def test_a_form_just_under_the_size_limit_is_read_and_answered_on_its_field(stage):
    client = client_for(stage, "researcher", api=False)

    response = client.post(
        rate_url(stage),
        {"rating": "red", "rationale": "x" * 2_000_000, "expected_version": 1},
    )

    assert response.status_code == 200
    assert "Use at most 10,000 characters; this has 2,000,000." in response.content.decode()


def test_an_api_call_over_the_size_limit_is_413_in_json_and_saves_nothing(stage):
    client = client_for(stage, "researcher", api=True)
    body = {"rating": "red", "rationale": "x" * OVER, "expected_version": 1}
    before = snapshot()

    response = client.post(
        reverse("api:enquiry-rate", args=[stage.enquiry.reference]),
        json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": TOO_MUCH}
    assert snapshot() == before


def test_signing_in_with_too_much_is_refused_the_same_way():
    response = Client().post(reverse("login"), {"username": "x" * OVER, "password": "y"})

    assert response.status_code == 413
    assert TOO_MUCH in response.content.decode()


def test_a_form_with_too_many_fields_gets_the_too_much_page(stage, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    client = client_for(stage, "researcher", api=False)
    before = snapshot()

    response = client.post(reverse("enquiry-intake"), {f"field-{n}": "x" for n in range(60)})

    assert response.status_code == 413
    html = response.content.decode()
    assert "That was too much to send at once: the hub takes at most 50 fields in one go." in html
    assert snapshot() == before


def test_an_address_with_too_many_parameters_is_refused_the_same_way(stage, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    client = client_for(stage, "researcher", api=True)

    response = client.get(reverse("api:enquiry-list"), {f"p{n}": "x" for n in range(60)})

    assert response.status_code == 413
    assert response.json() == {
        "detail": "That was too much to send at once: the hub takes at most 50 fields in one "
        "go. Nothing was saved."
    }


@pytest.mark.parametrize(
    "path",
    [
        "/enquiries/%00/",
        "/enquiries/MASH-2026-%00000001/rate/",
        "/sharing/records/1%00/",
        "/api/v1/enquiries/%00/",
        "/api/v1/information-records/%00/",
    ],
)
def test_a_nul_in_the_path_is_not_found(stage, path):
    client = client_for(stage, "researcher", api=path.startswith("/api/"))

    response = client.get(path)

    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}
    else:
        assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    "path, query",
    [
        ("/sharing/search/", "q=abc%00"),
        ("/queue/", "q=%00"),
        ("/queue/", "rating=red&%00=1"),
        ("/notifications/", "page=%00"),
        ("/api/v1/enquiries/", "q=%00"),
        ("/api/v1/information-records/", "enquiry=%00"),
    ],
)
def test_a_nul_in_the_query_string_is_refused_with_a_message(stage, path, query):
    client = client_for(stage, "researcher", api=path.startswith("/api/"))

    response = client.get(f"{path}?{query}")

    assert response.status_code == 400
    message = "The address holds an invisible NUL character, which it cannot"
    if path.startswith("/api/"):
        assert response.json()["detail"].startswith(message)
    else:
        assert message in response.content.decode()


def test_json_nested_beyond_reading_is_a_400(stage):
    client = client_for(stage, "researcher", api=True)
    depth = 100_000

    response = client.post(
        reverse("api:enquiry-escalate", args=[stage.enquiry.reference]),
        "[" * depth + "]" * depth,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


def test_other_bad_requests_keep_djangos_plain_answer_or_say_so_in_json():
    page = Client(HTTP_HOST="elsewhere.example").get("/")
    api = Client(HTTP_HOST="elsewhere.example").get(reverse("api:enquiry-list"))

    assert page.status_code == 400
    assert "Bad Request (400)" in page.content.decode()
    assert api.status_code == 400
    assert api.json() == {"detail": "The request could not be read."}


@pytest.mark.parametrize(
    "field, value",
    [
        ("people", list(range(1, 102))),
        ("agencies", list(range(1, 102))),
    ],
)
def test_lists_in_an_api_call_are_bounded(stage, field, value):
    client = client_for(stage, "researcher", api=True)
    body = {"enquiry": stage.enquiry.reference, "agencies": [stage.csc.pk], field: value}

    response = client.post(reverse("api:information-request-list"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
