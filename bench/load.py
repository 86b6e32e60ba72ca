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
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    ACCOUNTS_VARIABLE,
    BENCH,
    MIX,
    RESULTS_VARIABLE,
    ROOT,
    THINK,
    THINK_VARIABLE,
    Account,
    connect,
    database_url_option,
    demo_hub,
    fresh_database,
    is_loopback,
    percentile,
    read_form,
    seed,
    sign_in_problem,
    think_seconds,
    verdict,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
STATIC_ROOT = ROOT / "var" / "bench-load" / "static"
LOCUSTFILE = BENCH / "load_users.py"
ENQUIRIES = 20_000
USERS = 100
SPAWN_RATE = 10
RUN_SECONDS = 120
WORKERS = 2
TARGET_P95_MS = 500.0
# Whose accounts each kind of person copies, agency and roles included; practitioners come
# from the three agencies the demo asks most.
COPIED = {
    "researcher": ("researcher",),
    "practitioner": ("police", "health", "education"),
    "manager": ("manager",),
}


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


# Figures, tested in tests/test_bench_load.py.


def accounts_wanted(users: int) -> dict[str, int]:
    """Accounts per kind of person, enough that nobody shares one with `users` running."""
    total = sum(MIX.values())
    return {kind: math.ceil(users * weight / total) for kind, weight in MIX.items()}


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
    return [
        f"errors: {overall.errors} (target 0) {verdict(overall.errors == 0)}",
        f"p95: {overall.p95:.0f} ms / {TARGET_P95_MS:.0f} ms = "
        f"{overall.p95 / TARGET_P95_MS:.2f}x the target {verdict(overall.p95 < TARGET_P95_MS)}",
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
    print(f"seeded {enquiries:,} demo enquiries in {seed(enquiries):.1f} s")
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
    from mash.navigation import homes_for

    passwords = {demo.username: demo.password for demo in demo_hub().DEMO_USERS}
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
    for judged in verdicts(lines[-1]):
        print(f"  {judged}")

    signed_in = times.get("all_signed_in")
    if signed_in:
        steady = [sample for sample in samples if sample.started >= signed_in]
        steady_seconds = times["stop"] - signed_in
        if steady:
            print(f"\nonce everyone had signed in ({steady_seconds:.0f} s):")
            overall = summarise(steady, steady_seconds)[-1]
            print("\n".join(table([overall])))
            for judged in verdicts(overall):
                print(f"  {judged}")

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
    database_url_option(parser, "BENCH_LOAD_DATABASE_URL", "mash_bench_load")
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
