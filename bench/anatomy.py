"""Where each page's time goes: the database, Django compiling SQL, building querysets, reading
rows into objects, templates, and the rest.

Run from the repository root: ``python bench/anatomy.py [--enquiries 1000000] [--kept]``. It
drops and recreates its own PostgreSQL database (``BENCH_ANATOMY_DATABASE_URL``, default
``mash_bench_anatomy``; the name must contain "bench") and fills it as ``bench/pages.py`` does
(``--enquiries`` demo enquiries, default 1,000, with three information records and ten
access-log entries each), or with ``--kept`` takes it as an earlier run left it; vacuums the
queue's tables as ``bench/queue.py`` does; and requests every page of ``bench/queue.py``,
``bench/pages.py`` and ``bench/people.py`` as their benches do, with each slice of a request's
time given to what was running then, innermost first: a template that reads a queryset gives
the query's time to the query. It prints each page's mean and its parts in milliseconds, and
the page against the trivial page's mean, all of it and its SQL alone.

The pages' targets are judged by their own benches; this says what a target asks of a page: a
page whose SQL alone is 2x the trivial page, say, is within 3x only if everything else it does
in Python costs no more than the trivial page's whole request.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench import pages as inbox_bench  # noqa: E402 - takes this folder off the path
from bench import people as people_bench  # noqa: E402
from bench import queue as queue_bench  # noqa: E402
from bench.harness import (  # noqa: E402
    TRIVIAL,
    Page,
    database_url_option,
    django_on_database,
    django_on_fresh_database,
    page_timing_options,
    signed_in_clients,
    vacuumed,
)

SQL, COMPILING, BUILDING, READING, TEMPLATES, REST = (
    "SQL",
    "compiling SQL",
    "building querysets",
    "reading rows",
    "templates",
    "the rest",
)
PARTS = (SQL, COMPILING, BUILDING, READING, TEMPLATES, REST)


class Ledger:
    """Each slice of time given to the part innermost when it passed (exclusive times)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack = [REST]
        self._since = time.perf_counter()

    def _switch(self, push: str | None) -> None:
        now = time.perf_counter()
        self.spent[self._stack[-1]] += now - self._since
        self._since = now
        if push is None:
            self._stack.pop()
        else:
            self._stack.append(push)

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        self._switch(name)
        try:
            yield
        finally:
            self._switch(None)

    def restart(self) -> None:
        self.spent.clear()
        self._stack = [REST]
        self._since = time.perf_counter()

    def close(self) -> dict[str, float]:
        """Milliseconds by part since `restart`."""
        now = time.perf_counter()
        self.spent[self._stack[-1]] += now - self._since
        self._since = now
        return {name: self.spent[name] * 1000 for name in PARTS}


def _counted(ledger: Ledger, name: str, function: Callable) -> Callable:
    if inspect.isgeneratorfunction(function):
        # A generator runs as it is read, not when it is called: each step is counted.
        def stepped(*args, **kwargs):
            generator = function(*args, **kwargs)
            while True:
                with ledger.part(name):
                    try:
                        item = next(generator)
                    except StopIteration:
                        return
                yield item

        return stepped

    def counted(*args, **kwargs):
        with ledger.part(name):
            return function(*args, **kwargs)

    return counted


@contextmanager
def attributed(ledger: Ledger) -> Iterator[None]:
    """Django's ORM and templates, each call's time given to its part, for as long as this
    lasts; the queries' own time through the connection's execute wrapper."""
    from django.db import connection
    from django.db.backends.postgresql import compiler as postgresql_compiler
    from django.db.models import query
    from django.db.models.sql import compiler
    from django.template import base

    watched = [
        *[
            (klass, "as_sql", COMPILING)
            for module in (compiler, postgresql_compiler)
            for klass in _compilers(module)
        ],
        (compiler.SQLCompiler, "pre_sql_setup", COMPILING),
        (compiler.SQLCompiler, "execute_sql", READING),
        (query.ModelIterable, "__iter__", READING),
        (query.ValuesIterable, "__iter__", READING),
        (query.ValuesListIterable, "__iter__", READING),
        (query.FlatValuesListIterable, "__iter__", READING),
        (query, "prefetch_related_objects", READING),
        (base.Template, "render", TEMPLATES),
        *[
            (query.QuerySet, method, BUILDING)
            for method in (
                "_filter_or_exclude",
                "_annotate",
                "_values",
                "order_by",
                "select_related",
                "prefetch_related",
                "only",
                "defer",
                "distinct",
            )
        ],
    ]

    def timed_query(execute, sql, params, many, context):
        with ledger.part(SQL):
            return execute(sql, params, many, context)

    with ExitStack() as stack:
        for owner, name, part in watched:
            original = getattr(owner, name)
            stack.enter_context(mock.patch.object(owner, name, _counted(ledger, part, original)))
        stack.enter_context(connection.execute_wrapper(timed_query))
        yield


