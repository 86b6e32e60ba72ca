"""DRF's defaults, closed (issue 8, item 3): a role needed everywhere, pages capped at 200,
and a field the API does not know refused by name on every write. Throttling has its own
tests (test_throttling.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from agencies.models import Role
from core.api import Pagination
from enquiries.clock import clock_in_force
from enquiries.merging import people_merge
from enquiries.models import Enquiry, Person, PersonMerge
from tests.factories import api_key_for

from .walk import routes

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# Default permission


def test_a_person_with_no_role_is_refused_by_every_endpoint_by_default(make_user):
    token = api_key_for(make_user())
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get(reverse("api:referrer-type-list"))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your account has no role in the hub yet: ask your hub administrator for one."
    }


def test_any_role_passes_the_default_and_endpoints_narrow_it(make_user):
    analyst = api_for(make_user(Role.ANALYST))

    assert analyst.get(reverse("api:referrer-type-list")).status_code == 200
    assert analyst.get(reverse("api:enquiry-list")).status_code == 403


# Pages


def page_size(query: str) -> int:
    request = Request(APIRequestFactory().get(f"/api/v1/enquiries/{query}"))
    return Pagination().get_page_size(request)


def test_pages_hold_50_and_a_client_may_ask_for_up_to_200():
    assert page_size("") == 50
    assert page_size("?page_size=3") == 3
    assert page_size("?page_size=200") == 200
    assert page_size("?page_size=100000") == 200


@pytest.mark.parametrize("asked", ["-1", "0", "lots", "", "2.5", " 7"])
def test_a_page_size_that_is_not_a_whole_number_of_at_least_one_is_refused(hub, asked):
    """As the schema says (minimum 1, an integer): not quietly taken as 50."""
    response = api_for(hub.researcher).get(reverse("api:enquiry-list"), {"page_size": asked})

    assert response.status_code == 400
    assert response.json() == {"page_size": ["Give a whole number of at least 1."]}


def test_an_oversized_page_request_is_capped_not_refused(hub, django_assert_max_num_queries):
    client = api_for(hub.researcher)
    # As a running server has them: the person's roles read with the person, the clock kept.
    assert hub.researcher.roles
    clock_in_force()

    # the count, the page (its joins in one query) and the clock's version
    with django_assert_max_num_queries(3):
        response = client.get(reverse("api:enquiry-list"), {"page_size": 100000})

    assert response.status_code == 200
    assert response.json()["count"] == Enquiry.objects.count()


def api_views():
    for route in routes():
        if route.name.startswith("api:") and hasattr(route.callback, "cls"):
            yield route.name, route.callback


def test_every_api_list_is_paged_by_the_capped_pagination_or_is_a_short_fixed_list():
    unpaged = set()
    for name, view in api_views():
        pagination = getattr(view.cls, "pagination_class", None)
        assert pagination in (Pagination, None), name
        if pagination is None:
            unpaged.add(name)

    # Reference lists of a few dozen codes, the best few matches for a name, and the schema.
    assert unpaged <= {
        "api:referrer-type-list",
        "api:outcome-list",
        "api:person-match-list",
        "api:schema",
        "api:docs",
        # People search pages itself, 25 without a count (a common surname's thousands are
        # not counted to show 25), and one person is not a list.
        "api:person-list",
        "api:person-detail",
        # Writes answering with the one merge they made or undid.
        "api:person-merge",
        "api:person-merge-undo",
        # An enquiry's onward referrals are a handful; one answer; one PDF.
        "api:enquiry-referral-list",
        "api:enquiry-referral-answer-api",
        "api:enquiry-referral-picture-api",
    }


# Unknown fields


def write_endpoints(hub) -> dict[str, tuple]:
    """Every endpoint that takes a request body: who may call it, and its address."""
    record = hub.record("sensitive", marker="UNKNOWN-FIELD")
    reference = [hub.enquiry.reference]
    return {
        "api:enquiry-list": (hub.researcher, []),
        "api:enquiry-rate": (hub.researcher, reference),
        "api:enquiry-transition": (hub.researcher, reference),
        "api:enquiry-assign": (hub.researcher, reference),
        "api:enquiry-escalate": (hub.researcher, reference),
        "api:enquiry-acknowledge-escalation": (hub.manager, reference),
        "api:enquiry-decide": (hub.manager, reference),
        "api:enquiry-feedback": (hub.researcher, reference),
        "api:enquiry-add-person": (hub.researcher, reference),
        "api:enquiry-remove-person": (
            hub.researcher,
            [*reference, hub.enquiry.involvements.get(person=hub.enquiry.subject).pk],
        ),
        "api:enquiry-correct-person": (hub.researcher, [*reference, hub.enquiry.subject_id]),
        "api:enquiry-add-child": (hub.researcher, reference),
        "api:enquiry-correct-referral": (hub.researcher, reference),
        "api:information-request-list": (hub.researcher, []),
        "api:information-request-records": (hub.police_officer, [hub.police_request.pk]),
        "api:information-request-answer": (hub.police_officer, [hub.police_request.pk]),
        "api:information-request-nothing-held": (hub.police_officer, [hub.police_request.pk]),
        "api:information-request-withdraw": (hub.researcher, [hub.health_request.pk]),
        "api:information-record-release-request": (hub.researcher, [record.pk]),
        "api:information-record-release": (hub.police_officer, [record.pk]),
        "api:information-record-refuse": (hub.police_officer, [record.pk]),
        "api:information-record-correct": (hub.police_officer, [record.pk]),
        "api:information-record-withdraw": (hub.police_officer, [record.pk]),
        "api:person-merge": (hub.manager, [hub.enquiry.subject_id]),
        "api:person-merge-undo": (hub.manager, [a_merge(hub).pk]),
        "api:enquiry-referral-list": (hub.manager, reference),
        # The body is read before the referral is looked up: any id shows the refusal.
        "api:enquiry-referral-answer-api": (hub.manager, [*reference, 1]),
        "api:domestic-abuse-notification-list": (hub.police_officer, []),
        "api:domestic-abuse-notification-triage": (hub.police_officer, [a_notification(hub).pk]),
    }


def a_notification(hub):
    from sharing.models import DomesticAbuseNotification

    return DomesticAbuseNotification.objects.create(
        agency=hub.police,
        police_reference="TVP-UNKNOWN-FIELD",
        incident_at=timezone.now(),
        received_at=timezone.now(),
        people=[{"part": "victim", "first_name": "A", "last_name": "B", "date_of_birth": None}],
        summary="Shouting.",
        created_by=hub.police_officer,
    )


def a_merge(hub) -> PersonMerge:
    kept = Person.objects.create(first_name="Kept", last_name="Record")
    twin = Person.objects.create(first_name="Twin", last_name="Record")
    return people_merge(survivor=kept, merged=twin, actor=hub.manager, reason="One person.")


def takes_a_body(view) -> bool:
    methods = {"post", "put", "patch"}
    if hasattr(view, "actions"):
        return bool(methods & set(view.actions))
    return any(hasattr(view.cls, method) for method in methods)


def test_every_endpoint_taking_a_body_is_checked_below(hub):
    writes = {name for name, view in api_views() if takes_a_body(view)}

    assert writes == set(write_endpoints(hub))


def test_each_write_endpoint_refuses_a_field_it_does_not_know_by_name(hub):
    version = hub.enquiry.version
    for name, (user, args) in write_endpoints(hub).items():
        response = api_for(user).post(reverse(name, args=args), {"colour": "red"}, format="json")

        assert response.status_code == 400, (name, response.content)
        assert response.json() == {"colour": ["This field is not part of this request."]}, name

    hub.enquiry.refresh_from_db()
    assert hub.enquiry.version == version


def test_a_field_unknown_inside_a_list_is_refused_where_it_is(hub):
    body = {
        "received_at": (timezone.now()).isoformat(),
        "referrer_name": "Ms Head",
        "referrer_type": "school",
        "subject_type": "child",
        "subjects": [
            {"first_name": "Cal", "last_name": "Nested", "confirmed_new": True},
            {"first_name": "Dee", "last_name": "Nested", "confirmed_new": True, "eyes": "blue"},
        ],
        "concern": "Bruising.",
        "categories": ["physical_abuse"],
        "consent": "yes",
    }

    response = api_for(hub.researcher).post(reverse("api:enquiry-list"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "subjects": {"1": {"eyes": ["This field is not part of this request."]}}
    }
    assert not Enquiry.objects.filter(subject__last_name="Nested").exists()


def test_known_fields_alone_still_save(hub):
    response = api_for(hub.researcher).post(
        reverse("api:enquiry-escalate", args=[hub.enquiry.reference]),
        {"reason": "Disclosure at school this morning."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["rating"] == "red"
