"""Time the triage queue and the enquiry page against a trivial signed-in page, at two sizes.

Run from the repository root: ``python bench/queue.py [--enquiries 1000000]``. It drops and
recreates its own PostgreSQL database (``BENCH_DATABASE_URL``, default ``mash_bench``; the name
must contain "bench"), migrates, seeds 1,000 demo enquiries with ``seed_demo``, times each page
through the test client, tops up to 100,000 and times them again (the enquiry page on the
same sample of enquiries). It prints p50 and p95 over 50 requests, the queries per page at both
sizes and the queue's p95 against the trivial page's.
Exits 1 if a page fails or its query count changes with the data size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

# Python puts this file's folder first on the path, where "queue.py" would hide the standard
# library's queue module from everything imported later; the repository root goes there instead.
BENCH, ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mash_bench"
SMALL = 1_000
TARGET_RATIO = 3.0
SEED = 20260329
TRIVIAL = "trivial signed-in page"
TRIVIAL_USER = "bench-no-role"
SEARCH = "Kowalski"  # one of the demo's surnames

# Production-like: no debug query log, no Redis, tasks in-process; before Django loads.
os.environ.update(
    DEBUG="false",
    SECRET_KEY="bench-only-secret-key-not-for-production",  # noqa: S106 - a throwaway database
    ALLOWED_HOSTS="testserver",
    SECURE_SSL_REDIRECT="false",  # the test client speaks plain http
    REDIS_URL="",
    DJANGO_SETTINGS_MODULE="mash.settings",
)


@dataclass(frozen=True)
class Page:
    name: str  # the same at both sizes
    detail: str  # what it is at this size
    username: str
    urls: list[str]  # requests cycle through them: one page, or a sample of enquiries


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    queries: tuple[int, ...]  # distinct counts seen across the page's urls
    failures: tuple[str, ...]

    @property
    def query_text(self) -> str:
        """The count, or its range when the enquiries sampled differ ("12-13")."""
        if not self.queries:
            return "?"
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def fresh_database(url: str) -> str:
    """Drop and create the bench's own database (returning its name), so the small size really
    is small; refuses any name that does not say bench."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must say bench")
    connection = psycopg2.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return name


def django_on_fresh_database(url: str) -> str:
    """Drop and create the bench's database (`fresh_database`), then start Django on it."""
    name = fresh_database(url)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    return name


def seed(enquiries: int) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", "--enquiries", str(enquiries), stdout=StringIO())
    return time.perf_counter() - started


