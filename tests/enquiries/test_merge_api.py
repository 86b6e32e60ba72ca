"""The merge endpoints: merging two records of a person and undoing it, for managers."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import services
from enquiries.models import Enquiry, EnquiryEvent, Person, PersonMerge, ReferrerType

pytestmark = pytest.mark.django_db

REASON = "Same child: the GP spelt the surname differently."


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def intake(actor, subject):
    return services.enquiry_intake(
        actor=actor,
        received_at=timezone.now() - timedelta(hours=1),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[subject],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Domestic incident attended overnight.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.YES,
    )[0]


@pytest.fixture
def smith(manager):
    amy = Person.objects.create(first_name="Amy", last_name="Smith")
    intake(manager, amy)
    return amy


@pytest.fixture
def smyth(manager):
    amy = Person.objects.create(first_name="Amy", last_name="Smyth", date_of_birth=date(2018, 5, 1))
    intake(manager, amy)
    return amy


def merge_url(person_id):
    return reverse("api:person-merge", args=[person_id])


def undo_url(merge_id):
    return reverse("api:person-merge-undo", args=[merge_id])


def test_a_manager_merges_and_gets_the_merge_back(api, manager, smith, smyth):
    response = api.post(
        merge_url(smith.pk),
        {"other": smyth.pk, "reason": REASON, "expected_versions": [1, 1]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    merge = PersonMerge.objects.get()
    assert body["id"] == merge.pk
    assert body["survivor"] == {
        "id": smith.pk,
        "first_name": "Amy",
        "last_name": "Smith",
        "date_of_birth": "2018-05-01",
        "approximate_age": None,
        "version": 2,
        "merged_into": None,
    }
    assert (body["merged"]["id"], body["merged"]["merged_into"]) == (smyth.pk, smith.pk)
    assert (body["reason"], body["merged_by"]["id"], body["undone_at"]) == (
        REASON,
        manager.pk,
        None,
    )
    assert body["enquiries"] == [
        Enquiry.objects.get(subject=smith, events__kind="people_merged").reference
    ]
    assert body["moved"]["details"] == {"date_of_birth": "2018-05-01"}
    logged = AccessLogEntry.objects.filter(
        user=manager, action=AccessLogEntry.Action.VIEW_PERSON, channel="api"
    )
    assert sorted(logged.values_list("person_id", flat=True)) == sorted([smith.pk, smyth.pk])


def test_expected_versions_may_be_left_out(api, smith, smyth):
    response = api.post(merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json")

    assert response.status_code == 201


def test_a_stale_version_is_409_with_what_changed_and_saves_nothing(api, smith, smyth):
    Person.objects.filter(pk=smith.pk).update(version=3)

    response = api.post(
        merge_url(smith.pk),
        {"other": smyth.pk, "reason": REASON, "expected_versions": [2, 1]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["changes"] == [
        f"Amy Smith (id {smith.pk}) was changed (version 2 when you read it, now 3)"
    ]
    assert response.json()["current_versions"] == [3, 1]
    assert not PersonMerge.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"other": 999999, "reason": REASON},
            {"other": ["No one in the register has the id 999999."]},
        ),
        (
            {"other": "self", "reason": REASON},
            {"other": ["A person cannot be merged with themselves."]},
        ),
        ({"other": "smyth", "reason": " "}, {"reason": ["Say why these are the same person."]}),
        ({"other": "smyth"}, {"reason": ["Say why these are the same person."]}),
        (
            {"other": "smyth", "reason": REASON, "expected_versions": [1]},
            {"expected_versions": ["Ensure this field has at least 2 elements."]},
        ),
        (
            {"other": "smyth", "reason": REASON, "survivor": 3},
            {"survivor": ["This field is not part of this request."]},
        ),
    ],
    ids=[
        "unknown-other",
        "themselves",
        "blank-reason",
        "no-reason",
        "one-version",
        "unknown-field",
    ],
)
def test_bad_merges_are_400_by_field_and_save_nothing(api, smith, smyth, body, errors):
    body = {
        key: {"self": smith.pk, "smyth": smyth.pk}.get(value, value)
        if isinstance(value, str)
        else value
        for key, value in body.items()
    }

    response = api.post(merge_url(smith.pk), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not PersonMerge.objects.exists()
    assert not EnquiryEvent.objects.filter(kind="people_merged").exists()


def test_a_record_already_merged_is_not_merged_again(api, smith, smyth):
    api.post(merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json")

    response = api.post(merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["other"]
    assert PersonMerge.objects.count() == 1


def test_an_unknown_person_or_merge_is_404(api, smyth):
    assert api.post(merge_url(999999), {"other": smyth.pk, "reason": REASON}).status_code == 404
    assert api.post(undo_url(999999), {"reason": "Twins."}).status_code == 404


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR])
def test_only_managers_merge_or_undo(make_user, api, smith, smyth, role):
    merged = api.post(merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json")
    client = APIClient()
    client.force_authenticate(make_user(role))

    merge = client.post(merge_url(smyth.pk), {"other": smith.pk, "reason": REASON}, format="json")
    undo = client.post(undo_url(merged.json()["id"]), {"reason": "Twins."}, format="json")
    unknown = client.post(merge_url(999999), {"other": smith.pk, "reason": REASON}, format="json")

    assert (merge.status_code, undo.status_code, unknown.status_code) == (403, 403, 403)
    assert merge.json() == {"detail": "Your role does not allow this."}
    assert PersonMerge.objects.get().undone_at is None


def test_a_manager_undoes_a_merge_once(api, manager, smith, smyth):
    merge_id = api.post(
        merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json"
    ).json()["id"]

    undone = api.post(undo_url(merge_id), {"reason": "Twins, not one child."}, format="json")
    again = api.post(undo_url(merge_id), {"reason": "Twins, not one child."}, format="json")

    assert undone.status_code == 200
    body = undone.json()
    assert (body["undo_reason"], body["undone_by"]["id"]) == ("Twins, not one child.", manager.pk)
    assert body["undone_at"] is not None
    assert body["merged"]["merged_into"] is None
    assert Enquiry.objects.filter(subject=smyth).count() == 1
    assert again.status_code == 400
    assert list(again.json()) == ["merge"]


def test_an_undo_needs_its_reason_and_no_other_field(api, smith, smyth):
    merge_id = api.post(
        merge_url(smith.pk), {"other": smyth.pk, "reason": REASON}, format="json"
    ).json()["id"]

    blank = api.post(undo_url(merge_id), {"reason": ""}, format="json")
    extra = api.post(undo_url(merge_id), {"reason": "Twins.", "force": True}, format="json")

    assert blank.json() == {"reason": ["Say why this merge was wrong."]}
    assert extra.json() == {"force": ["This field is not part of this request."]}
    assert PersonMerge.objects.get().undone_at is None


def test_the_schema_documents_both_endpoints(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()

    merge = schema["paths"]["/api/v1/people/{id}/merge/"]["post"]
    undo = schema["paths"]["/api/v1/people/merges/{id}/undo/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(merge["responses"])
    assert {"200", "400", "403", "404"} <= set(undo["responses"])
