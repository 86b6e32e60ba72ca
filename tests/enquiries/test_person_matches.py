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

    # 0005's GIN index or 0013's GiST one (for people search's nearest names): either is a
    # trigram index, not a scan of every person.
    assert (
        "enquiries_person_search_name_trgm" in plan or "enquiries_person_search_name_gist" in plan
    )


# Age (today is 23 November 2026).


@pytest.mark.parametrize("typed_age", [9, 10, 11])
def test_a_typed_age_within_a_year_of_a_date_of_birth_counts_like_one(backend, typed_age):
    person("Jon", "Smyth", date_of_birth=date(2016, 6, 1))  # 10 today

    found = matches("John", "Smith", approximate_age=typed_age)

    assert found == [
        (
            "Jon",
            "Smyth",
            ("Similar name (31% alike)", f"Date of birth fits approximate age {typed_age}"),
        )
    ]


@pytest.mark.parametrize(
    ("born", "fits"),
    [
        (date(2015, 11, 24), False),  # 10: eleven tomorrow
        (date(2015, 11, 23), True),  # 11 today
        (date(2012, 11, 24), True),  # 13
        (date(2012, 11, 23), False),  # 14 today
    ],
)
def test_an_age_fits_a_date_of_birth_to_the_day(backend, born, fits):
    person("Jon", "Smyth", date_of_birth=born)

    found = matches("John", "Smith", approximate_age=12)

    assert found == (
        [("Jon", "Smyth", ("Similar name (31% alike)", "Date of birth fits approximate age 12"))]
        if fits
        else []
    )


def test_a_typed_age_neither_close_nor_far_leaves_only_a_very_alike_name(backend):
    person("Katie", "O'Neill", date_of_birth=date(2016, 1, 1))  # 10
    person("Jon", "Smyth", date_of_birth=date(2016, 1, 1))

    assert matches("Katie", "Oneill", approximate_age=14) == [
        ("Katie", "O'Neill", ("Similar name (69% alike)",))
    ]
    assert matches("John", "Smith", approximate_age=14) == []


def test_a_typed_age_more_than_five_years_off_rules_out_a_namesake(backend):
    person("Katie", "O'Neill", date_of_birth=date(2016, 1, 1))  # 10

    assert matches("Katie", "Oneill", approximate_age=16) == []
    assert matches("Katie", "O'Neill", approximate_age=4) == []
    assert matches("Katie", "O'Neill", approximate_age=15) == [("Katie", "O'Neill", ("Same name",))]


def test_a_date_of_birth_far_from_a_recorded_age_rules_out_a_namesake(backend):
    person("Katie", "O'Neill", approximate_age=40)

    assert matches("Katie", "O'Neill", date_of_birth=date(2016, 1, 1)) == []
    assert matches("Katie", "O'Neill", date_of_birth=date(1981, 1, 1)) == [
        ("Katie", "O'Neill", ("Same name",))
    ]


@pytest.mark.parametrize(("typed_age", "fits"), [(10, True), (14, True), (15, False)])
def test_two_approximate_ages_within_two_years_agree(backend, typed_age, fits):
    person("Jon", "Smyth", approximate_age=12)

    found = matches("John", "Smith", approximate_age=typed_age)

    expected = [("Jon", "Smyth", ("Similar name (31% alike)", "Approximate age 12 fits"))]
    assert found == (expected if fits else [])


def test_two_approximate_ages_far_apart_rule_out_a_namesake(backend):
    person("Katie", "O'Neill", approximate_age=10)

    assert matches("Katie", "Oneill", approximate_age=17) == []
    assert matches("Katie", "Oneill", approximate_age=15) == [
        ("Katie", "O'Neill", ("Similar name (69% alike)",))
    ]


def test_a_typed_date_of_birth_wins_over_a_typed_age(backend):
    person("Jon", "Smyth", date_of_birth=date(2016, 6, 1))

    assert matches("John", "Smith", date_of_birth=date(2016, 6, 1), approximate_age=30) == [
        ("Jon", "Smyth", ("Similar name (31% alike)", "Same date of birth"))
    ]


def test_people_merged_into_someone_else_are_not_offered(backend):
    kept = person("Amy", "Smith", nhs_number="9434765919")
    person("Amy", "Smith", nhs_number="9434765919", merged_into=kept)

    found = person_matches(
        first_name="Amy", last_name="Smith", nhs_number="9434765919", today=TODAY
    )

    assert [match.person for match in found] == [kept]


def test_postgresql_narrows_by_age_and_merges_in_the_database():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        person_matches(first_name="Amy", last_name="Smith", approximate_age=12, today=TODAY)

    (sql,) = [query["sql"] for query in queries]
    assert "%%" in sql or "similarity" in sql
    assert "\"date_of_birth\" >= '2012-11-23'" in sql
    assert "\"date_of_birth\" <= '2015-11-23'" in sql
    assert '"approximate_age" >= 10' in sql
    assert '"merged_into_id" IS NULL' in sql


# Where an age is typed: the intake page and the API's check, each logged with the age.


def test_the_intake_page_weighs_a_typed_age_and_logs_it(client, make_user):
    from django.urls import reverse
    from django.utils import timezone

    from agencies.models import Role
    from audit.models import AccessLogEntry
    from tests.enquiries.test_pages import intake_data

    researcher = make_user(Role.RESEARCHER)
    four = timezone.localdate().replace(year=timezone.localdate().year - 4, month=1, day=1)
    ben = person("Ben", "Smyth", date_of_birth=four)
    client.force_login(researcher)

    response = client.post(reverse("enquiry-intake"), intake_data())

    html = response.content.decode()
    assert f'name="subjects-1-existing" type="radio" value="{ben.pk}"' in html
    assert "Similar name (54% alike); Date of birth fits approximate age 4" in html
    entry = AccessLogEntry.objects.get(user=researcher, person_id=ben.pk)
    assert entry.terms == "name: Ben Smith; age: 4"


def test_the_api_check_weighs_a_typed_age_and_logs_it(make_user):
    from django.urls import reverse
    from rest_framework.test import APIClient

    from agencies.models import Role
    from audit.models import AccessLogEntry

    researcher = make_user(Role.RESEARCHER)
    api = APIClient()
    api.force_authenticate(researcher)
    jon = person("Jon", "Smyth", approximate_age=12)

    found = api.get(
        reverse("api:person-match-list"),
        {"first_name": "John", "last_name": "Smith", "approximate_age": 10},
    )
    too_old = api.get(
        reverse("api:person-match-list"),
        {"first_name": "John", "last_name": "Smith", "approximate_age": 121},
    )

    assert [(match["person"]["id"], match["reasons"]) for match in found.json()] == [
        (jon.pk, ["Similar name (31% alike)", "Approximate age 12 fits"])
    ]
    assert AccessLogEntry.objects.get(user=researcher).terms == "name: John Smith; age: 10"
    assert too_old.status_code == 400
    assert list(too_old.json()) == ["approximate_age"]
