"""Case content is not searchable, filterable or listed in the administration site (issue 16):
administrators run the hub, they do not read its cases (docs/domain.md section 2).

Every registered ModelAdmin is walked, so an admin added later is checked like the rest; and
Django's habit of filtering a list by any field named in the address
(`?question__icontains=...`) is refused with a 400 (core.admin.ListFiltersOnly)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role, User
from core.admin import ListFiltersOnly
from sharing.firewall import CONTENT_FIELDS

pytestmark = pytest.mark.django_db

# What each model holds about the people in a case and what happened to them. A list, search,
# filter or form in the admin that reaches one of these (directly or through a relation) would
# show administrators case content. "__str__" where a model's name is made of content.
CASE_CONTENT = {
    "enquiries.Enquiry": {
        "referrer_name",
        "referrer_organisation",
        "referrer_contact",
        "subject",
        "concern",
        "consent_reason",
        "rating_rationale",
        "decision_rationale",
        "feedback_method",
        "feedback_text",
    },
    "enquiries.Person": {
        "first_name",
        "last_name",
        "search_name",
        "date_of_birth",
        "approximate_age",
        "address",
        "nhs_number",
        "__str__",
    },
    "enquiries.EnquiryPerson": {"person", "__str__"},
    "enquiries.EnquiryEvent": {"from_value", "to_value", "rationale"},
    "enquiries.Notification": {"message", "__str__"},
    "sharing.InformationRequest": {"question", "people"},
    "sharing.InformationRecord": {*CONTENT_FIELDS, "person"},
    "sharing.ReleaseRequest": {"reason"},
    "sharing.ReleaseDecision": {"reason", "conditions"},
    "audit.AccessLogEntry": {"reason", "terms", "person"},
}


def registered() -> list[tuple[str, admin.ModelAdmin]]:
    return [(model._meta.label, model_admin) for model, model_admin in admin.site._registry.items()]


def content_in_path(model, path: str) -> str | None:
    """The first case-content field `path` reaches from `model`, as "app.Model.field"."""
    for part in path.split("__"):
        if part in CASE_CONTENT.get(model._meta.label, set()):
            return f"{model._meta.label}.{part}"
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None  # an admin method or a lookup: nothing further to follow
        if not field.is_relation:
            return None
        model = field.related_model
    return None


def entries(model_admin: admin.ModelAdmin, request) -> dict[str, list[str]]:
    """What each of the admin's lists, searches, filters and forms names, as field paths."""
    filters = [
        item[0] if isinstance(item, list | tuple) else item
        for item in model_admin.get_list_filter(request)
        if not isinstance(item, type)
    ]
    return {
        "list_display": [
            item for item in model_admin.get_list_display(request) if isinstance(item, str)
        ],
        "list_filter": [item for item in filters if isinstance(item, str)],
        "search_fields": [item.lstrip("^=@") for item in model_admin.get_search_fields(request)],
        "date_hierarchy": [model_admin.date_hierarchy] if model_admin.date_hierarchy else [],
        "ordering": [
            item.lstrip("-")
            for item in model_admin.get_ordering(request) or ()
            if isinstance(item, str)
        ],
        "fields": [
            item
            for item in model_admin.get_fields(request, model_admin.model())
            if isinstance(item, str)
        ],
    }


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_superuser=True, is_active=True)
    return request


def test_the_walk_finds_the_admins():
    labels = {label for label, _ in registered()}

    assert {
        "agencies.User",
        "agencies.AccessChange",
        "enquiries.Notification",
        "sharing.InformationRequest",
        "sharing.Chaser",
        "auth.Group",
    } <= labels


@pytest.mark.parametrize(
    ("label", "model_admin"), registered(), ids=[label for label, _ in registered()]
)
def test_no_admin_lists_searches_filters_or_shows_case_content(
    label, model_admin, superuser_request
):
    found = [
        f"{where}: {path} reaches {content}"
        for where, paths in entries(model_admin, superuser_request).items()
        for path in paths
        if (content := content_in_path(model_admin.model, path))
    ]
    if "__str__" in CASE_CONTENT.get(label, set()):
        # Its name is content: the list has no links to its page, and the page is refused.
        assert not model_admin.has_view_permission(superuser_request, model_admin.model())
        assert model_admin.list_display_links is None

    assert found == []


@pytest.mark.parametrize(
    ("label", "model_admin"), registered(), ids=[label for label, _ in registered()]
)
def test_every_admin_filters_only_by_its_own_filters(label, model_admin):
    assert isinstance(model_admin, ListFiltersOnly), label


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_superuser=True, username="root"))
    return client


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:sharing_informationrequest_changelist", "question__icontains=bruis"),
        ("admin:sharing_informationrequest_changelist", "people__last_name__icontains=firewall"),
        ("admin:sharing_informationrequest_changelist", "enquiry__concern__icontains=bruis"),
        ("admin:sharing_informationrequest_changelist", "agency__name__icontains=police"),
        ("admin:sharing_chaser_changelist", "request__question__icontains=bruis"),
        ("admin:enquiries_notification_changelist", "message__icontains=amy"),
        ("admin:enquiries_notification_changelist", "enquiry__concern__icontains=bruis"),
        ("admin:enquiries_slaevent_changelist", "enquiry__subject__first_name=Amy"),
        ("admin:enquiries_slaevent_changelist", "enquiry__decision_rationale__icontains=x"),
        ("admin:agencies_user_changelist", "password__startswith=argon2"),
        ("admin:agencies_user_changelist", "email__icontains=example"),
        ("admin:agencies_accesschange_changelist", "reason__icontains=starter"),
        ("admin:auth_group_changelist", "permissions__codename=view_content"),
    ],
)
def test_a_list_refuses_a_filter_that_is_not_one_of_its_own(admin_client, url_name, query):
    response = admin_client.get(f"{reverse(url_name)}?{query}")

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:sharing_informationrequest_changelist", "status__exact=requested"),
        ("admin:sharing_informationrequest_changelist", "agency__id__exact={agency}"),
        ("admin:sharing_informationrequest_changelist", "agency__isnull=True"),
        (
            "admin:sharing_informationrequest_changelist",
            "due_at__gte={today}&due_at__lt={tomorrow}",
        ),
        ("admin:sharing_chaser_changelist", "request__agency__id__exact={agency}"),
        ("admin:enquiries_notification_changelist", "kind__exact=chaser&read_at__isempty=1"),
        ("admin:enquiries_slaevent_changelist", "kind=breached"),
        ("admin:agencies_user_changelist", "groups__id__exact={group}&is_active__exact=1"),
        ("admin:agencies_user_changelist", "q=police"),
        ("admin:agencies_apitoken_changelist", "revoked_at__isempty=0"),
        ("admin:agencies_accesschange_changelist", "status__exact=pending&kind__exact=add_role"),
    ],
)
def test_a_list_still_filters_by_its_own_filters(admin_client, agency, url_name, query):
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    values = {
        "agency": agency.pk,
        "group": Group.objects.get(name=Role.RESEARCHER).pk,
        # as the date filter's own links give them: aware, so quoted for the "+"
        "today": quote(str(midnight)),
        "tomorrow": quote(str(midnight + timedelta(days=1))),
    }

    response = admin_client.get(f"{reverse(url_name)}?{query.format(**values)}")

    assert response.status_code == 200, response.content[:300]
