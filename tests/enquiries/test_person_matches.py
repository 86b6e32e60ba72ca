"""The duplicate-person check: likely register matches, each with its reasons, on both backends."""

from datetime import date
from types import SimpleNamespace

import pytest

from enquiries import selectors
from enquiries.models import Person
from enquiries.selectors import person_matches, trigram_similarity

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request, monkeypatch):
    """Run each case through the trigram index and through the SQLite fallback's narrowing."""
    if request.param == "sqlite":
        monkeypatch.setattr(selectors, "connection", SimpleNamespace(vendor="sqlite"))
    return request.param


def person(first, last, **fields):
    return Person.objects.create(first_name=first, last_name=last, **fields)


def matches(first, last, **fields):
    return [
        (match.person.first_name, match.person.last_name, match.reasons)
        for match in person_matches(first_name=first, last_name=last, today=TODAY, **fields)
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("jon smyth", "john smith"),
        ("ben smith", "amy smith"),
        ("katie o'neill", "katie oneill"),
        ("mohammed khan", "muhammad khan"),
        ("amy", "amy"),
    ],
)
def test_the_python_trigram_measure_is_postgresqls(a, b, django_db_blocker):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [a, b])
        (expected,) = cursor.fetchone()

    assert trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6)


def test_the_same_name_and_date_of_birth_is_a_match_with_both_reasons(backend):
    person("Amy", "Smith", date_of_birth=date(2018, 5, 1))

    assert matches("amy", "SMITH", date_of_birth=date(2018, 5, 1)) == [
        ("Amy", "Smith", ("Same name", "Same date of birth"))
    ]


def test_a_misspelt_name_with_the_same_date_of_birth_is_found(backend):
    person("John", "Smith", date_of_birth=date(2015, 2, 3))
    person("Jane", "Doe", date_of_birth=date(2015, 2, 3))

    found = matches("Jon", "Smyth", date_of_birth=date(2015, 2, 3))

    assert found == [("John", "Smith", ("Similar name (31% alike)", "Same date of birth"))]


def test_a_different_date_of_birth_rules_out_a_namesake(backend):
    person("Amy", "Smith", date_of_birth=date(2018, 5, 1))

    assert matches("Amy", "Smith", date_of_birth=date(2019, 5, 1)) == []


def test_a_very_alike_name_matches_without_a_date_of_birth(backend):
    person("Katie", "O'Neill")

    assert matches("Katie", "Oneill") == [("Katie", "O'Neill", ("Similar name (69% alike)",))]


def test_siblings_sharing_only_a_surname_are_not_matches(backend):
    person("Ben", "Smith", date_of_birth=date(2016, 1, 1))

    assert matches("Amy", "Smith", date_of_birth=date(2018, 5, 1)) == []
    assert matches("Amy", "Smith") == []


def test_a_shared_nhs_number_always_matches(backend):
    person("Amelia", "Jones", nhs_number="9434765919")

    assert matches("Milly", "Brown", nhs_number="9434765919") == [
        ("Amelia", "Jones", ("Same NHS number",))
    ]


def test_an_approximate_age_that_fits_counts_like_a_date_of_birth(backend):
    person("Jon", "Smyth", approximate_age=10)

    found = matches("John", "Smith", date_of_birth=date(2016, 6, 1))

    assert found == [("Jon", "Smyth", ("Similar name (31% alike)", "Approximate age 10 fits"))]


def test_best_matches_come_first_and_the_list_is_short(backend):
    for n in range(8):
        person("Amy", "Smith", date_of_birth=None, address=f"{n} High Street")
    best = person("Amy", "Smith", date_of_birth=date(2018, 5, 1))

    found = person_matches(
        first_name="Amy", last_name="Smith", date_of_birth=date(2018, 5, 1), today=TODAY
    )

    assert len(found) == 5
    assert found[0].person == best


def test_nothing_typed_finds_nothing():
    person("Amy", "Smith")

    assert person_matches(first_name=" ", last_name="", today=TODAY) == []


def test_postgresql_uses_the_trigram_index(django_assert_num_queries):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM enquiries_person WHERE search_name %% %s", ["amy smith"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "enquiries_person_search_name_trgm" in plan
