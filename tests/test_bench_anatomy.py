"""bench/anatomy.py gives each slice of a request's time to the part innermost when it passed,
a generator's steps included, so that a page's parts add up to its whole."""

import itertools

import pytest

from bench import anatomy


@pytest.fixture
def ticks(monkeypatch):
    """A clock that moves one second each time it is read."""
    clock = itertools.count()
    monkeypatch.setattr(anatomy.time, "perf_counter", lambda: float(next(clock)))


def test_nested_parts_each_keep_their_own_time(ticks):
    ledger = anatomy.Ledger()  # reads 0
    ledger.restart()  # 1
    with ledger.part(anatomy.TEMPLATES):  # 2: the rest had 1
        with ledger.part(anatomy.SQL):  # 3: templates had 1
            pass
        # 4: the query had 1
    # 5: templates had 1 more
    spent = ledger.close()  # 6: the rest had 1 more

    assert spent[anatomy.SQL] == 1000
    assert spent[anatomy.TEMPLATES] == 2000
    assert spent[anatomy.REST] == 2000
    assert sum(spent.values()) == 5000


def test_a_generators_steps_are_counted_as_it_is_read(ticks):
    ledger = anatomy.Ledger()
    ledger.restart()

    def rows():
        yield 1
        yield 2

    counted = anatomy._counted(ledger, anatomy.READING, rows)
    reading = counted()
    assert ledger.close()[anatomy.READING] == 0  # called, not yet read

    ledger.restart()
    assert list(reading) == [1, 2]
    spent = ledger.close()

    # Three steps (two rows and the end), each a second in the part and one before it; and
    # the second before the ledger is closed.
    assert spent[anatomy.READING] == 3000
    assert spent[anatomy.REST] == 4000


def test_a_function_is_counted_whole_and_its_answer_kept(ticks):
    ledger = anatomy.Ledger()
    ledger.restart()

    answer = anatomy._counted(ledger, anatomy.COMPILING, lambda a, b=0: a + b)(1, b=2)

    assert answer == 3
    assert ledger.close()[anatomy.COMPILING] == 1000


def test_every_compiler_with_its_own_sql_is_watched():
    from django.db.models.sql import compiler

    watched = anatomy._compilers(compiler)

    assert {klass.__name__ for klass in watched} >= {
        "SQLCompiler",
        "SQLInsertCompiler",
        "SQLUpdateCompiler",
        "SQLDeleteCompiler",
        "SQLAggregateCompiler",
    }
