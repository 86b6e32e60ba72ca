"""The merge pages: finding the other record, comparing, merging with a reason, undoing."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import services
from enquiries.merging import people_merge
from enquiries.models import Enquiry, EnquiryEvent, Person, PersonMerge, ReferrerType

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
REASON = "Same child: the GP spelt the surname differently."


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def intake(actor, subject):
    return services.enquiry_intake(
        actor=actor,
        received_at=timezone.now() - timedelta(hours=1),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[subject],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Arrived at school hungry.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )[0]


@pytest.fixture
def smith(manager):
    amy = Person.objects.create(first_name="Amy", last_name="Smith", date_of_birth=date(2018, 5, 1))
    intake(manager, amy)
    return amy


@pytest.fixture
def smyth(manager):
    amy = Person.objects.create(
        first_name="Amy", last_name="Smyth", date_of_birth=date(2018, 5, 1), nhs_number="9434765919"
    )
    intake(manager, amy)
    intake(manager, amy)
    return amy


def merge_url(person, **query):
    url = reverse("person-merge", args=[person.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def looked_at(user, action=Log.VIEW_PERSON):
    return sorted(
        AccessLogEntry.objects.filter(user=user, action=action).values_list("person_id", flat=True)
    )


def test_the_merge_page_offers_the_records_that_may_be_the_same_person(
    signed_in, manager, smith, smyth
):
    response = signed_in.get(merge_url(smith))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Merge another record into Amy Smith's" in html
    matches = response.context["matches"]
    assert [(match.person, match.reasons) for match in matches] == [
        (smyth, ("Similar name (54% alike)", "Same date of birth"))
    ]
    assert f'href="?other={smyth.pk}"' in html
    # The search starts from this person's own details.
    assert 'name="date_of_birth" value="2018-05-01"' in html
    assert looked_at(manager) == [smith.pk]
    search = AccessLogEntry.objects.get(user=manager, action=Log.SEARCH)
    assert (search.person_id, search.terms) == (smyth.pk, "name: Amy Smith; born: 2018-05-01")
    assert search.reason == "Merging two records of a person as Manager"


def test_the_register_is_searched_by_what_the_manager_types(signed_in, smith, smyth):
    older = Person.objects.create(first_name="Amy", last_name="Smithe", approximate_age=30)

    response = signed_in.get(
        merge_url(smith, first_name="Amy", last_name="Smithe", approximate_age="30")
    )

    assert [match.person for match in response.context["matches"]] == [older]


def test_choosing_the_other_record_shows_both_side_by_side(signed_in, manager, smith, smyth):
    response = signed_in.get(merge_url(smith, other=smyth.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Keep: Amy Smith" in html
    assert "Merge in: Amy Smyth" in html
    assert "Named in 1 enquiry" in html
    assert "Named in 2 enquiries" in html
    form = response.context["form"]
    assert form.initial == {"other": smyth.pk, "survivor_version": 1, "other_version": 1}
    assert looked_at(manager) == sorted([smith.pk, smyth.pk])


@pytest.mark.parametrize(
    ("other", "error"),
    [
        ("self", "That is this record: give the id of the other one."),
        ("999999", "No one in the register has that id."),
        ("", "Give the id of the other record."),
    ],
)
def test_a_wrong_choice_of_other_record_is_refused_on_its_field(signed_in, smith, other, error):
    response = signed_in.get(merge_url(smith, other=smith.pk if other == "self" else other))

    assert response.status_code == 200
    assert response.context["choose"].errors == {"other": [error]}
    assert "other" not in response.context


def test_merging_with_a_reason_moves_the_enquiries_and_goes_to_the_survivor(
    signed_in, manager, smith, smyth
):
    response = signed_in.post(
        merge_url(smith),
        {"other": smyth.pk, "survivor_version": 1, "other_version": 1, "reason": REASON},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("person-detail", args=[smith.pk])
    merge = PersonMerge.objects.get()
    assert (merge.survivor, merge.merged, merge.merged_by, merge.reason) == (
        smith,
        smyth,
        manager,
        REASON,
    )
    assert Enquiry.objects.filter(subject=smith).count() == 3
    assert EnquiryEvent.objects.filter(kind=EnquiryEvent.Kind.PEOPLE_MERGED).count() == 2


def test_a_merge_without_a_reason_is_refused_and_keeps_the_comparison(signed_in, smith, smyth):
    response = signed_in.post(
        merge_url(smith), {"other": smyth.pk, "survivor_version": 1, "other_version": 1}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Say why these are the same person."]}
    assert response.context["other"] == smyth
    assert not PersonMerge.objects.exists()


def test_a_merge_of_records_changed_since_is_refused_with_what_changed(signed_in, smith, smyth):
    Person.objects.filter(pk=smyth.pk).update(version=2)

    response = signed_in.post(
        merge_url(smith),
        {"other": smyth.pk, "survivor_version": 1, "other_version": 1, "reason": REASON},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="stale-edit"' in html
    assert "version 1 when you read it, now 2" in html
    # Saving again is a deliberate choice against the versions now shown.
    assert response.context["form"].data["other_version"] == "2"
    assert not PersonMerge.objects.exists()


def test_a_service_refusal_is_shown_on_the_page(signed_in, manager, smith, smyth):
    people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)

    response = signed_in.post(
        merge_url(smyth),
        {"other": smith.pk, "survivor_version": 2, "other_version": 2, "reason": REASON},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Amy Smyth (id {smyth.pk}) was already merged into person id {smith.pk}: merge with "
        "that person, or undo that merge first."
    ]
    assert PersonMerge.objects.count() == 1


def test_merging_in_a_record_already_merged_says_so_at_the_top(signed_in, manager, smith, smyth):
    people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    third = Person.objects.create(first_name="Amy", last_name="Smithson")

    response = signed_in.post(
        merge_url(third),
        {"other": smyth.pk, "survivor_version": 1, "other_version": 2, "reason": REASON},
    )

    message = (
        f"Amy Smyth (id {smyth.pk}) was already merged into person id {smith.pk}: merge with "
        "that person, or undo that merge first."
    )
    assert response.context["form"].non_field_errors() == [message]
    assert 'data-testid="merged"' in response.content.decode()


def test_the_undo_page_shows_what_moved_and_undoes_with_a_reason(signed_in, manager, smith, smyth):
    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    url = reverse("person-merge-undo", args=[merge.pk])

    page = signed_in.get(url)
    refused = signed_in.post(url, {"reason": ""})
    done = signed_in.post(url, {"reason": "Twins, not one child."})

    assert page.status_code == 200
    assert page.context["moved"] == [
        "2 parts in enquiries moved to Amy Smith",
        "Amy Smyth added as a name of Amy Smith",
        "Copied to Amy Smith, who had none: nhs number",
    ]
    assert len(page.context["references"]) == 2
    assert looked_at(manager) == sorted([smith.pk, smyth.pk, smith.pk, smyth.pk])
    assert refused.context["form"].errors == {"reason": ["Say why this merge was wrong."]}
    assert done.status_code == 302
    assert done["Location"] == reverse("person-detail", args=[smith.pk])
    merge.refresh_from_db()
    assert (merge.undone_by, merge.undo_reason) == (manager, "Twins, not one child.")
    assert Enquiry.objects.filter(subject=smyth).count() == 2
    again = signed_in.get(url)
    assert 'data-testid="merge-undone"' in again.content.decode()
    assert 'data-testid="undo-form"' not in again.content.decode()


def test_an_undo_the_service_refuses_is_explained_on_the_page(signed_in, manager, smith, smyth):
    first = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    third = Person.objects.create(first_name="Amy", last_name="Smithson")
    people_merge(survivor=third, merged=smith, actor=manager, reason=REASON)

    response = signed_in.post(reverse("person-merge-undo", args=[first.pk]), {"reason": "Twins."})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Amy Smith (id {smith.pk}) has since been merged into person id {third.pk}: undo that "
        "merge first."
    ]


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PRACTITIONER, Role.ANALYST])
def test_only_managers_open_the_merge_pages(client, make_user, manager, smith, smyth, role):
    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    client.force_login(make_user(role))

    for url in (merge_url(smith), reverse("person-merge-undo", args=[merge.pk])):
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": "x"}).status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_unknown_people_and_merges_are_not_found(signed_in):
    assert signed_in.get(reverse("person-merge", args=[999999])).status_code == 404
    assert signed_in.get(reverse("person-merge-undo", args=[999999])).status_code == 404
