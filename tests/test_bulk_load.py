"""core.bulk_load: rows read back exactly as written, the schema as it was, and nothing left
behind when a load fails. PostgreSQL only: SQLite has no bulk load."""

from datetime import UTC, date, datetime

import psycopg2
import pytest
from django.db import connection, transaction

from agencies.models import User
from core.bulk_load import BulkLoad, bulk_load
from enquiries.models import Enquiry, FamilyEnquiry, Outcome, Person, ReferrerType

pytestmark = pytest.mark.django_db

AWKWARD = "tab\there, new\nline, back\\slash, \\N, \r, 'quote' \"double\" ünïcode"
SHORT = "F\t1\\N\n"  # for a reference, at most 32 characters
RECEIVED = datetime(2025, 3, 7, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is PostgreSQL's")


def schema(*models) -> list[tuple]:
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(CAST(%s AS regclass[])) "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(CAST(%s AS regclass[])) ORDER BY 1, 2",
            [tables, tables],
        )
        return cursor.fetchall()


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
    before = schema(FamilyEnquiry, Person, Enquiry)

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

    assert schema(FamilyEnquiry, Person, Enquiry) == before
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


def test_a_failed_load_leaves_neither_rows_nor_a_changed_schema():
    FamilyEnquiry.objects.create(reference="kept")
    before = schema(FamilyEnquiry, Enquiry)

    with pytest.raises(psycopg2.Error, match="value too long"):
        with transaction.atomic(), bulk_load(FamilyEnquiry, Enquiry) as load:
            ids = load.reserve(FamilyEnquiry, 4)
            load.insert(FamilyEnquiry, [{"id": n, "reference": f"F-{n}"} for n in ids[:3]])
            load.insert(FamilyEnquiry, [{"id": ids[3], "reference": "x" * 40}])
            load.wait()

    assert list(FamilyEnquiry.objects.values_list("reference", flat=True)) == ["kept"]
    assert schema(FamilyEnquiry, Enquiry) == before


def test_a_duplicate_is_caught_when_the_unique_constraint_comes_back():
    FamilyEnquiry.objects.create(reference="twice")

    with pytest.raises(Exception, match="enquiries_familyenquiry_reference_key"):
        with transaction.atomic(), bulk_load(FamilyEnquiry) as load:
            (pk,) = load.reserve(FamilyEnquiry, 1)
            load.insert(FamilyEnquiry, [{"id": pk, "reference": "twice"}])

    assert FamilyEnquiry.objects.filter(reference="twice").count() == 1
