"""Load: 100 simulated people using the hub at once, against gunicorn on PostgreSQL.

Run from the repository root: ``python bench/load.py`` (needs ``pip install locust``, which
``make bench`` does: it is not a dependency of mash). It drops and recreates its own PostgreSQL
database (``BENCH_LOAD_DATABASE_URL``, default ``mash_bench_load``; the name must contain
"bench"), migrates, seeds the demo hub with 20,000 demo enquiries (``seed_demo``), gives the
simulated people accounts of their own (copies of the demo logins, e.g. researcher1..50, with
the demo passwords), collects the static files into ``var/bench-load/static`` unless they are
up to date, and starts gunicorn with 2 workers on a free loopback port: ``DEBUG`` off, a random
``SECRET_KEY``, Redis at ``BENCH_LOAD_REDIS_URL`` (default db 13), plain http, and two-factor
sign-in off (if the sign-in still asks for a one-time password, it stops and says so).

Then locust (``bench/load_users.py``) runs headless against it for 2 minutes: 100 people,
10 more a second (``--spawn-rate``), each signing in once and then spending 5-15 s on each
page (``--think``).
Half are researchers (the queue with and without filters, enquiry pages, now and then logging
an enquiry or rating one), four in ten practitioners (their agency's inbox, an information
request, the record search) and one in ten managers (the dashboard, the queue, enquiry pages,
a report). It prints requests per second, p50, p95 and errors for each kind of page and
overall, for the whole run and for the time after everyone had signed in, against the targets
(0 errors; p95 under 500 ms), and where the machine's CPU went. Exits 1 if any request failed.
gunicorn is stopped at the end, whatever happened; the database is left for inspection and
dropped by the next run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from string import ascii_lowercase
from urllib.parse import urlsplit

# As in bench/queue.py: this folder's "queue.py" must not hide the standard library's queue.
BENCH, ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mash_bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
STATIC_ROOT = ROOT / "var" / "bench-load" / "static"
LOCUSTFILE = BENCH / "load_users.py"
ENQUIRIES = 20_000
USERS = 100
SPAWN_RATE = 10
RUN_SECONDS = 120
WORKERS = 2
TARGET_P95_MS = 500.0
# Seconds each person spends on a page before the next: a page every 10 s on average, 360 an
# hour, still busier than a hub where an enquiry page is read for minutes. `--think 1-5` is
# the stress test.
THINK = "5-15"
# Of every ten people: researchers, practitioners, managers.
MIX = {"researcher": 5, "practitioner": 4, "manager": 1}
# Whose accounts each kind of person copies, agency and roles included; practitioners come
# from the three agencies the demo asks most.
COPIED = {
    "researcher": ("researcher",),
    "practitioner": ("police", "health", "education"),
    "manager": ("manager",),
}
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


@dataclass(frozen=True)
class Sample:
    """One request as locust saw it."""

    method: str
    name: str  # the kind of page, e.g. "queue: filtered"
    started: float  # seconds since the epoch
    ms: float
    error: str | None


@dataclass(frozen=True)
class Line:
    name: str
    requests: int
    errors: int
    per_second: float
    p50: float
    p95: float


# Pure helpers, shared with bench/load_users.py and tested in tests/test_bench_load.py.


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK


def think_seconds(text: str) -> tuple[float, float]:
    """The least and most seconds spent on a page, from "5-15" (or "5" for exactly 5)."""
    low, _, high = text.partition("-")
    least, most = float(low), float(high or low)
    if not 0 <= least <= most:
        raise ValueError(f"think time {text!r}: give it as least-most seconds, e.g. 5-15")
    return least, most


def accounts_wanted(users: int) -> dict[str, int]:
    """Accounts per kind of person, enough that nobody shares one with `users` running."""
    total = sum(MIX.values())
    return {kind: math.ceil(users * weight / total) for kind, weight in MIX.items()}


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


def percentile(values: list[float], cut: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def summarise(samples: list[Sample], seconds: float) -> list[Line]:
    """One line per kind of page, in order of traffic, then "all"."""
    by_name: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_name[sample.name].append(sample)
    ordered = sorted(by_name.items(), key=lambda item: (-len(item[1]), item[0]))
    return [_line(name, group, seconds) for name, group in ordered] + [
        _line("all", samples, seconds)
    ]


def _line(name: str, samples: list[Sample], seconds: float) -> Line:
    times = [sample.ms for sample in samples]
    return Line(
        name=name,
        requests=len(samples),
        errors=sum(1 for sample in samples if sample.error),
        per_second=len(samples) / seconds if seconds else 0.0,
        p50=percentile(times, 50) if times else 0.0,
        p95=percentile(times, 95) if times else 0.0,
    )


def verdicts(overall: Line) -> list[str]:
    """The run against the targets: 0 errors, p95 under TARGET_P95_MS."""
    errors = "met" if overall.errors == 0 else "MISSED"
    p95 = "met" if overall.p95 < TARGET_P95_MS else "MISSED"
    return [
        f"errors: {overall.errors} (target 0) {errors}",
        f"p95: {overall.p95:.0f} ms / {TARGET_P95_MS:.0f} ms = "
        f"{overall.p95 / TARGET_P95_MS:.2f}x the target {p95}",
    ]


def table(lines: list[Line]) -> list[str]:
    rows = [
        f"  {'page':<22} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
    ]
    for line in lines:
        rows.append(
            f"  {line.name:<22} {line.requests:>8,} {line.errors:>6} {line.per_second:>7.1f}"
            f" {line.p50:>7.0f} {line.p95:>7.0f}"
        )
    return rows


# The run itself.


def connect(url: str):
    """A psycopg2 connection, in autocommit, to the URL's database."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(url)
    connection = psycopg2.connect(
        dbname=config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def server_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings, over plain http on loopback, with two-factor sign-in off."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "TWO_FACTOR_REQUIRED": "false",
        "STATIC_ROOT": str(STATIC_ROOT),
        "LOG_LEVEL": "WARNING",
    }


