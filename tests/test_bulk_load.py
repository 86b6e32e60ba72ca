"""core.bulk_load: rows read back exactly as written, the schema as it was, and nothing left
behind when a load fails. PostgreSQL only: SQLite has no bulk load."""

import gc
from datetime import UTC, date, datetime, timedelta

import psycopg2
import pytest
from django.db import connection, transaction

from agencies.models import User
from core.bulk_load import (
    BulkLoad,
    bulk_load,
    collector_paused,
    copy_text,
    escape,
    indexes_set_aside,
)
from enquiries.models import Enquiry, FamilyEnquiry, Outcome, Person, ReferrerType
from tests.database import indexes_and_constraints

pytestmark = pytest.mark.django_db

AWKWARD = "tab\there, new\nline, back\\slash, \\N, \r, 'quote' \"double\" ünïcode"
SHORT = "F\t1\\N\n"  # for a reference, at most 32 characters
RECEIVED = datetime(2025, 3, 7, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is PostgreSQL's")


def enquiry_row(pk: int, family_id: int, **values) -> dict:
    return {
        "created_by_id": User.objects.get(username="bulk").pk,
        "id": pk,
        "reference": f"R-{pk}",
        "family_id": family_id,
        "received_at": RECEIVED,
        "referrer_type_id": ReferrerType.objects.get(code="police").pk,
        "allowance_minutes": 240,
        "deadline": RECEIVED,
        "at_risk_from": RECEIVED,
        "breached_from": RECEIVED,
        "categories": ["neglect", AWKWARD],
        "decided_on_time": None,
        "outcome_id": None,
        **values,
    }


def test_rows_read_back_exactly_as_written_and_the_schema_comes_back(make_user):
    make_user(username="bulk")
    before = indexes_and_constraints(FamilyEnquiry, Person, Enquiry)

    with transaction.atomic(), bulk_load(FamilyEnquiry, Person, Enquiry) as load:
        (family_id,) = load.reserve(FamilyEnquiry, 1)
        people = load.reserve(Person, 2)
        load.insert(FamilyEnquiry, [{"id": family_id, "reference": SHORT}])
        load.insert(
            Person,
            [
                {"id": people[0], "first_name": AWKWARD, "date_of_birth": date(2015, 3, 29)},
                {"id": people[1], "first_name": "", "date_of_birth": None},
            ],
        )
        enquiries = load.reserve(Enquiry, 2)
        load.insert(
            Enquiry,
            [
                enquiry_row(enquiries[0], family_id, concern=AWKWARD, subject_id=people[0]),
                enquiry_row(
                    enquiries[1],
                    family_id,
                    concern="",
                    subject_id=None,
                    decided_on_time=True,
                    state="decided",
                    decided_at=RECEIVED,
                    outcome_id=Outcome.objects.first().pk,
                ),
            ],
        )

    assert indexes_and_constraints(FamilyEnquiry, Person, Enquiry) == before
    first, second = Enquiry.objects.filter(pk__in=enquiries).order_by("pk")
    assert first.family.reference == SHORT and first.concern == AWKWARD
    assert first.categories == ["neglect", AWKWARD]
    assert first.subject.first_name == AWKWARD
    assert first.subject.date_of_birth == date(2015, 3, 29)
    assert first.subject.search_name == AWKWARD.lower() + " "  # generated: first, space, last
    assert first.received_at == RECEIVED and first.decided_on_time is None
    assert second.subject is None and second.decided_on_time is True
    assert Person.objects.get(pk=people[1]).date_of_birth is None


def test_ids_reserved_in_a_block_are_never_given_out_again():
    with transaction.atomic():
        load = BulkLoad(FamilyEnquiry)
        block = load.reserve(FamilyEnquiry, 1000)
        load.finish()

    assert len(block) == 1000
    assert FamilyEnquiry.objects.create(reference="after").pk > block[-1]


def test_a_failed_load_leaves_neither_rows_nor_a_changed_indexes_and_constraints():
    FamilyEnquiry.objects.create(reference="kept")
    before = indexes_and_constraints(FamilyEnquiry, Enquiry)

    with pytest.raises(psycopg2.Error, match="value too long"):
        with transaction.atomic(), bulk_load(FamilyEnquiry, Enquiry) as load:
            ids = load.reserve(FamilyEnquiry, 4)
            load.insert(FamilyEnquiry, [{"id": n, "reference": f"F-{n}"} for n in ids[:3]])
            load.insert(FamilyEnquiry, [{"id": ids[3], "reference": "x" * 40}])
            load.wait()

    assert list(FamilyEnquiry.objects.values_list("reference", flat=True)) == ["kept"]
    assert indexes_and_constraints(FamilyEnquiry, Enquiry) == before


def test_a_duplicate_is_caught_when_the_unique_constraint_comes_back():
    FamilyEnquiry.objects.create(reference="twice")

    with pytest.raises(Exception, match="enquiries_familyenquiry_reference_key"):
        with transaction.atomic(), bulk_load(FamilyEnquiry) as load:
            (pk,) = load.reserve(FamilyEnquiry, 1)
            load.insert(FamilyEnquiry, [{"id": pk, "reference": "twice"}])

    assert FamilyEnquiry.objects.filter(reference="twice").count() == 1


def indexes(model) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = CAST(%s AS regclass)",
            [model._meta.db_table],
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_table_said_to_be_loaded_has_its_indexes_back_before_the_others(make_user):
    make_user(username="bulk")
    before = indexes_and_constraints(FamilyEnquiry, Enquiry)
    all_family_indexes, all_enquiry_indexes = indexes(FamilyEnquiry), indexes(Enquiry)

    with transaction.atomic(), bulk_load(FamilyEnquiry, Enquiry) as load:
        (family_id,) = load.reserve(FamilyEnquiry, 1)
        enquiry_ids = load.reserve(Enquiry, 2)
        rows = [enquiry_row(pk, family_id) for pk in enquiry_ids]  # queries: not once loading
        load.insert(FamilyEnquiry, [{"id": family_id, "reference": "F-1"}])
        load.loaded(FamilyEnquiry)
        load.insert(Enquiry, rows)
        load.wait()
        family_indexes_meanwhile = indexes(FamilyEnquiry)
        enquiry_indexes_meanwhile = indexes(Enquiry)

    assert family_indexes_meanwhile == all_family_indexes
    set_aside = {"enquiries_enquiry_deadline_49ec2960", "enquiries_enquiry_reference_key"}
    assert set_aside <= all_enquiry_indexes
    assert not set_aside & enquiry_indexes_meanwhile
    assert indexes_and_constraints(FamilyEnquiry, Enquiry) == before
    assert Enquiry.objects.filter(family__reference="F-1").count() == 2


def test_a_duplicate_in_a_table_said_to_be_loaded_is_caught_then():
    FamilyEnquiry.objects.create(reference="twice")

    with pytest.raises(Exception, match="enquiries_familyenquiry_reference_key"):
        with transaction.atomic(), bulk_load(FamilyEnquiry, Enquiry) as load:
            (pk,) = load.reserve(FamilyEnquiry, 1)
            load.insert(FamilyEnquiry, [{"id": pk, "reference": "twice"}])
            load.loaded(FamilyEnquiry)
            load.wait()

    assert FamilyEnquiry.objects.filter(reference="twice").count() == 1


def test_rows_larger_than_the_queue_all_arrive(monkeypatch):
    # given a queue that holds less than one chunk of COPY text
    monkeypatch.setattr("core.bulk_load.QUEUED_BYTES", 64)

    # when many chunks are queued
    with transaction.atomic(), bulk_load(FamilyEnquiry) as load:
        ids = load.reserve(FamilyEnquiry, 300)
        for start in range(0, 300, 30):
            load.insert(FamilyEnquiry, [{"id": n, "reference": f"F-{n}"} for n in ids[start:][:30]])

    # then every one is stored
    assert FamilyEnquiry.objects.filter(pk__in=ids).count() == 300


def test_values_a_column_has_seen_before_are_written_the_same_past_what_it_remembers(
    make_user, monkeypatch
):
    # given columns that remember the COPY text of two values at most
    monkeypatch.setattr("core.bulk_load.REMEMBERED", 2)
    make_user(username="bulk")
    # 1, 1.0 and True are equal as dict keys; their JSON is not
    categories = [[1], [1.0], [True], ["1"], [AWKWARD], [{"nested": AWKWARD}], [1], [True]]
    concerns = [AWKWARD, "", "plain", AWKWARD, "plain", "", AWKWARD, "plain"]
    moments = [RECEIVED + timedelta(minutes=n % 3) for n in range(len(concerns))]

    # when each is loaded again after others have taken its place
    with transaction.atomic(), bulk_load(FamilyEnquiry, Enquiry) as load:
        (family_id,) = load.reserve(FamilyEnquiry, 1)
        ids = load.reserve(Enquiry, len(concerns))
        rows = [
            enquiry_row(pk, family_id, categories=category, concern=concern, escalated_at=moment)
            for pk, category, concern, moment in zip(
                ids, categories, concerns, moments, strict=True
            )
        ]
        load.insert(FamilyEnquiry, [{"id": family_id, "reference": "F-1"}])
        load.insert(Enquiry, rows)

    # then every row reads back as written
    stored = Enquiry.objects.filter(pk__in=ids).order_by("pk")
    assert [row.categories for row in stored] == categories
    assert [type(row.categories[0]) for row in stored] == [type(c[0]) for c in categories]
    assert [row.concern for row in stored] == concerns
    assert [row.escalated_at for row in stored] == moments


def test_a_text_column_given_equal_values_of_other_types_writes_each_as_itself():
    convert = copy_text(Enquiry._meta.get_field("concern"))

    assert [convert(value) for value in (1, True, 1.0, "1", None, 1)] == [
        "1",
        "True",
        "1.0",
        "1",
        "\\N",
        "1",
    ]


def test_the_garbage_collector_is_paused_while_loading_and_as_it_was_after():
    seen = []
    with transaction.atomic(), bulk_load(FamilyEnquiry) as load:
        seen.append(gc.isenabled())
        load.insert(FamilyEnquiry, [{"id": load.reserve(FamilyEnquiry, 1)[0], "reference": "F"}])
    with pytest.raises(RuntimeError), collector_paused():
        seen.append(gc.isenabled())
        raise RuntimeError("part way")
    seen.append(gc.isenabled())
    gc.disable()
    try:
        with collector_paused():
            pass
        seen.append(gc.isenabled())
    finally:
        gc.enable()

    assert seen == [False, False, True, False]


def test_escape_gives_copy_text():
    assert escape(AWKWARD) == (
        "tab\\there, new\\nline, back\\\\slash, \\\\N, \\r, 'quote' \"double\" ünïcode"
    )


def test_indexes_set_aside_keep_what_is_asked_and_come_back_even_after_an_error():
    before = indexes_and_constraints(FamilyEnquiry, Enquiry)

    with pytest.raises(RuntimeError, match="part way"):
        with indexes_set_aside(Enquiry._meta.db_table, unique=False):
            meanwhile = indexes_and_constraints(Enquiry)
            raise RuntimeError("part way")

    names = {name for name, _ in meanwhile}
    assert "enquiries_enquiry_pkey" in names
    assert "enquiries_enquiry_reference_key" in names  # unique: kept
    assert "enquiry_open_queue" in names  # partial: kept
    assert not {name for name in names if name.endswith("_fk_agencies_user_id")}
    assert "enquiries_enquiry_deadline_49ec2960" not in names
    assert indexes_and_constraints(FamilyEnquiry, Enquiry) == before
