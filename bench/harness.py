"""What the benches share, so that none imports another: Django on a fresh PostgreSQL database,
options, timing and percentiles, the verdicts and ratios they print, pages timed through the
test client as signed-in people, the hub's mix for made-up history, and the protocol of the
people bench/load.py simulates (run by locust from bench/load_users.py).

A bench puts the repository root on the path and imports this module, which takes the bench
folder off the path: its "queue.py" would hide the standard library's queue module from
everything imported later. Importing it changes nothing else: Django and the app load only when
a bench asks (`django_on_fresh_database`), so bench/load_users.py imports it under locust too.
The app modules that have lately moved are reached only through `bulk()` and `demo_hub()`.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH, ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]

import argparse  # noqa: E402 - the standard library, once this folder is off the path
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from io import StringIO  # noqa: E402
from itertools import accumulate  # noqa: E402
from string import ascii_lowercase  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

SEED = 20260329


# Options ---------------------------------------------------------------------------------------


def database_url_option(parser: argparse.ArgumentParser, variable: str, name: str) -> None:
    """--database-url: the bench's own database, from `variable` or named `name` locally."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get(variable, f"postgres://postgres@127.0.0.1:5432/{name}"),
        help="PostgreSQL URL of the bench's own database (dropped and recreated)",
    )


def page_timing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed requests per page first")


# Django on a fresh database --------------------------------------------------------------------

# Production-like: no debug query log, no Redis, tasks in-process; set before Django loads.
ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production",  # a throwaway database
    "ALLOWED_HOSTS": "testserver",
    "SECURE_SSL_REDIRECT": "false",  # the test client speaks plain http
    "REDIS_URL": "",
    "DJANGO_SETTINGS_MODULE": "mash.settings",
}


def connect(url: str, *, database: str | None = None):
    """A psycopg2 connection, in autocommit, to the URL's database (or to `database` on the
    same server)."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(url)
    connection = psycopg2.connect(
        dbname=database or config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def fresh_database(url: str) -> str:
    """Drop and create the bench's own database (returning its name), so the small size really
    is small; refuses any name that does not say bench. With `BENCH_TEMPLATE_DATABASE` set (the
    tests set it to their migrated template) it is a copy of that database, which the migrate
    that follows finds up to date, rather than an empty one migrated step by step."""
    import environ
    import psycopg2.errors

    name = environ.Env.db_url_config(url)["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must say bench")
    template = os.environ.get("BENCH_TEMPLATE_DATABASE")
    connection = connect(url, database="postgres")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not template:
            cursor.execute(f'CREATE DATABASE "{name}"')
        for attempt in range(1, 41) if template else ():
            try:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except psycopg2.errors.ObjectInUse:  # another copy of the template under way
                if attempt == 40:
                    raise
                time.sleep(0.25)
    connection.close()
    return name


def django_on_fresh_database(url: str) -> str:
    """Drop and create the bench's database (`fresh_database`), start Django on it with the
    production-like `ENVIRONMENT` and migrate it; its name."""
    name = fresh_database(url)
    django_on_database(url)
    return name


def django_on_database(url: str) -> None:
    """Start Django on the database at `url` as it is, with the production-like `ENVIRONMENT`,
    and migrate it (nothing to do on one a bench filled with this code)."""
    os.environ.update(ENVIRONMENT, DATABASE_URL=url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # As in the tests: static files from the finders, without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)


def seed(enquiries: int) -> float:
    """Seconds `seed_demo` takes to bring the demo hub to `enquiries` demo enquiries."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", "--enquiries", str(enquiries), stdout=StringIO())
    return time.perf_counter() - started


def vacuumed(*tables: str) -> float:
    """Seconds `VACUUM (ANALYZE)` took on `tables`: after a bulk load, as autovacuum would have
    by the time a hub worked on them. Until then PostgreSQL's visibility map is empty, so an
    index-only scan (the triage queue's counts) still visits every row it counts."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    return time.perf_counter() - started


# The app modules that have moved lately, imported here only, to follow them in one place;
# Django must be set up first.


def bulk():
    """The app's bulk writes (COPY), id reservations and table statistics."""
    from core import bulk

    return bulk


