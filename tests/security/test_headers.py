"""Headers and cookies on real responses (issue 8, item 2): the CSP, framing, referrer and
sniffing headers everywhere, no-store on everything a signed-in person receives, secure
cookies, HSTS and the https redirect."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from agencies.models import Role
from tests.factories import PASSWORD, api_key_for

pytestmark = pytest.mark.django_db

CSP = {"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"}
EVERYWHERE = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def responses(hub, make_user) -> dict[str, object]:
    """One of each kind: pages signed in and out, refusals, the API by token, an export, the
    API docs and their script, the health check."""
    researcher = signed_in(hub.researcher)
    token = api_key_for(hub.police_officer)
    return {
        "sign-in page": Client().get(reverse("login")),
        "triage queue": researcher.get(reverse("triage-queue")),
        "enquiry page": researcher.get(hub.enquiry.get_absolute_url()),
        "403 page": signed_in(make_user()).get(reverse("triage-queue")),
        "404 page": researcher.get("/no-such-page/"),
        "API by token": Client(HTTP_AUTHORIZATION=f"Token {token}").get(
            reverse("api:information-request-list")
        ),
        "API 401": Client().get(reverse("api:enquiry-list")),
        "CSV export": researcher.get(
            reverse("enquiry-information-export", args=[hub.enquiry.reference])
        ),
        "API docs": researcher.get(reverse("api:docs")),
        "API docs script": researcher.get(reverse("api:docs") + "?script="),
        "health check": Client().get(reverse("healthz")),
    }


def test_every_response_carries_the_csp_and_the_other_safe_headers(hub, make_user):
    for name, response in responses(hub, make_user).items():
        assert response.status_code < 500, name
        shown = {header: response.get(header) for header in EVERYWHERE}
        assert shown == EVERYWHERE, name
        policy = set(response["Content-Security-Policy"].split("; "))
        # Swagger UI's icons are data: images; see tests/security/test_csp.py.
        assert policy == (CSP | {"img-src 'self' data:"} if name.startswith("API docs") else CSP), (
            name
        )


def test_everything_a_signed_in_person_receives_is_never_stored(hub, make_user):
    seen = responses(hub, make_user)
    signed_in_responses = [
        "triage queue",
        "enquiry page",
        "403 page",
        "404 page",
        "API by token",
        "CSV export",
        "API docs",
        "API docs script",
    ]

    for name in signed_in_responses:
        directives = {d.strip() for d in seen[name]["Cache-Control"].split(",")}
        assert {"no-store", "private", "no-cache", "max-age=0"} <= directives, name


def test_static_files_stay_cacheable_signed_in_or_not(hub):
    for client in (Client(), signed_in(hub.researcher)):
        response = client.get("/static/js/app.js")

        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", "")


def test_a_signed_out_page_without_private_data_is_not_marked(hub):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_session_and_csrf_cookies_are_secure_httponly_and_lax(hub):
    client = Client()
    form = client.get(reverse("login"))
    signed = client.post(
        reverse("login"),
        {"username": hub.researcher.username, "password": PASSWORD},
    )

    assert form.status_code == 200
    assert signed.status_code == 302
    for cookie in (
        signed.cookies[settings.SESSION_COOKIE_NAME],
        form.cookies[settings.CSRF_COOKIE_NAME],
    ):
        assert cookie["secure"] is True, cookie.key
        assert cookie["httponly"] is True, cookie.key
        assert cookie["samesite"] == "Lax", cookie.key
        # Secure, so `__Host-` (issue 21, item 5): Path=/ and no Domain, or browsers drop it.
        assert cookie.key.startswith("__Host-"), cookie.key
        assert (cookie["path"], cookie["domain"]) == ("/", ""), cookie.key


def test_https_responses_carry_hsts_for_a_year_with_subdomains_and_preload(hub):
    response = Client().get(reverse("login"), secure=True)

    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


def test_plain_http_is_redirected_to_https_but_the_health_check_is_not(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    page = client.get(reverse("login"))
    health = client.get(reverse("healthz"))

    assert page.status_code == 301
    assert page["Location"] == "https://testserver/sign-in/"
    assert health.status_code == 200


def test_behind_a_tls_proxy_its_header_counts_as_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()

    proxied = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    direct = client.get(reverse("login"))

    assert proxied.status_code == 200
    assert "Strict-Transport-Security" in proxied
    assert direct.status_code == 301


def test_a_no_role_person_has_no_notifications_link(make_user):
    html = signed_in(make_user()).get(reverse("home")).content.decode()

    assert "You do not have a role in the hub yet" in html
    assert reverse("notifications") not in html


def test_a_person_with_a_role_keeps_the_notifications_link(make_user):
    html = signed_in(make_user(Role.ANALYST)).get(reverse("reports-index")).content.decode()

    assert reverse("notifications") in html


def test_the_health_check_answers_whatever_host_it_is_called_by(settings):
    """A load balancer or the compose check calls the container by its own address, which a
    real ALLOWED_HOSTS does not name; every other page still refuses that host."""
    settings.ALLOWED_HOSTS = ["mash.example.org"]
    client = Client(HTTP_HOST="172.18.0.5:8000")

    health = client.get(reverse("healthz"))
    page = client.get(reverse("login"))

    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    assert health["X-Content-Type-Options"] == "nosniff"
    assert page.status_code == 400
