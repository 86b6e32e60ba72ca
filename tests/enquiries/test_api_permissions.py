"""Who may call which API endpoint: every role, and nobody signed in, against every endpoint.

Researchers and managers work on enquiries and only managers decide; everyone signed in may
read the reference lists; other roles get 403 and an unauthenticated call 401.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from enquiries import services
from enquiries.models import Enquiry, Outcome
from tests.factories import api_key_for, police_notification

pytestmark = pytest.mark.django_db

PERSONAS = ["researcher", "manager", "practitioner", "analyst", "auditor", "administrator"]


def _log(actor, name: str) -> Enquiry:
    (enquiry,) = police_notification(actor, name, concern="Domestic incident attended overnight.")
    return enquiry


@pytest.fixture
def enquiries(make_user) -> dict[str, Enquiry]:
    """An open enquiry, one decided and waiting for feedback, and one escalated."""
    manager = make_user(Role.MANAGER)
    decided = services.enquiry_decide(
        enquiry=_log(manager, "Bea"),
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No risk.",
        expected_version=1,
    )
    escalated = services.enquiry_escalate(
        enquiry=_log(manager, "Cal"), actor=manager, reason="Disclosure."
    )
    return {"open": _log(manager, "Ann"), "decided": decided, "escalated": escalated}


def _on(name: str, which: str = "open"):
    return lambda enquiries: reverse(f"api:enquiry-{name}", args=[enquiries[which].reference])


def intake() -> dict:
    """Received an hour before the test's own now, not the moment this module was imported."""
    return {
        "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_type": "school",
        "subject_type": "child",
        "subjects": [{"first_name": "Cal", "last_name": "Zed", "confirmed_new": True}],
        "concern": "Hungry at school.",
        "categories": ["neglect"],
        "consent": "yes",
    }


# name: (method, url, body or query, status when allowed)
ENDPOINTS = {
    "list": ("get", lambda _: reverse("api:enquiry-list"), None, 200),
    "retrieve": ("get", _on("detail"), None, 200),
    "create": ("post", lambda _: reverse("api:enquiry-list"), intake, 201),
    "rate": ("post", _on("rate"), {"rating": "red", "rationale": "x", "expected_version": 1}, 200),
    "transition": (
        "post",
        _on("transition"),
        {"to_state": "screening", "expected_version": 1},
        200,
    ),
    "assign": ("post", _on("assign"), {"assignee": None, "expected_version": 1}, 200),
    "escalate": ("post", _on("escalate"), {"reason": "Disclosure."}, 200),
    "acknowledge-escalation": ("post", _on("acknowledge-escalation", "escalated"), {}, 200),
    "decide": (
        "post",
        _on("decide"),
        {"outcome": "nfa", "rationale": "No risk.", "expected_version": 1},
        200,
    ),
    "feedback": (
        "post",
        _on("feedback", "decided"),
        {"method": "Email", "text": "No further action.", "expected_version": 2},
        200,
    ),
    "people-matches": (
        "get",
        lambda _: reverse("api:person-match-list"),
        {"first_name": "Ann", "last_name": "Smith"},
        200,
    ),
    "referrer-types": ("get", lambda _: reverse("api:referrer-type-list"), None, 200),
    "outcomes": ("get", lambda _: reverse("api:outcome-list"), None, 200),
}

TRIAGE_ENDPOINTS = set(ENDPOINTS) - {"referrer-types", "outcomes"}


def expected_status(persona: str, endpoint: str) -> int:
    allowed = ENDPOINTS[endpoint][3]
    if persona == "anonymous":
        return 401
    if endpoint not in TRIAGE_ENDPOINTS:
        return allowed
    if endpoint in ("decide", "acknowledge-escalation"):
        return allowed if persona == "manager" else 403
    return allowed if persona in ("researcher", "manager") else 403


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("persona", [*PERSONAS, "anonymous"])
def test_each_role_may_call_only_its_endpoints(make_user, enquiries, persona, endpoint):
    client = APIClient()
    if persona != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(make_user(persona))}")
    method, url, body, _ = ENDPOINTS[endpoint]
    body = body() if callable(body) else body

    if method == "get":
        response = client.get(url(enquiries), body)
    else:
        response = client.post(url(enquiries), body, format="json")

    assert response.status_code == expected_status(persona, endpoint), response.json()


def test_a_refused_role_changes_nothing(make_user, enquiries):
    client = APIClient()
    client.force_authenticate(make_user(Role.ANALYST))
    open_enquiry = enquiries["open"]

    client.post(
        reverse("api:enquiry-rate", args=[open_enquiry.reference]),
        {"rating": "red", "rationale": "x", "expected_version": 1},
        format="json",
    )

    open_enquiry.refresh_from_db()
    assert (open_enquiry.rating, open_enquiry.version) == ("none", 1)


def test_a_deactivated_person_loses_access_with_their_token(make_user):
    researcher = make_user(Role.RESEARCHER)
    key = api_key_for(researcher)
    researcher.is_active = False
    researcher.save(update_fields=["is_active"])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get(reverse("api:enquiry-list"))

    # Deactivating revoked the token (agencies.sessions), so it is no token at all now.
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