def pages(requests: int) -> list[Page]:
    """The pages to time, chosen from the data as it is now (the last page moves with it)."""
    from django.urls import reverse

    from enquiries.models import Enquiry

    queue = reverse("triage-queue")
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    last_page = max(1, -(-open_count // 50))
    # The same enquiries at both sizes (the first SMALL made), so that their query counts,
    # which differ with the kind of enquiry, compare like with like.
    references = list(Enquiry.objects.order_by("id").values_list("reference", flat=True)[:SMALL])
    sample = random.Random(SEED).sample(references, min(requests, len(references)))  # noqa: S311
    return [
        Page(TRIVIAL, "/ with no role", TRIVIAL_USER, [reverse("home")]),
        Page("queue: first page", "", "researcher", [queue]),
        Page("queue: rating red", "", "researcher", [f"{queue}?rating=red"]),
        Page("queue: at risk", "", "researcher", [f"{queue}?at_risk=on"]),
        Page("queue: name search", f"q={SEARCH}", "researcher", [f"{queue}?q={SEARCH}"]),
        Page("queue: last page", f"page {last_page}", "researcher", [f"{queue}?page={last_page}"]),
        Page(
            "enquiry page",
            f"{len(sample)} enquiries",
            "researcher",
            [reverse("enquiry-detail", args=[reference]) for reference in sample],
        ),
    ]


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


def clients() -> dict:
    """One signed-in test client per demo login used."""
    from agencies.models import Agency, User

    signed_in = {
        username: signed_in_client(User.objects.get(username=username))
        for username in ("police", "researcher")
    }
    # The trivial page: the home of a signed-in person with no role yet (the shell, the
    # navigation and the notification count; no case data).
    nobody, _ = User.objects.get_or_create(
        username=TRIVIAL_USER, defaults={"agency": Agency.objects.first(), "last_name": "Role"}
    )
    signed_in[TRIVIAL_USER] = signed_in_client(nobody)
    return signed_in


def time_page(client, page: Page, requests: int, warm_up: int) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    failures, queries = [], set()
    for url in page.urls:  # counted apart from the timed requests: capturing has a cost
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            failures.append(f"{url} answered {response.status_code}")
        queries.add(len(captured))
    for number in range(warm_up):
        client.get(page.urls[number % len(page.urls)])
    durations = []
    for number in range(requests):
        started = time.perf_counter()
        client.get(page.urls[number % len(page.urls)])
        durations.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    return Timing(
        p50=statistics.median(durations),
        p95=cuts[94],
        queries=tuple(sorted(queries)),
        failures=tuple(failures),
    )


def measure(size: int, requests: int, warm_up: int) -> dict[str, Timing]:
    from enquiries.models import Enquiry

    elapsed = seed(size)
    open_count = Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES).count()
    print(f"\nenquiries: {size:,} ({open_count:,} open), seeded on PostgreSQL in {elapsed:.1f} s")
    signed_in = clients()
    results = {}
    print(f"{'page':<50} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for page in pages(requests):
        timing = time_page(signed_in[page.username], page, requests, warm_up)
        results[page.name] = timing
        label = f"{page.name} ({page.detail})" if page.detail else page.name
        print(f"{label:<50} {timing.p50:8.1f} {timing.p95:8.1f} {timing.query_text:>8}")
        for failure in timing.failures:
            print(f"  FAILED: {failure}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--enquiries", type=int, default=100_000, help="the large size (default 100,000)"
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed requests per page first")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the bench's own database (dropped and recreated)",
    )
    options = parser.parse_args()
    if options.enquiries <= SMALL:
        parser.error(f"--enquiries must be more than {SMALL:,}")

    django_on_fresh_database(options.database_url)
    from django.conf import settings
    from django.core.management import call_command

    # As in the tests: static files from the finders, without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    print(f"database: {settings.DATABASES['default']['NAME']}, created afresh")
    print(f"requests: {options.requests} timed per page, after {options.warm_up} to warm up")

    small = measure(SMALL, options.requests, options.warm_up)
    large = measure(options.enquiries, options.requests, options.warm_up)
    return report(small, large, options.enquiries)


def report(small: dict[str, Timing], large: dict[str, Timing], size: int) -> int:
    """Queries at both sizes and p95 ratios at the large one; 1 if counts differ or a page
    failed."""
    print(f"\nqueries at {SMALL:,} and {size:,} enquiries:")
    # The enquiry page's count depends on the enquiry (open or decided, sensitive content to
    # log or not), not on the data size: the bound is what must not move.
    differ = [name for name in large if max(small[name].queries) != max(large[name].queries)]
    for name, timing in large.items():
        verdict = "DIFFERENT" if name in differ else "same"
        print(f"  {name:<40} {small[name].query_text:>6} {timing.query_text:>6}  {verdict}")

    print(
        f"\np95 / trivial page p95 at {size:,} enquiries (target: queue within {TARGET_RATIO:g}x):"
    )
    for name, timing in large.items():
        if name == TRIVIAL:
            continue
        ratio = timing.p95 / large[TRIVIAL].p95
        if name.startswith("queue"):
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        else:
            verdict = "for information"
        print(f"  {name:<40} {ratio:5.1f}x  {verdict}")

    failed = sorted(
        {name for results in (small, large) for name in results if results[name].failures}
    )
    if differ:
        print(f"\nquery counts changed with the data size: {', '.join(differ)}")
    if failed:
        print(f"\npages that failed: {', '.join(failed)}")
    return 1 if differ or failed else 0


if __name__ == "__main__":
    sys.exit(main())
