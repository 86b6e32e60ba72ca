"""A large file on PostgreSQL is checked and bulk loaded in one reading (core.bulk_load):
the same rows as the checked-first load, the same problems, nothing left behind on error,
and the tables' indexes and constraints exactly as they were."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from agencies.models import Agency
from enquiries import importing
from enquiries.importing import BadFile, import_enquiries
from enquiries.models import Enquiry, EnquiryEvent, FamilyEnquiry, ReferenceCounter
from tests.database import indexes_and_constraints

from .test_import import GOOD, HEADER, NOW, write

pytestmark = pytest.mark.django_db

OUTCOMES = ["nfa", "advice", "early_help", "strategy_discussion"]
REFERRERS = ["police", "school", "gp", "health_visitor", "anonymous"]


@pytest.fixture(autouse=True)
def on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is PostgreSQL's (SQLite loads through core.bulk)")
    Agency.objects.create(name="Children's Social Care", kind="childrens_social_care")


def many_rows(count: int, *, seed: int = 7) -> list[str]:
    """Enquiries in the app's reference pattern over 2025: families of one to three, every
    rating, some open, a reference with a backslash and one with a comma."""
    rng = random.Random(seed)  # noqa: S311 - test data
    rows, number, when = [], 0, datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    while len(rows) < count:
        when += timedelta(minutes=rng.randint(30, 600))
        family = f"MASH-F-2025-{number + 1:06d}"
        for _ in range(rng.choice([1, 1, 2, 3])):
            number += 1
            rag = rng.choice(["red", "amber", "green", ""])
            decided = ""
            outcome = ""
            if rng.random() < 0.8:
                decided = (when + timedelta(minutes=rng.randint(10, 9000))).isoformat()
                outcome = rng.choice(OUTCOMES)
            referrer = rng.choice(REFERRERS)
            rows.append(
                f"MASH-2025-{number:06d},{family},{when.isoformat()},{rag},{decided},"
                f"{outcome},{referrer}"
            )
    return [*rows[:count], 'B\\1,"F,1",2025-06-02T09:00+01:00,red,,,police']


def stored() -> dict[str, list]:
    """Every row the import writes, by what it means rather than by its ids."""
    enquiries = {
        row.pop("reference"): row
        for row in Enquiry.objects.values(
            *(
                field.attname
                for field in Enquiry._meta.concrete_fields
                if field.attname not in {"id", "family_id", "created_at", "updated_at"}
                and not field.attname.endswith("_by_id")
            ),
            "family__reference",
            "created_by__username",
            "decided_by__username",
        )
    }
    events = sorted(
        EnquiryEvent.objects.values_list(
            "enquiry__reference",
            "version",
            "kind",
            "at",
            "actor__username",
            "from_value",
            "to_value",
        )
    )
    return {
        "enquiries": sorted(enquiries.items()),
        "events": events,
        "families": sorted(FamilyEnquiry.objects.values_list("reference", flat=True)),
        "counters": sorted(ReferenceCounter.objects.values_list("year", "last_number")),
    }


def schema() -> list[tuple]:
    """The import's tables' indexes and constraints, by name and definition."""
    return indexes_and_constraints(Enquiry, EnquiryEvent, FamilyEnquiry)


def load_both_ways(path: Path) -> tuple[dict, dict]:
    loaded = {}
    for bulk in (False, True):
        with transaction.atomic():
            result = import_enquiries(path, now=NOW, bulk=bulk)
            assert result.rows == len(path.read_text().splitlines()) - 1
            loaded[bulk] = stored()
            transaction.set_rollback(True)
    return loaded[False], loaded[True]


def test_the_bulk_load_stores_the_same_rows_as_checking_first(tmp_path):
    path = write(tmp_path, *GOOD, *many_rows(600))

    checked_first, bulk_loaded = load_both_ways(path)

    assert bulk_loaded == checked_first
    assert len(bulk_loaded["enquiries"]) == 607
    assert dict(bulk_loaded["enquiries"])["B\\1"]["family__reference"] == "F,1"
    assert bulk_loaded["counters"] == [(2025, 600)]


def test_the_bulk_load_leaves_the_indexes_and_constraints_as_they_were(tmp_path):
    before = schema()

    import_enquiries(write(tmp_path, *many_rows(200)), now=NOW, bulk=True)

    assert schema() == before
    assert Enquiry.objects.count() == 201
    with pytest.raises(IntegrityError, match="enquiries_familyenquiry_reference_key"):
        with transaction.atomic():
            FamilyEnquiry.objects.create(reference="MASH-F-2025-000001")


def test_a_bad_row_near_the_end_is_named_and_the_tables_stay_as_they_were(tmp_path):
    import_enquiries(write(tmp_path, *GOOD), now=NOW, bulk=False)
    before, indexes = stored(), schema()
    rows = many_rows(300)
    rows[-2] = rows[-2].replace("+00:00", "", 1)  # no UTC offset on the second-last line

    with pytest.raises(BadFile) as raised:
        import_enquiries(write(tmp_path, *rows), now=NOW, bulk=True)

    assert [str(problem) for problem in raised.value.problems] == [
        f"line {len(rows)}, received_at: no UTC offset ({rows[-2].split(',')[2]}); "
        "write it as in 2025-03-02T10:00+00:00"
    ]
    assert stored() == before
    assert schema() == indexes


def test_references_already_stored_are_refused_as_when_checking_first(tmp_path):
    path = write(tmp_path, *GOOD)
    import_enquiries(path, now=NOW, bulk=True)
    before = stored()

    for bulk in (False, True):
        with pytest.raises(BadFile) as raised:
            import_enquiries(path, now=NOW, bulk=bulk)
        assert raised.value.summary == "6 bad rows (12 problems); nothing was loaded."
        assert (
            str(raised.value.problems[0]) == "line 2, reference: OLD-1 is already in the database"
        )
    assert stored() == before


def test_after_the_first_problem_every_later_one_is_still_found_as_when_checking_first(
    tmp_path,
):
    FamilyEnquiry.objects.create(reference="MASH-F-2025-000290")
    rows = many_rows(300)
    rows[5] = rows[5].replace("MASH-2025-", "MASH-2025-\x01", 1)  # a control character
    path = write(tmp_path, *rows)

    found = {}
    for bulk in (False, True):
        with pytest.raises(BadFile) as raised:
            import_enquiries(path, now=NOW, bulk=bulk)
        found[bulk] = [str(problem) for problem in raised.value.problems]

    assert found[True] == found[False]
    assert found[True][0].startswith("line 7, reference: ")
    assert any("MASH-F-2025-000290 is already in the database" in p for p in found[True])
    assert not Enquiry.objects.exists()


def test_every_problem_in_the_file_is_reported_once_writing_has_stopped(tmp_path):
    rows = many_rows(100)
    rows[10] = rows[10].replace("police", "postman")
    rows[50] = rows[3]  # the same reference again

    with pytest.raises(BadFile) as raised:
        import_enquiries(write(tmp_path, *rows), now=NOW, bulk=True)

    problems = [(problem.line, problem.column) for problem in raised.value.problems]
    assert (52, "reference") in problems
    assert len(problems) == 1 + ("postman" in rows[10])
    assert not Enquiry.objects.exists()


def test_a_large_file_into_a_hub_holding_fewer_is_bulk_loaded(tmp_path, monkeypatch):
    path = write(tmp_path, *many_rows(50))
    monkeypatch.setattr(importing, "BULK_FROM_ROWS", 10)
    monkeypatch.setattr(importing, "ROW_BYTES", 50)

    assert importing._worth_bulk_loading(path)

    monkeypatch.setattr(importing, "BULK_FROM_ROWS", 1000)
    assert not importing._worth_bulk_loading(path)


def test_an_empty_file_is_refused_by_the_bulk_load_too(tmp_path):
    with pytest.raises(BadFile, match="a header but no enquiries"):
        import_enquiries(write(tmp_path, header=HEADER), now=NOW, bulk=True)


def test_into_an_empty_hub_no_reference_is_looked_up(tmp_path, monkeypatch):
    def looked_up(model, references, where=""):
        assert not references, "an empty table holds nothing to clash with"
        return set()

    monkeypatch.setattr(importing, "_stored", looked_up)

    result = import_enquiries(write(tmp_path, *many_rows(40)), now=NOW, bulk=True)

    assert result.rows == Enquiry.objects.count() == 41