def demo_hub():
    """The demo hub: its agencies, its logins (`DEMO_USERS`) and `seed_demo_hub`."""
    from demo import hub

    return hub


# Timing and verdicts ---------------------------------------------------------------------------


def percentile(values: list[float], cut: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def timed(call: Callable[[int], object], runs: int, *, warm_up: int = 1) -> list[float]:
    """Milliseconds each of `runs` calls took, after `warm_up` untimed ones (caches, the clock,
    the plan); each call is given its number, counted from 0 for the warm-up and again for the
    timed runs."""
    for number in range(warm_up):
        call(number)
    durations = []
    for number in range(runs):
        started = time.perf_counter()
        call(number)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def captured_queries(call: Callable[[], object]) -> tuple[object, list[dict]]:
    """What `call` returns and the queries it ran (counting them has a cost: not when timed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, captured.captured_queries


def sql_milliseconds(call: Callable[[], object]) -> float:
    """How long `call`'s queries took in the database driver, timed around each (Django's own
    record of a query's time is rounded to the millisecond, more than most of these take)."""
    from django.db import connection

    spent: list[float] = []

    def timed_query(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    with connection.execute_wrapper(timed_query):
        call()
    return sum(spent) * 1000


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def against(ratio: float, target: float | None) -> str:
    """A ratio to its baseline as the benches print it, "2.4x  met" within `target`, or "for
    information" without one."""
    return f"{ratio:5.1f}x  {'for information' if target is None else verdict(ratio <= target)}"


# Pages through the test client, as signed-in people --------------------------------------------

TRIVIAL = "trivial signed-in page"
# The trivial page: the home page of a signed-in person with no role yet: the shell, past both
# factors, and no case data. With no role there is no navigation, nor its unread count, which
# every other page's person has: a stricter baseline than a hub person's emptiest page.
TRIVIAL_USER = "bench-no-role"


@dataclass(frozen=True)
class Page:
    name: str  # the same at both sizes
    detail: str  # what it is at this size
    username: str
    urls: list[str]  # requests cycle through them: one page, or a sample of enquiries

    @property
    def label(self) -> str:
        return f"{self.name} ({self.detail})" if self.detail else self.name


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    queries: tuple[int, ...]  # distinct counts seen across the page's urls
    failures: tuple[str, ...]
    # The trivial page's p95 over requests taken turn about with this page's, when timed so:
    # what its ratio is worked out against (`ratio_to_trivial`).
    trivial_p95: float | None = None
    # The database's part of one request, warm (the median over the page's urls of the time
    # its queries took, as Django measures them around each call): what no change to the
    # page's Python can take away while it runs those queries.
    sql_ms: float | None = None

    @property
    def query_text(self) -> str:
        """The count, or its range when the enquiries sampled differ ("12-13")."""
        if not self.queries:
            return "?"
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def trivial_page() -> Page:
    from django.urls import reverse

    return Page(TRIVIAL, "/ with no role", TRIVIAL_USER, [reverse("home")])


def signed_in_client(user):
    """A test client signed in as `user` past both factors, as a session is after the
    one-time password (through django-otp's own login, with an authenticator app made for the
    bench), so each page pays for the second-factor check as in production."""
    from django.http import HttpRequest
    from django.test import Client
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client(raise_request_exception=False)  # a failing page is reported, not raised
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Bench authenticator", defaults={"confirmed": True}
    )
    request = HttpRequest()
    request.session, request.user = client.session, user
    otp_login(request, device)
    request.session.save()
    return client


def signed_in_clients(usernames: Iterable[str]) -> dict:
    """One signed-in test client per login named, and one for the trivial page's person (who
    can sign in but holds no role yet)."""
    from agencies.models import Agency, User

    signed_in = {
        username: signed_in_client(User.objects.get(username=username)) for username in usernames
    }
    nobody, _ = User.objects.get_or_create(
        username=TRIVIAL_USER,
        defaults={"first_name": "No", "last_name": "Role", "agency": Agency.objects.first()},
    )
    signed_in[TRIVIAL_USER] = signed_in_client(nobody)
    return signed_in


def looked_at_once(pages: list[Page], signed_in: dict, name: str) -> None:
    """Each url of the page called `name` requested once, neither timed nor counted: a first
    look at records marks them read by the hub, once ever, in one more query (sharing.reads),
    so a first request's count would differ with what the data had just added, not with its
    size (the enquiry page's kinds at 1,000; the person page's 19 and 20 at 100 and 110)."""
    for page in pages:
        if page.name == name:
            for url in page.urls:
                signed_in[page.username].get(url)


def time_page(client, page: Page, requests: int, warm_up: int, *, alongside=None) -> Timing:
    """The page's p50, p95 and queries; with `alongside` (a client and url: the trivial
    page), each timed request is followed by one of that page, timed too, so the two are
    measured over the same seconds of a machine whose speed drifts."""
    failures, queries = [], set()
    for url in page.urls:  # counted apart from the timed requests: capturing has a cost
        response, captured = captured_queries(lambda url=url: client.get(url))
        if response.status_code != 200:
            failures.append(f"{url} answered {response.status_code}")
        queries.add(len(captured))
    own: list[float] = []
    beside: list[float] = []

    def request(number: int) -> None:
        started = time.perf_counter()
        client.get(page.urls[number % len(page.urls)])
        own.append((time.perf_counter() - started) * 1000)
        if alongside is not None:
            started = time.perf_counter()
            alongside[0].get(alongside[1])
            beside.append((time.perf_counter() - started) * 1000)

    timed(request, requests, warm_up=warm_up)
    durations = own[warm_up:]
    # Once more each, warm as the timed requests were (a first request's plans and pages are
    # cold).
    sql = [sql_milliseconds(lambda url=url: client.get(url)) for url in page.urls]
    return Timing(
        p50=statistics.median(durations),
        p95=percentile(durations, 95),
        queries=tuple(sorted(queries)),
        failures=tuple(failures),
        trivial_p95=percentile(beside[warm_up:], 95) if alongside is not None else None,
        sql_ms=statistics.median(sql),
    )


def ratio_to_trivial(timing: Timing, trivial: Timing) -> float:
    """p95 against the trivial page's: the one timed turn about with it, if it was."""
    return timing.p95 / (timing.trivial_p95 or trivial.p95)


def time_pages(
    pages: list[Page], signed_in: dict, requests: int, warm_up: int, *, ratio: bool = False
) -> dict[str, Timing]:
    """Each page timed as its person, a line each: p50, p95, queries and the trivial page's
    p95 timed turn about with it (`time_page`), and, with `ratio`, p95 against that. The
    trivial page comes first, timed on its own."""
    header = (
        f"{'page':<50} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'SQL ms':>7} {'trivial p95':>12}"
    )
    print(header + (f" {'p95/trivial':>12}" if ratio else ""))
    results: dict[str, Timing] = {}
    for page in pages:
        alongside = None
        if page.name != TRIVIAL and TRIVIAL in results:
            trivial = next(each for each in pages if each.name == TRIVIAL)
            alongside = (signed_in[trivial.username], trivial.urls[0])
        timing = time_page(signed_in[page.username], page, requests, warm_up, alongside=alongside)
        results[page.name] = timing
        line = f"{page.label:<50} {timing.p50:8.1f} {timing.p95:8.1f} {timing.query_text:>8}"
        line += f" {timing.sql_ms or 0:7.1f}"
        line += f" {timing.trivial_p95 or timing.p95:12.1f}"
        if ratio:
            line += f" {ratio_to_trivial(timing, results[TRIVIAL]):11.1f}x"
        print(line)
        for failure in timing.failures:
            print(f"  FAILED: {failure}")
    return results


# Made-up history: the hub's mix ----------------------------------------------------------------

# As weights; csc_assessment, strategy_discussion and adult_social_care lead to referral.
OUTCOMES = [
    ("nfa", 40),
    ("advice", 15),
    ("early_help", 15),
    ("csc_assessment", 12),
    ("strategy_discussion", 5),
    ("adult_social_care", 3),
    ("other_agency", 7),
    ("marac", 3),
]
REFERRERS = [
    ("police", 30),
    ("school", 18),
    ("gp", 6),
    ("health_visitor", 6),
    ("hospital", 7),
    ("probation", 3),
    ("housing", 4),
    ("public", 6),
    ("family", 7),
    ("self", 2),
    ("anonymous", 5),
    ("other", 6),
]
FAMILY_SIZES = [1, 1, 1, 1, 2, 2, 3]
OFFICE_HOURS_SHARE = 0.75


def two_size_report(
    small: dict[str, Timing],
    large: dict[str, Timing],
    *,
    small_size: int,
    size: int,
    target: Callable[[str], float | None],
) -> int:
    """Queries at both sizes and p95 against the trivial page's at the large one (timed turn
    about with each page, `ratio_to_trivial`), each page judged by `target(name)` (None: for
    information); 1 if a query count changed with the size or a page failed."""
    print(f"\nqueries at {small_size:,} and {size:,} enquiries:")
    # A page's count may depend on what it shows (an enquiry open or decided), not on the
    # data size: the bound is what must not move.
    differ = [name for name in large if max(small[name].queries) != max(large[name].queries)]
    for name, timing in large.items():
        verdict_text = "DIFFERENT" if name in differ else "same"
        print(f"  {name:<40} {small[name].query_text:>6} {timing.query_text:>6}  {verdict_text}")

    targets = {target(name) for name in large if name != TRIVIAL} - {None}
    goal = f"within {min(targets):g}x" if targets else "for information"
    print(f"\np95 / trivial page p95 at {size:,} enquiries (target: {goal}):")
    for name, timing in large.items():
        if name != TRIVIAL:
            ratio = ratio_to_trivial(timing, large[TRIVIAL])
            print(f"  {name:<40} {against(ratio, target(name))}")

    print(
        f"\ngrowth with the data, p95 / trivial p95 at {small_size:,} and at {size:,}; and the"
        f" SQL alone at {size:,} / trivial p95:"
    )
    for name, timing in large.items():
        if name != TRIVIAL:
            before = ratio_to_trivial(small[name], small[TRIVIAL])
            after = ratio_to_trivial(timing, large[TRIVIAL])
            floor = (timing.sql_ms or 0) / (timing.trivial_p95 or large[TRIVIAL].p95)
            print(
                f"  {name:<40} {before:5.1f}x {after:5.1f}x  grew {after / before:4.2f}x"
                f"  SQL {floor:4.1f}x"
            )

    failed = sorted(
        {name for results in (small, large) for name in results if results[name].failures}
    )
    if differ:
        print(f"\nquery counts changed with the data size: {', '.join(differ)}")
    if failed:
        print(f"\npages that failed: {', '.join(failed)}")
    return 1 if differ or failed else 0


def run_at_two_sizes(
    *,
    description: str,
    measure: Callable[[int, int, int], dict[str, Timing]],
    database: tuple[str, str],
    small: int,
    target: Callable[[str], float | None],
    large: int = 100_000,
) -> int:
    """A page bench from its command line to its exit status: the options (`--enquiries`, the
    large size, more than `--small`, `small` unless said; `page_timing_options`;
    `--database-url` from the variable and database name `database`), the database created
    afresh, `measure(size, requests, warm_up)` at the small size and then at the large one, and
    `two_size_report` by `target`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--enquiries", type=int, default=large, help=f"the large size (default {large:,})"
    )
    parser.add_argument(
        "--small",
        type=int,
        default=small,
        help=f"the small size (default {small:,}; less, to check quickly that the bench runs)",
    )
    page_timing_options(parser)
    database_url_option(parser, *database)
    options = parser.parse_args()
    if options.enquiries <= options.small:
        parser.error(f"--enquiries must be more than --small, {options.small:,}")

    name = django_on_fresh_database(options.database_url)
    print(f"database: {name}, created afresh")
    print(f"requests: {options.requests} timed per page, after {options.warm_up} to warm up")

    small_timings = measure(options.small, options.requests, options.warm_up)
    large_timings = measure(options.enquiries, options.requests, options.warm_up)
    return two_size_report(
        small_timings,
        large_timings,
        small_size=options.small,
        size=options.enquiries,
        target=target,
    )


def weighted_choice(rng: random.Random, weighted: list[tuple[object, int]]) -> Callable[[], object]:
    """A picker of values in the shares their weights give."""
    values = [value for value, _ in weighted]
    cumulative = list(accumulate(weight for _, weight in weighted))
    return lambda: rng.choices(values, cum_weights=cumulative)[0]


def family_sizes(rng: random.Random, enquiries: int) -> list[int]:
    """Families of one to three, as many as make up `enquiries`."""
    sizes = []
    while enquiries > 0:
        sizes.append(min(rng.choice(FAMILY_SIZES), enquiries))
        enquiries -= sizes[-1]
    return sizes


def in_office_hours(
    rng: random.Random, received: datetime, *, latest: datetime, earliest: datetime | None = None
) -> datetime:
    """Three in four moved to office hours (a minute from 09:00 to 16:59) on a weekday, the same
    day or two before a weekend one, unless that falls outside `earliest`-`latest`."""
    if rng.random() < OFFICE_HOURS_SHARE:
        in_hours = received.replace(hour=rng.randint(9, 16), minute=rng.randint(0, 59))
        while in_hours.weekday() >= 5:
            in_hours -= timedelta(days=2)
        if (earliest is None or earliest <= in_hours) and in_hours <= latest:
            return in_hours
    return received


# The simulated people of bench/load.py and bench/load_users.py ---------------------------------

# Seconds each person spends on a page before the next: a page every 10 s on average, 360 an
# hour, still busier than a hub where an enquiry page is read for minutes. `--think 1-5` is
# the stress test.
THINK = "5-15"
# Of every ten people: researchers, practitioners, managers.
MIX = {"researcher": 5, "practitioner": 4, "manager": 1}
# The locust process reads its accounts from, and writes each request to, these.
ACCOUNTS_VARIABLE = "MASH_LOAD_ACCOUNTS"
RESULTS_VARIABLE = "MASH_LOAD_RESULTS"
THINK_VARIABLE = "MASH_LOAD_THINK"
# Where a two-factor sign-in would send someone next: the verify or enrolment page.
TWO_FACTOR_PATH = re.compile(r"otp|two.?factor|2fa|mfa|totp|verif", re.IGNORECASE)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Links a person follows from the page they are on, and the page a save leads to.
ENQUIRY_LINK = re.compile(r'href="(/enquiries/(?!new/)[^/"?#]+/)"')
ENQUIRY_PAGE = re.compile(r"/enquiries/(?!new/)[^/?#]+/")
REQUEST_LINK = re.compile(r'href="(/sharing/requests/\d+/)"')
REPORT_LINK = re.compile(r'href="(/reports/[a-z0-9-]+/)"')
ERROR_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)
FIRST_NAMES = ["Amelia", "Oliver", "Zofia", "Yusuf", "Cerys", "Dylan", "Maryam", "Jakub"]


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    kind: str  # a key of MIX
    lands_on: str  # where "/" sends them once signed in


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK


def think_seconds(text: str) -> tuple[float, float]:
    """The least and most seconds spent on a page, from "5-15" (or "5" for exactly 5)."""
    low, _, high = text.partition("-")
    least, most = float(low), float(high or low)
    if not 0 <= least <= most:
        raise ValueError(f"think time {text!r}: give it as least-most seconds, e.g. 5-15")
    return least, most


def sign_in_problem(status: int, location: str | None, *, expected: str) -> str | None:
    """What went wrong with a sign-in answer (or with the redirect from "/" after it), or None
    if it went where `expected` says."""
    path = urlsplit(location or "").path
    if status in (301, 302, 303) and path and TWO_FACTOR_PATH.search(path):
        return (
            f"sign-in asks for a one-time password ({path}): this bench starts the server with "
            "TWO_FACTOR_REQUIRED=false, so two-factor sign-in must be switched off for it some "
            "other way before it can run"
        )
    if status not in (301, 302, 303):
        return f"sign-in answered {status}, not a redirect: the demo password was refused?"
    if path != expected:
        return f"sign-in led to {path or 'nowhere'}, not {expected}"
    return None


class FormReader(HTMLParser):
    """The fields of one form, as a browser would send it untouched, with the choices each
    select, radio or checkbox offers."""

    def __init__(self, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marker = marker  # the form's data-testid, or its action
        self.inside = False
        self.found = False
        self.values: dict[str, list[str]] = defaultdict(list)
        self.choices: dict[str, list[str]] = defaultdict(list)
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = self.marker in (attributes.get("data-testid"), attributes.get("action"))
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("radio", "checkbox"):
                self.choices[name].append(attributes.get("value", "on"))
                if "checked" in attributes:
                    self.values[name].append(attributes.get("value", "on"))
            elif kind not in ("submit", "button"):
                self.values[name].append(attributes.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if value:
                self.choices[self._select].append(value)
            if "selected" in attributes:
                self.values[self._select].append(value)
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name].append("")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_form(html: str, marker: str) -> FormReader:
    """The form marked by `marker` (data-testid or action); raises if the page has none."""
    reader = FormReader(marker)
    reader.feed(html)
    reader.close()
    if not reader.found:
        raise ValueError(f"the page has no form {marker!r}")
    return reader


def intake_answers(form: FormReader, rng: random.Random) -> dict[str, list[str]]:
    """A new concern about a child nobody has heard of, on the intake form as it came (its
    CSRF token, idempotency key, time received and empty rows kept)."""
    data = {name: list(values) for name, values in form.values.items()}
    received = date.fromisoformat(data["received_at"][0][:10])  # today, as the form has it
    born = received - timedelta(days=rng.randint(30, 16 * 365))
    data.update(
        referrer_name=["Load bench"],
        referrer_type=[rng.choice(form.choices["referrer_type"])],
        subject_type=["child"],
        categories=[rng.choice(form.choices["categories"])],
        concern=["Made up by bench/load.py: no real child."],
        consent=["yes"],
    )
    data["subjects-0-first_name"] = [rng.choice(FIRST_NAMES)]
    data["subjects-0-last_name"] = ["".join(rng.choices(ascii_lowercase, k=10)).title()]
    data["subjects-0-date_of_birth"] = [born.isoformat()]
    return data


def someone_new(form: FormReader) -> dict[str, list[str]]:
    """The intake as the register check showed it again, answered: each person it asks about
    is someone new."""
    data = {name: list(values) for name, values in form.values.items()}
    return data | {name: ["new"] for name in form.choices if name.endswith("-existing")}


def rating_answers(form: FormReader, rng: random.Random) -> dict[str, list[str]]:
    data = {name: list(values) for name, values in form.values.items()}
    data["rating"] = [rng.choice(form.choices["rating"])]
    data["rationale"] = ["Rated by bench/load.py."]
    return data


def save_problem(
    status: int, location: str, page: str, *, expected: tuple[str, ...] = ()
) -> str | None:
    """What went wrong with a form's save, or None: a save redirects to the enquiry; a form
    shown again is fine only with one of the `expected` markers (a check to answer, someone
    else's change first)."""
    if status == 302 and ENQUIRY_PAGE.fullmatch(urlsplit(location).path):
        return None
    if status == 302:
        return f"the save led to {location}, not the enquiry"
    if status != 200:
        return f"the save answered {status}"
    if any(f'data-testid="{marker}"' in page for marker in expected):
        return None
    return f"the form came back: {form_errors(page) or 'no error shown'}"


def form_errors(page: str) -> str:
    """The error summary's messages, tags stripped."""
    start = page.find("govuk-error-summary__list")
    if start < 0:
        return ""
    items = ERROR_ITEM.findall(page[start : page.find("</ul>", start)])
    return "; ".join(" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items)