def _compilers(module) -> list[type]:
    """Each compiler class with an `as_sql` of its own (a subclass's calls its parent's: the
    time is given once, to the innermost, whichever that is)."""
    return [
        klass
        for klass in vars(module).values()
        if isinstance(klass, type)
        and klass.__module__ == module.__name__
        and "as_sql" in vars(klass)
    ]


def anatomy(client, page: Page, requests: int, warm_up: int, ledger: Ledger) -> dict[str, float]:
    """The mean of each part over `requests` requests of the page's urls, in turn, and their
    total (`"total"`)."""
    for number in range(warm_up):
        client.get(page.urls[number % len(page.urls)])
    sums: dict[str, float] = defaultdict(float)
    totals = []
    for number in range(requests):
        ledger.restart()
        client.get(page.urls[number % len(page.urls)])
        parts = ledger.close()
        for name, milliseconds in parts.items():
            sums[name] += milliseconds
        totals.append(sum(parts.values()))
    return {**{name: sums[name] / requests for name in PARTS}, "total": statistics.mean(totals)}


def fill(size: int) -> None:
    """The benches' data at `size` (bench/pages.py `fill`)."""
    print(inbox_bench.fill(size))


def ready() -> int:
    """The tables the queue reads vacuumed, as the queue's bench has them (an index-only scan
    visits every row until the visibility map is set), and the people bench's child and
    register (bench/people.py `prepare`, which is idempotent); the child."""
    print(f"vacuumed the queue's tables in {vacuumed(*queue_bench.QUEUE_TABLES):.1f} s")
    return people_bench.prepare()


def every_page(child: int, requests: int) -> list[Page]:
    """The trivial page first, then each bench's pages, as the benches choose them."""
    return [
        *queue_bench.pages(requests),
        *inbox_bench.pages()[1:],
        *people_bench.pages(child)[1:],
    ]


def report(results: dict[str, dict[str, float]]) -> None:
    trivial = results[TRIVIAL]["total"]
    print(
        f"{'page':<36} {'mean':>6}"
        + "".join(f" {name:>9}" for name in ("SQL", "compiling", "building", "reading"))
        + f" {'templates':>9} {'the rest':>8} {'x trivial':>9} {'SQL x':>6}"
    )
    for name, parts in results.items():
        print(
            f"{name[:36]:<36} {parts['total']:6.1f}"
            + "".join(f" {parts[part]:9.1f}" for part in PARTS[:-1])
            + f" {parts[REST]:8.1f} {parts['total'] / trivial:8.1f}x {parts[SQL] / trivial:5.1f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--enquiries", type=int, default=1_000, help="demo enquiries to fill (default 1,000)"
    )
    parser.add_argument(
        "--kept",
        action="store_true",
        help="time the database as an earlier run filled it, without dropping or filling it "
        "(after a change to the code, say)",
    )
    page_timing_options(parser)
    database_url_option(parser, "BENCH_ANATOMY_DATABASE_URL", "mash_bench_anatomy")
    options = parser.parse_args()

    if options.kept:
        django_on_database(options.database_url)
        print(f"database: {options.database_url.rsplit('/', 1)[-1]}, as it was filled")
    else:
        name = django_on_fresh_database(options.database_url)
        print(f"database: {name}, created afresh")
        fill(options.enquiries)
    child = ready()
    pages = every_page(child, options.requests)
    signed_in = signed_in_clients({page.username for page in pages} - {pages[0].username})
    print(
        f"requests: {options.requests} a page, after {options.warm_up} to warm up; "
        "milliseconds, means"
    )
    ledger = Ledger()
    results = {}
    failed = []
    with attributed(ledger):
        for page in pages:
            client = signed_in[page.username]
            statuses = {client.get(url).status_code for url in page.urls}
            if statuses != {200}:
                failed.append(f"{page.name} answered {sorted(statuses)}")
            results[page.name] = anatomy(client, page, options.requests, options.warm_up, ledger)
    report(results)
    for failure in failed:
        print(f"FAILED: {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
