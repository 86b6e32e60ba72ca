"""Merging two register entries found to be one person, and undoing it exactly."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agencies.models import Role
from enquiries import merging, services
from enquiries.merging import StalePeople, merge_undo, merges_of, people_merge
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    EnquiryPerson,
    Person,
    PersonAlias,
    PersonMerge,
    ReferrerType,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=LONDON)
Kind = EnquiryEvent.Kind
Part = EnquiryPerson.Role
REASON = "Same child: the school and the GP spelt the surname differently."


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")


def intake(actor, subject, *, others=()):
    (enquiry,) = services.enquiry_intake(
        actor=actor,
        received_at=NOW - timedelta(days=1),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[subject],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Arrived at school hungry.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
        others=others,
        now=NOW,
    )
    return enquiry


def person(first, last, **fields):
    return Person.objects.create(first_name=first, last_name=last, **fields)


@pytest.fixture
def two_amys(researcher):
    """Amy Smith, known to the hub, and Amy Smyth, added again by mistake: each the subject of
    an enquiry; Smyth also a sibling in a third, and both named as household members in a
    fourth (the double a merge must not make)."""
    smith = person("Amy", "Smith", address="1 High Street")
    smyth = person(
        "Amy", "Smyth", date_of_birth=date(2018, 5, 1), nhs_number="9434765919", address="Flat 2"
    )
    PersonAlias.objects.create(person=smyth, first_name="Ames", last_name="Smyth")
    jo = person("Jo", "Smith")
    return {
        "smith": smith,
        "smyth": smyth,
        "about_smith": intake(researcher, smith),
        "about_smyth": intake(researcher, smyth),
        "smyth_as_parent": intake(researcher, jo, others=[(smyth, Part.PARENT_CARER)]),
        "both": intake(
            researcher,
            person("Ben", "Smith"),
            others=[(smith, Part.HOUSEHOLD_MEMBER), (smyth, Part.HOUSEHOLD_MEMBER)],
        ),
    }


def register_state():
    """Everything a merge may touch, to compare before and after an undo."""
    return {
        "parts": set(EnquiryPerson.objects.values_list("pk", "enquiry_id", "person_id", "role")),
        "subjects": dict(Enquiry.objects.values_list("pk", "subject_id")),
        "aliases": set(
            PersonAlias.objects.values_list("pk", "person_id", "kind", "first_name", "last_name")
        ),
        "people": set(
            Person.objects.values_list(
                "pk", "date_of_birth", "approximate_age", "nhs_number", "address", "merged_into"
            )
        ),
    }


def parts(enquiry):
    return sorted((str(link.person), link.role) for link in enquiry.involvements.all())


def test_a_merge_moves_parts_subjects_and_names_to_the_survivor(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]

    merge = people_merge(
        survivor=smith, merged=smyth, actor=manager, reason=REASON, expected_versions=(1, 1)
    )

    about_smyth = Enquiry.objects.get(pk=two_amys["about_smyth"].pk)
    assert about_smyth.subject == smith
    assert parts(about_smyth) == [("Amy Smith", "subject")]
    assert parts(two_amys["smyth_as_parent"]) == [
        ("Amy Smith", "parent_carer"),
        ("Jo Smith", "subject"),
    ]
    # Both were household members of the fourth: one part stays, not two.
    assert parts(two_amys["both"]) == [("Amy Smith", "household_member"), ("Ben Smith", "subject")]
    assert not EnquiryPerson.objects.filter(person=smyth).exists()
    assert sorted(
        (alias.kind, str(alias)) for alias in PersonAlias.objects.filter(person=smith)
    ) == [("alias", "Ames Smyth"), ("merged", "Amy Smyth")]
    smith.refresh_from_db()
    smyth.refresh_from_db()
    # What Smith lacked comes from Smyth; what Smith had stays.
    assert (smith.date_of_birth, smith.nhs_number, smith.address) == (
        date(2018, 5, 1),
        "9434765919",
        "1 High Street",
    )
    assert smyth.merged_into == smith
    assert (smith.version, smyth.version) == (2, 2)
    assert (merge.survivor, merge.merged, merge.merged_by, merge.reason) == (
        smith,
        smyth,
        manager,
        REASON,
    )
    assert merge.moved["details"] == {"date_of_birth": "2018-05-01", "nhs_number": "9434765919"}


def test_every_enquiry_touched_has_the_merge_in_its_history(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]

    people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON, expected_versions=None)

    events = EnquiryEvent.objects.filter(kind=Kind.PEOPLE_MERGED).order_by("enquiry_id")
    assert [event.enquiry_id for event in events] == [
        two_amys[name].pk for name in ("about_smyth", "smyth_as_parent", "both")
    ]
    smyth_id, smith_id = f"Amy Smyth (id {smyth.pk})", f"Amy Smith (id {smith.pk})"
    assert [event.changes for event in events] == [
        [["Subject", smyth_id, smith_id]],
        [["Parent or carer", smyth_id, smith_id]],
        [["Household member", smyth_id, f"{smith_id}, already named"]],
    ]
    for event in events:
        assert (event.person, event.actor, event.rationale) == (smith, manager, REASON)
        assert (event.from_value, event.to_value) == (smyth_id, smith_id)
        assert event.version == event.enquiry.version == 2
    # Smith's own enquiry did not change.
    assert Enquiry.objects.get(pk=two_amys["about_smith"].pk).version == 1


def test_the_merge_is_in_the_history_of_both_people_newest_first(two_amys, manager, researcher):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    earlier = people_merge(
        survivor=smith, merged=smyth, actor=manager, reason=REASON, now=NOW - timedelta(hours=2)
    )
    merge_undo(merge=earlier, actor=manager, reason="Twins, not one child.", now=NOW)
    later = people_merge(
        survivor=smyth, merged=smith, actor=manager, reason=REASON, now=NOW + timedelta(hours=1)
    )

    assert list(merges_of(smith)) == [later, earlier]
    assert list(merges_of(smyth)) == [later, earlier]
    assert list(merges_of(two_amys["both"].subject)) == []


def test_undoing_a_merge_puts_everything_back_exactly(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    before = register_state()
    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)

    undone = merge_undo(merge=merge, actor=manager, reason="Twins, not one child.", now=NOW)

    # The household part the merge deleted as a double is back, under its own id.
    assert register_state() == before
    assert (undone.undone_at, undone.undone_by, undone.undo_reason) == (
        NOW,
        manager,
        "Twins, not one child.",
    )
    smith.refresh_from_db()
    smyth.refresh_from_db()
    assert (smith.version, smyth.version) == (3, 3)
    events = EnquiryEvent.objects.filter(kind=Kind.MERGE_UNDONE).order_by("enquiry_id")
    assert [(event.enquiry_id, event.version) for event in events] == [
        (two_amys[name].pk, 3) for name in ("about_smyth", "smyth_as_parent", "both")
    ]
    smyth_id, smith_id = f"Amy Smyth (id {smyth.pk})", f"Amy Smith (id {smith.pk})"
    assert [event.changes for event in events] == [
        [["Subject", smith_id, smyth_id]],
        [["Parent or carer", smith_id, smyth_id]],
        [["Household member", f"{smith_id} only", f"also {smyth_id}"]],
    ]


def test_an_undone_merge_can_be_made_again(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    merge_undo(
        merge=people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON),
        actor=manager,
        reason="Wrong way round.",
    )

    people_merge(survivor=smyth, merged=smith, actor=manager, reason=REASON)

    assert Enquiry.objects.get(pk=two_amys["about_smith"].pk).subject == smyth


def test_a_person_with_the_same_name_gets_no_merged_name(manager):
    kept, twin = person("Amy", "Smith"), person("amy", "SMITH ", approximate_age=8)

    merge = people_merge(survivor=kept, merged=twin, actor=manager, reason=REASON)

    assert not PersonAlias.objects.exists()
    assert merge.moved["merged_alias"] is None
    kept.refresh_from_db()
    assert kept.approximate_age == 8


# Refusals: each saves nothing.


@pytest.fixture
def unchanged(two_amys):
    """Asserts, after the test, that the register is as the fixture made it."""
    before = register_state()
    yield two_amys
    assert register_state() == before
    assert not PersonMerge.objects.exists()
    assert not EnquiryEvent.objects.filter(kind=Kind.PEOPLE_MERGED).exists()


def test_a_person_cannot_be_merged_with_themselves(unchanged, manager):
    smith = unchanged["smith"]

    with pytest.raises(ValidationError) as refused:
        people_merge(survivor=smith, merged=smith, actor=manager, reason=REASON)

    assert refused.value.message_dict == {"other": ["A person cannot be merged with themselves."]}


def test_only_a_manager_merges(unchanged, researcher):
    with pytest.raises(PermissionDenied, match="Your role does not allow this."):
        people_merge(
            survivor=unchanged["smith"], merged=unchanged["smyth"], actor=researcher, reason=REASON
        )


def test_a_merge_needs_its_reason(unchanged, manager):
    with pytest.raises(ValidationError) as refused:
        people_merge(
            survivor=unchanged["smith"], merged=unchanged["smyth"], actor=manager, reason=" "
        )

    assert refused.value.message_dict == {"reason": ["Say why these are the same person."]}


def test_a_merge_read_at_an_old_version_is_refused_with_what_changed(unchanged, manager):
    smith, smyth = unchanged["smith"], unchanged["smyth"]
    Person.objects.filter(pk=smyth.pk).update(version=4)

    with pytest.raises(StalePeople) as refused:
        people_merge(
            survivor=smith, merged=smyth, actor=manager, reason=REASON, expected_versions=(1, 3)
        )

    assert refused.value.status == 409
    assert refused.value.details() == {
        "changes": [f"Amy Smyth (id {smyth.pk}) was changed (version 3 when you read it, now 4)"],
        "current_versions": [1, 4],
    }


def test_nothing_is_half_saved_when_a_merge_fails_midway(unchanged, manager, monkeypatch):
    def history_fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(merging, "_record_on", history_fails)

    with pytest.raises(RuntimeError):
        people_merge(
            survivor=unchanged["smith"], merged=unchanged["smyth"], actor=manager, reason=REASON
        )


@pytest.mark.parametrize("side", ["survivor", "other"])
def test_people_already_merged_are_not_merged_again(two_amys, manager, side):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    ben = two_amys["both"].subject
    people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    smyth.refresh_from_db()
    before = register_state()

    with pytest.raises(ValidationError) as refused:
        if side == "survivor":
            people_merge(survivor=smyth, merged=ben, actor=manager, reason=REASON)
        else:
            people_merge(survivor=ben, merged=smyth, actor=manager, reason=REASON)

    assert refused.value.message_dict == {
        side: [
            f"Amy Smyth (id {smyth.pk}) was already merged into person id {smith.pk}: merge "
            "with that person, or undo that merge first."
        ]
    }
    assert register_state() == before


def test_a_merge_is_undone_once(two_amys, manager):
    merge = people_merge(
        survivor=two_amys["smith"], merged=two_amys["smyth"], actor=manager, reason=REASON
    )
    merge_undo(merge=merge, actor=manager, reason="Twins.", now=NOW)

    with pytest.raises(ValidationError) as refused:
        merge_undo(merge=merge, actor=manager, reason="Twins.")

    assert refused.value.message_dict == {
        "merge": ["This merge was already undone on 01 Apr 2026."]
    }
    assert EnquiryEvent.objects.filter(kind=Kind.MERGE_UNDONE).count() == 3


def test_only_a_manager_undoes_a_merge_and_says_why(two_amys, manager, researcher):
    merge = people_merge(
        survivor=two_amys["smith"], merged=two_amys["smyth"], actor=manager, reason=REASON
    )

    with pytest.raises(PermissionDenied):
        merge_undo(merge=merge, actor=researcher, reason="Twins.")
    with pytest.raises(ValidationError) as refused:
        merge_undo(merge=merge, actor=manager, reason="")

    assert refused.value.message_dict == {"reason": ["Say why this merge was wrong."]}
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_a_merge_whose_survivor_was_merged_since_waits_for_that_undo(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    ben = two_amys["both"].subject
    before = register_state()
    first = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    later = people_merge(survivor=ben, merged=smith, actor=manager, reason="Mixed up again.")
    after_both = register_state()

    with pytest.raises(ValidationError) as refused:
        merge_undo(merge=first, actor=manager, reason="Twins.")

    assert refused.value.message_dict == {
        "merge": [
            f"Amy Smith (id {smith.pk}) has since been merged into person id {ben.pk}: undo "
            "that merge first."
        ]
    }
    assert register_state() == after_both
    # Undone newest first, both come back exactly.
    merge_undo(merge=later, actor=manager, reason="Not Ben.")
    merge_undo(merge=first, actor=manager, reason="Twins.")
    assert register_state() == before


def test_an_undo_is_refused_when_a_moved_part_was_removed_since(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    EnquiryPerson.objects.filter(enquiry=two_amys["smyth_as_parent"], person=smith).delete()
    before = register_state()

    with pytest.raises(ValidationError) as refused:
        merge_undo(merge=merge, actor=manager, reason="Twins.")

    assert refused.value.message_dict == {
        "merge": [
            "This merge cannot be undone exactly, because since it a part moved to Amy Smith "
            "has since been removed from its enquiry. Put those back first, or correct the "
            "people by hand."
        ]
    }
    assert register_state() == before
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_an_undo_is_refused_when_a_copied_detail_was_corrected_since(two_amys, manager):
    smith, smyth = two_amys["smith"], two_amys["smyth"]
    merge = people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)
    Person.objects.filter(pk=smith.pk).update(date_of_birth=date(2018, 5, 2))

    with pytest.raises(ValidationError) as refused:
        merge_undo(merge=merge, actor=manager, reason="Twins.")

    assert (
        "Amy Smith's date of birth has been corrected since (from 2018-05-01 to 2018-05-02)"
        in (refused.value.message_dict["merge"][0])
    )


def test_the_change_log_has_each_part_moved_and_removed(two_amys, manager):
    from auditlog.models import LogEntry

    smith, smyth = two_amys["smith"], two_amys["smyth"]
    moved = EnquiryPerson.objects.get(enquiry=two_amys["smyth_as_parent"], person=smyth)
    doubled = EnquiryPerson.objects.get(enquiry=two_amys["both"], person=smyth)

    people_merge(survivor=smith, merged=smyth, actor=manager, reason=REASON)

    update = LogEntry.objects.get_for_object(moved).get(action=LogEntry.Action.UPDATE)
    assert update.changes_dict["person"] == [str(smyth.pk), str(smith.pk)]
    assert LogEntry.objects.get_for_object(doubled).filter(action=LogEntry.Action.DELETE).exists()
    about_smyth = LogEntry.objects.get_for_object(two_amys["about_smyth"])
    assert about_smyth.get(action=LogEntry.Action.UPDATE).changes_dict["subject"] == [
        str(smyth.pk),
        str(smith.pk),
    ]


def test_a_merged_record_cannot_be_named_again(two_amys, manager, researcher):
    """The register offers the survivor, not the record merged into them: naming the old
    record by its id at intake is refused, field by field."""
    from rest_framework.test import APIClient

    from enquiries.selectors import person_register

    merged = two_amys["smyth"]
    people_merge(survivor=two_amys["smith"], merged=merged, actor=manager, reason="The same Amy.")
    api = APIClient()
    api.force_authenticate(researcher)

    response = api.post(
        "/api/v1/enquiries/",
        {
            "received_at": "2026-03-02T10:00:00+00:00",
            "referrer_name": "Ms Head",
            "referrer_type": "school",
            "subject_type": "child",
            "subjects": [{"id": merged.pk}],
            "concern": "Bruising.",
            "categories": ["physical_abuse"],
            "consent": "yes",
        },
        format="json",
    )

    assert not person_register().filter(pk=merged.pk).exists()
    assert response.status_code == 400
    assert "subjects" in response.json()