def prepare(environment: dict[str, str], enquiries: int, users: int) -> list[Account]:
    """Migrate, seed, give everyone an account and collect the static files, in this process
    with the server's settings (tasks run in-process: nothing is queued while seeding)."""
    os.environ.update(environment, REDIS_URL="")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    call_command("seed_demo", "--enquiries", str(enquiries), stdout=StringIO())
    print(f"seeded {enquiries:,} demo enquiries in {time.perf_counter() - started:.1f} s")
    accounts = bench_accounts(accounts_wanted(users))
    started = time.perf_counter()
    if static_is_current():
        print(f"static files in {STATIC_ROOT} are up to date")
    else:
        call_command("collectstatic", "--noinput", verbosity=0)
        print(f"collected static files into {STATIC_ROOT} in {time.perf_counter() - started:.1f} s")
    connections.close_all()
    return accounts


def static_is_current() -> bool:
    """Whether the last collectstatic here is newer than every static file it would collect:
    compressing them all again takes a minute."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    manifest = STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return False
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    newest = max(
        os.path.getmtime(storage.path(path))
        for finder in finders.get_finders()
        for path, storage in finder.list(ignore)
    )
    return newest < manifest.stat().st_mtime


def bench_accounts(wanted: dict[str, int]) -> list[Account]:
    """Copies of the demo logins (researcher1, police1, health1...): the same agency, roles and
    password as the login they copy, the password hash copied rather than computed again."""
    from django.urls import reverse

    from agencies.models import User
    from demo.hub import DEMO_USERS
    from mash.navigation import homes_for

    passwords = {demo.username: demo.password for demo in DEMO_USERS}
    accounts = []
    for kind, count in wanted.items():
        originals = [User.objects.get(username=name) for name in COPIED[kind]]
        for number in range(count):
            original = originals[number % len(originals)]
            username = f"{original.username}{number // len(originals) + 1}"
            copy, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": original.first_name,
                    "last_name": f"{original.last_name} {username}",
                    "job_title": original.job_title,
                    "email": f"{username}@bench.mash.invalid",
                    "agency": original.agency,
                    "password": original.password,
                    "is_active": True,
                },
            )
            copy.groups.set(original.groups.all())
            lands_on = reverse(homes_for(copy)[0].url_name)
            accounts.append(Account(copy.username, passwords[original.username], kind, lands_on))
    return accounts


def start_gunicorn(environment: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn on a port the system picks on loopback; returns once it listens."""
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "mash.wsgi:application",
            f"--workers={WORKERS}",
            "--bind=127.0.0.1:0",
            f"--error-logfile={log}",
            "--capture-output",  # Django's own log (a 500's traceback) into the same file
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
            text = log.read_text() if log.exists() else ""
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            if found and text.count("Booting worker") >= WORKERS:
                return process, int(found.group(1))
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start in 60 s:\n{log.read_text()[-3000:]}")
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_sign_in(base_url: str, account: Account) -> None:
    """One person of each kind signs in before the run, so a refused password or a two-factor
    step stops the bench with one clear line rather than two minutes of failures."""
    import http.cookiejar
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the redirect is the answer to look at

    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), Stay)

    def ask(path: str, data: dict | None = None) -> tuple[int, str | None, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            with opener.open(base_url + path, body, timeout=60) as response:
                return response.status, None, response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location"), ""

    status, _, page = ask("/sign-in/")
    if status != 200:
        raise SystemExit(f"the sign-in page answered {status}")
    token = read_form(page, "/sign-in/").values["csrfmiddlewaretoken"][0]
    form = {"csrfmiddlewaretoken": token, "username": account.username}
    status, location, _ = ask("/sign-in/", form | {"password": account.password})
    problem = sign_in_problem(status, location, expected="/")
    if not problem:
        status, location, _ = ask("/")
        problem = sign_in_problem(status, location, expected=account.lands_on)
    if problem:
        raise SystemExit(f"{account.username}: {problem}")


def run_locust(
    base_url: str,
    accounts: list[Account],
    results: Path,
    log: Path,
    *,
    users: int,
    spawn_rate: float,
    seconds: int,
    think: str,
) -> int:
    """locust headless in its own process (it patches the standard library with gevent),
    bounded by users and time, and killed if it outlives them by a minute. Its own summary
    (percentiles rounded to two figures) goes to `log`; the bench works out its own."""
    environment = {
        **os.environ,
        ACCOUNTS_VARIABLE: json.dumps([asdict(account) for account in accounts]),
        RESULTS_VARIABLE: str(results),
        THINK_VARIABLE: think,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        f"--locustfile={LOCUSTFILE}",
        "--headless",
        "--only-summary",
        f"--host={base_url}",
        f"--users={users}",
        f"--spawn-rate={spawn_rate}",
        f"--run-time={seconds}s",
        "--stop-timeout=10",
        "--loglevel=WARNING",
    ]
    with log.open("w") as output:
        try:
            return subprocess.run(
                command,
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=seconds + 60,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            print("locust outlived its run time by a minute and was stopped")
            return 1


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine since boot, all cores (Linux)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and waiting for I/O
    per_second = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / per_second, sum(ticks) / per_second


class DatabaseCpu(threading.Thread):
    """The CPU that PostgreSQL's processes for the bench database use during the run, read
    every second: connections come and go (CONN_MAX_AGE), so one look at the end would miss
    most of it. The database server must be on this machine for it to be read."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.looks = 0
        self.watching = threading.Event()  # set once the first look is taken
        self.done = threading.Event()

    def run(self) -> None:
        connection = connect(self.database_url)
        try:
            while True:
                self.look(connection)
                self.watching.set()
                if self.done.wait(1):
                    self.look(connection)
                    return
        finally:
            connection.close()

    def look(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            pids = [pid for (pid,) in cursor.fetchall()]
        started = self.looks == 0
        self.looks += 1
        for pid in pids:
            used = cpu_seconds(pid)
            # A process already running at the first look counts from then.
            self.first.setdefault(pid, used if started else 0.0)
            self.last[pid] = max(used, self.last.get(pid, 0.0))

    def seconds(self) -> float:
        self.done.set()
        self.join(timeout=10)
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def cpu_now(workers: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the server's workers, by finished child processes (locust,
    once it has finished) and by the whole machine, busy and in all."""
    machine_busy, machine = machine_cpu()
    finished = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "gunicorn workers": sum(cpu_seconds(pid) for pid in workers),
        "locust": finished.ru_utime + finished.ru_stime,
        "machine busy": machine_busy,
        "machine": machine,
    }


def cpu_report(used: dict[str, float]) -> str:
    """Where the machine's CPU went during the run: a busy machine makes every page slower."""
    busy, total = used.pop("machine busy"), used.pop("machine")
    parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in used.items())
    others = max(busy - sum(used.values()), 0)
    return (
        f"CPU during the run: {total:.0f} core-seconds on {os.cpu_count()} cores, "
        f"{busy / total:.0%} busy: {parts}, everything else {others:.0f} s"
    )


