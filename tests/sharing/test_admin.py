"""Sharing in the admin, now the superusers' alone (administrators change the policy on
/hub-settings/, tests/hub_settings): the policy can be edited; requests and chasers can be
looked at, never changed; agency information is not there at all."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from audit.models import AccessLogEntry
from sharing.chasing import chase_overdue_requests
from sharing.models import (
    Chaser,
    InformationRecord,
    InformationRequest,
    RecordGroupObjectPermission,
    RecordUserObjectPermission,
    ReleaseDecision,
    ReleaseRequest,
    SharingPolicy,
)

pytestmark = pytest.mark.django_db

POLICY_URL = reverse("admin:sharing_sharingpolicy_change", args=[1])


@pytest.fixture
def superuser(make_user):
    return make_user(is_superuser=True, username="superuser")


@pytest.fixture
def admin_client(client, hub, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def chased(hub):
    """Both of the hub's requests chased once; the police one holds a sensitive record."""
    hub.record("sensitive", marker="ADMIN-MARKER-7731")
    chase_overdue_requests(now=hub.police_request.due_at + timedelta(minutes=1))
    return hub


def test_the_policy_list_opens_the_one_policy(admin_client):
    listing = admin_client.get(reverse("admin:sharing_sharingpolicy_changelist"))

    assert listing.status_code == 302
    assert listing.url == POLICY_URL
    assert SharingPolicy.objects.count() == 1


def test_a_superuser_changes_the_policy_and_the_change_is_recorded(admin_client, superuser):
    page = admin_client.get(POLICY_URL)
    assert page.status_code == 200
    assert b'name="_save"' in page.content

    response = admin_client.post(
        POLICY_URL, {"request_due_percent": "60", "chase_interval_minutes": "120"}
    )

    assert response.status_code == 302
    policy = SharingPolicy.current()
    assert (policy.request_due_percent, policy.chase_interval_minutes) == (60, 120)
    entry = LogEntry.objects.get_for_object(policy).latest("timestamp")
    assert entry.actor == superuser
    assert entry.changes_dict["chase_interval_minutes"] == ["60", "120"]


def test_a_superuser_names_the_agency_that_runs_the_hub(admin_client, hub):
    response = admin_client.post(
        POLICY_URL,
        {"request_due_percent": "75", "chase_interval_minutes": "60", "lead_agency": hub.csc.pk},
    )

    assert response.status_code == 302
    assert SharingPolicy.current().lead_agency == hub.csc
    entry = LogEntry.objects.get_for_object(SharingPolicy.current()).latest("timestamp")
    assert entry.changes_dict["lead_agency"] == ["None", str(hub.csc.pk)]


def test_the_policy_is_never_added_to_or_deleted(admin_client):
    SharingPolicy.current()

    assert admin_client.get(reverse("admin:sharing_sharingpolicy_add")).status_code == 403
    delete_url = reverse("admin:sharing_sharingpolicy_delete", args=[1])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert SharingPolicy.objects.count() == 1


def test_other_roles_cannot_open_the_sharing_admin(client, hub):
    for person in (hub.manager, hub.police_officer, hub.auditor, hub.analyst):
        client.force_login(person)
        assert client.get(POLICY_URL).status_code == 302  # to the admin sign-in


@pytest.mark.parametrize(
    ("model", "name"), [(InformationRequest, "informationrequest"), (Chaser, "chaser")]
)
def test_requests_and_chasers_are_listed_and_shown_but_never_changed(
    admin_client, chased, model, name, django_assert_max_num_queries
):
    row = model.objects.first()
    change_url = reverse(f"admin:sharing_{name}_change", args=[row.pk])

    # session, user, their roles, their own and their roles' permissions, the agency
    # filter's choices, the count, the unfiltered count, and the page of rows with their
    # enquiry and agency joined
    with django_assert_max_num_queries(9):
        listing = admin_client.get(reverse(f"admin:sharing_{name}_changelist"))
    shown = admin_client.get(change_url)

    assert listing.status_code == 200
    assert chased.enquiry.reference in listing.content.decode()
    assert shown.status_code == 200
    assert b'name="_save"' not in shown.content
    assert admin_client.get(reverse(f"admin:sharing_{name}_add")).status_code == 403
    assert admin_client.post(change_url, {}).status_code == 403
    delete_url = reverse(f"admin:sharing_{name}_delete", args=[row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_the_request_pages_show_no_question_people_or_record_content(admin_client, chased):
    request = InformationRequest.objects.get(pk=chased.police_request.pk)
    pages = [
        admin_client.get(reverse("admin:sharing_informationrequest_changelist")),
        admin_client.get(reverse("admin:sharing_informationrequest_change", args=[request.pk])),
        admin_client.get(reverse("admin:sharing_chaser_changelist")),
    ]

    for page in pages:
        text = page.content.decode()
        assert "ADMIN-MARKER-7731" not in text
        assert request.question not in text
        assert chased.enquiry.subject.last_name not in text


@pytest.mark.parametrize(
    "model",
    [
        InformationRecord,
        ReleaseRequest,
        ReleaseDecision,
        AccessLogEntry,
        RecordUserObjectPermission,
        RecordGroupObjectPermission,
    ],
)
def test_agency_information_and_the_logs_have_no_admin(admin_client, model):
    name = model._meta.model_name

    assert model not in admin.site._registry
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:sharing_{name}_changelist")
    assert admin_client.get(f"/admin/sharing/{name}/").status_code == 404


def test_the_admin_index_offers_only_the_policy_requests_and_chasers(admin_client):
    page = admin_client.get(reverse("admin:app_list", args=["sharing"]))

    assert page.status_code == 200
    names = {entry["object_name"] for entry in page.context["app_list"][0]["models"]}
    assert names == {"SharingPolicy", "InformationRequest", "Chaser"}