def load_results(path: Path) -> tuple[list[Sample], dict[str, float]]:
    data = json.loads(path.read_text())
    return [Sample(*row) for row in data["samples"]], data["times"]


def report(samples: list[Sample], times: dict[str, float], users: int, spawn_rate: float) -> int:
    seconds = times["stop"] - times["start"]
    print(f"\nwhole run, {seconds:.0f} s, {users} people signing in {spawn_rate:g} a second:")
    lines = summarise(samples, seconds)
    print("\n".join(table(lines)))
    for verdict in verdicts(lines[-1]):
        print(f"  {verdict}")

    signed_in = times.get("all_signed_in")
    if signed_in:
        steady = [sample for sample in samples if sample.started >= signed_in]
        steady_seconds = times["stop"] - signed_in
        if steady:
            print(f"\nonce everyone had signed in ({steady_seconds:.0f} s):")
            overall = summarise(steady, steady_seconds)[-1]
            print("\n".join(table([overall])))
            for verdict in verdicts(overall):
                print(f"  {verdict}")

    errors = defaultdict(int)
    for sample in samples:
        if sample.error:
            errors[(sample.name, sample.error)] += 1
    if errors:
        print("\nerrors:")
        for (name, error), count in sorted(errors.items(), key=lambda item: -item[1])[:20]:
            print(f"  {count:>5} x {name}: {error}")
    return 1 if lines[-1].errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS, help=f"default {USERS}")
    parser.add_argument("--enquiries", type=int, default=ENQUIRIES, help=f"default {ENQUIRIES:,}")
    parser.add_argument(
        "--seconds", type=int, default=RUN_SECONDS, help=f"how long to run (default {RUN_SECONDS})"
    )
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=SPAWN_RATE,
        help="people arriving (and signing in) each second (default %(default)s)",
    )
    parser.add_argument(
        "--think",
        default=THINK,
        help="seconds on each page, least-most (default %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the bench's own database (dropped and recreated)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_LOAD_REDIS_URL", DEFAULT_REDIS_URL),
        help="Redis for the server's cache and task queue",
    )
    options = parser.parse_args()
    try:
        think_seconds(options.think)  # refused here rather than in the locust process
    except ValueError as error:
        parser.error(str(error))
    try:
        import locust  # noqa: F401 - only to say how to get it; it runs in its own process
    except ImportError:
        raise SystemExit("bench/load.py needs locust: pip install locust") from None

    from bench.queue import fresh_database  # sets its own production-like environment

    name = fresh_database(options.database_url)
    print(f"database: {name}, created afresh; load average {os.getloadavg()[0]:.1f}")
    environment = server_environment(options.database_url, options.redis_url)
    accounts = prepare(environment, options.enquiries, options.users)
    with tempfile.TemporaryDirectory(prefix="mash-bench-load-") as work:
        log = Path(work) / "gunicorn.log"
        server, port = start_gunicorn(environment, log)
        try:
            status = load(f"http://127.0.0.1:{port}", server, accounts, options, Path(work))
            server_errors = [line for line in log.read_text().splitlines() if "Error" in line]
            if server_errors:
                print("\ngunicorn's log:\n" + "\n".join(server_errors[-10:]))
            return status
        finally:
            stop(server)


def load(
    base_url: str,
    server: subprocess.Popen,
    accounts: list[Account],
    options: argparse.Namespace,
    work: Path,
) -> int:
    """Check sign-in, run locust, print the figures and where the CPU went; the exit status."""
    if not is_loopback(base_url):
        raise SystemExit(f"refusing to load anything but loopback: {base_url}")
    print(f"server: gunicorn, {WORKERS} workers, {base_url}, DEBUG off")
    for kind in MIX:
        check_sign_in(base_url, next(account for account in accounts if account.kind == kind))
    mix = ", ".join(f"{count} {kind}s" for kind, count in accounts_wanted(options.users).items())
    print(f"locust: {options.users} people ({mix} at most), {options.think} s on each page")

    results, locust_log = work / "results.json", work / "locust.log"
    workers = children(server.pid)
    database = DatabaseCpu(options.database_url)
    database.start()
    database.watching.wait(timeout=10)
    before = cpu_now(workers)
    run_locust(
        base_url,
        accounts,
        results,
        locust_log,
        users=options.users,
        spawn_rate=options.spawn_rate,
        seconds=options.seconds,
        think=options.think,
    )
    after = cpu_now(workers)
    database_seconds = database.seconds()
    if not results.exists():
        raise SystemExit(f"locust wrote no results:\n{locust_log.read_text()[-3000:]}")
    for line in locust_log.read_text().splitlines():
        if "CPU usage" in line:  # locust itself short of CPU: the figures understate
            print(f"locust: {line.strip()}")
    samples, times = load_results(results)
    status = report(samples, times, options.users, options.spawn_rate)
    used = {name: after[name] - before[name] for name in before}
    used["PostgreSQL for the bench"] = database_seconds
    print(f"\n{cpu_report(used)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
