"""bench/load.py: its figures, its stops, and the forms its simulated people fill in (the
protocol it shares with bench/load_users.py through bench/harness.py), against the real pages,
so a changed form fails here rather than as two minutes of load errors."""

import importlib.util
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from bench import harness
from bench import load as bench
from demo.hub import seed_demo_hub
from enquiries import services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails

RNG_SEED = 8


def rng() -> random.Random:
    return random.Random(RNG_SEED)  # noqa: S311 - made-up names and choices, not secrets


@pytest.fixture(autouse=True)
def _two_factor_off(settings):
    """As the bench starts the server."""
    settings.TWO_FACTOR_REQUIRED = False


def sample(name: str, ms: float, *, error: str | None = None, started: float = 0.0):
    return bench.Sample("GET", name, started, ms, error)


@pytest.mark.parametrize("path", ["/sign-in/verify/", "/account/two-factor/", "/otp/setup/"])
def test_a_sign_in_that_asks_for_a_one_time_password_says_so(path):
    problem = harness.sign_in_problem(302, path, expected="/")

    assert "one-time password" in problem
    assert path in problem
    assert "TWO_FACTOR_REQUIRED=false" in problem


def test_a_sign_in_that_leads_where_expected_is_no_problem():
    assert harness.sign_in_problem(302, "/", expected="/") is None
    assert harness.sign_in_problem(302, "http://127.0.0.1:8000/queue/", expected="/queue/") is None


def test_a_refused_password_or_an_unexpected_landing_is_a_problem():
    assert "refused" in harness.sign_in_problem(200, None, expected="/")
    assert "/inbox/" in harness.sign_in_problem(302, "/inbox/", expected="/queue/")


def test_only_this_machine_is_loaded():
    assert harness.is_loopback("http://127.0.0.1:41234")
    assert harness.is_loopback("http://localhost:8000/")
    assert not harness.is_loopback("http://10.0.0.5:8000")
    assert not harness.is_loopback("https://mash.example.org")


def test_there_is_an_account_for_every_simulated_person():
    assert bench.accounts_wanted(100) == {"researcher": 50, "practitioner": 40, "manager": 10}
    assert sum(bench.accounts_wanted(7).values()) >= 7


def test_think_time_is_read_as_least_and_most_seconds():
    assert harness.think_seconds("5-15") == (5.0, 15.0)
    assert harness.think_seconds("2") == (2.0, 2.0)
    with pytest.raises(ValueError, match="least-most"):
        harness.think_seconds("15-5")


def test_figures_per_kind_of_page_and_overall():
    samples = [sample("queue", ms) for ms in range(1, 101)] + [
        sample("enquiry page", 400),
        sample("enquiry page", 600, error="/enquiries/X/ answered 500"),
    ]

    lines = bench.summarise(samples, seconds=10)

    assert [line.name for line in lines] == ["queue", "enquiry page", "all"]
    queue, enquiry, overall = lines
    assert (queue.requests, queue.errors, queue.per_second) == (100, 0, 10.0)
    assert queue.p50 == pytest.approx(50.5)
    assert queue.p95 == pytest.approx(95.05)
    assert (enquiry.requests, enquiry.errors) == (2, 1)
    assert (overall.requests, overall.errors) == (102, 1)
    assert bench.summarise([sample("home", 42)], seconds=1)[-1].p95 == 42


def test_the_run_is_judged_against_the_targets():
    met = bench.summarise([sample("queue", 100), sample("queue", 200)], seconds=1)[-1]
    missed = bench.summarise([sample("queue", 900, error="answered 500")], seconds=1)[-1]

    assert bench.verdicts(met) == [
        "errors: 0 (target 0) met",
        "p95: 195 ms / 500 ms = 0.39x the target met",
    ]
    assert bench.verdicts(missed) == [
        "errors: 1 (target 0) MISSED",
        "p95: 900 ms / 500 ms = 1.80x the target MISSED",
    ]


def test_the_bench_fails_when_any_request_failed(capsys):
    times = {"start": 0.0, "stop": 120.0, "all_signed_in": 10.0}
    clean = [sample("queue", 50, started=20.0)]

    assert bench.report(clean, times, users=1, spawn_rate=1) == 0
    assert (
        bench.report(clean + [sample("queue", 50, error="boom")], times, users=1, spawn_rate=1) == 1
    )
    printed = capsys.readouterr().out
    assert "once everyone had signed in (110 s)" in printed
    assert "1 x queue: boom" in printed


@pytest.mark.django_db
def test_the_accounts_copy_the_demo_logins_and_sign_in_with_their_passwords():
    seed_demo_hub()

    accounts = bench.bench_accounts({"researcher": 2, "practitioner": 4, "manager": 1})

    assert [(a.username, a.kind, a.lands_on) for a in accounts] == [
        ("researcher1", "researcher", reverse("triage-queue")),
        ("researcher2", "researcher", reverse("triage-queue")),
        ("police1", "practitioner", reverse("agency-inbox")),
        ("health1", "practitioner", reverse("agency-inbox")),
        ("education1", "practitioner", reverse("agency-inbox")),
        ("police2", "practitioner", reverse("agency-inbox")),
        ("manager1", "manager", reverse("manager-dashboard")),
    ]
    police2 = authenticate(username="police2", password="police-demo-2026")
    assert police2.agency.name == "Police"
    assert police2.has_role(Role.PRACTITIONER)
    assert bench.bench_accounts({"researcher": 2}) == accounts[:2]  # again: nothing new


def sign_in_as_the_bench_does(client, username: str):
    """The sign-in form read from the page and posted with its CSRF token."""
    form = harness.read_form(client.get(reverse("login")).content.decode(), "/sign-in/")
    return client.post(
        reverse("login"),
        {
            "csrfmiddlewaretoken": form.values["csrfmiddlewaretoken"][0],
            "username": username,
            "password": "correct-horse-battery-staple",
        },
    )


@pytest.mark.django_db
def test_signing_in_through_the_sign_in_page_leads_to_the_home_page(client, make_user):
    make_user(Role.RESEARCHER, username="rosa")

    answer = sign_in_as_the_bench_does(client, "rosa")
    home = client.get("/")

    assert harness.sign_in_problem(answer.status_code, answer["Location"], expected="/") is None
    assert harness.sign_in_problem(home.status_code, home["Location"], expected="/queue/") is None


@pytest.mark.django_db
def test_a_sign_in_with_two_factor_on_stops_the_bench_with_its_message(client, make_user, settings):
    settings.TWO_FACTOR_REQUIRED = True
    make_user(Role.RESEARCHER, username="rosa")

    answer = sign_in_as_the_bench_does(client, "rosa")

    if answer.status_code == 302 and answer["Location"] == "/":
        pytest.skip("this build signs in without a one-time password")
    problem = harness.sign_in_problem(answer.status_code, answer.get("Location"), expected="/")
    assert "TWO_FACTOR_REQUIRED=false" in problem


@pytest.fixture
def researcher(client, make_user):
    person = make_user(Role.RESEARCHER)
    client.force_login(person)
    return person


def intake(client) -> tuple[dict, object]:
    page = client.get(reverse("enquiry-intake")).content.decode()
    form = harness.read_form(page, "intake-form")
    return harness.intake_answers(form, rng()), form


@pytest.mark.django_db
def test_the_intake_as_the_bench_fills_it_in_logs_an_enquiry(client, researcher):
    data, form = intake(client)

    answer = client.post(reverse("enquiry-intake"), data)

    assert form.values["csrfmiddlewaretoken"] and form.values["idempotency_key"][0]
    assert harness.save_problem(answer.status_code, answer["Location"], "") is None
    enquiry = Enquiry.objects.get()
    assert answer["Location"] == enquiry.get_absolute_url()
    assert enquiry.subject.last_name == data["subjects-0-last_name"][0]
    assert enquiry.concern == "Made up by bench/load.py: no real child."


@pytest.mark.django_db
def test_someone_like_a_person_in_the_register_is_logged_as_someone_new(client, researcher):
    data, _ = intake(client)
    services.enquiry_intake(
        actor=researcher,
        received_at=timezone.now() - timedelta(hours=1),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[
            PersonDetails(
                first_name=data["subjects-0-first_name"][0],
                last_name=data["subjects-0-last_name"][0],
            )
        ],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Earlier concern.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )

    checked = client.post(reverse("enquiry-intake"), data)
    page = checked.content.decode()
    again = client.post(
        reverse("enquiry-intake"), harness.someone_new(harness.read_form(page, "intake-form"))
    )

    assert harness.save_problem(200, "", page, expected=("duplicate-check",)) is None
    assert "no error shown" in harness.save_problem(200, "", page)
    assert harness.save_problem(again.status_code, again["Location"], "") is None
    assert Enquiry.objects.count() == 2


@pytest.mark.django_db
def test_a_rating_as_the_bench_gives_it_is_saved_and_a_stale_one_is_expected(client, researcher):
    data, _ = intake(client)
    client.post(reverse("enquiry-intake"), data)
    enquiry = Enquiry.objects.get()
    rate = reverse("enquiry-rate", args=[enquiry.reference])
    form = harness.read_form(client.get(rate).content.decode(), "action-form")
    answers = harness.rating_answers(form, rng())

    saved = client.post(rate, answers)
    stale = client.post(rate, answers)  # the version read before the first save

    assert harness.save_problem(saved.status_code, saved["Location"], "") is None
    enquiry.refresh_from_db()
    assert enquiry.rating == answers["rating"][0]
    page = stale.content.decode()
    assert harness.save_problem(stale.status_code, "", page, expected=("stale-edit",)) is None


@pytest.mark.django_db
def test_a_form_that_comes_back_with_errors_is_an_error_naming_them(client, researcher):
    data, _ = intake(client)
    data["concern"] = [""]

    answer = client.post(reverse("enquiry-intake"), data)
    problem = harness.save_problem(answer.status_code, "", answer.content.decode())

    assert "Record the concern as the referrer told it." in problem
    assert harness.save_problem(302, "/sign-in/?next=/enquiries/new/", "").startswith(
        "the save led to /sign-in/"
    )
    assert harness.save_problem(500, "", "") == "the save answered 500"


def test_links_followed_from_pages():
    page = (
        '<a href="/enquiries/new/">Log</a>'
        '<a class="govuk-link" href="/enquiries/MASH-2026-000042/">MASH-2026-000042</a>'
        '<a href="/sharing/requests/7/">R</a><a href="/reports/timeliness/">T</a>'
    )

    assert harness.ENQUIRY_LINK.findall(page) == ["/enquiries/MASH-2026-000042/"]
    assert harness.REQUEST_LINK.findall(page) == ["/sharing/requests/7/"]
    assert harness.REPORT_LINK.findall(page) == ["/reports/timeliness/"]


@pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is installed for the bench only"
)
def test_locust_finds_the_three_kinds_of_people():
    # In a process of its own: importing locust patches the standard library with gevent.
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(bench.LOCUSTFILE), "--list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert sorted(listed.split()[-3:]) == ["Manager", "Practitioner", "Researcher"]


def test_where_the_cpu_went_is_summed_up():
    used = {"gunicorn workers": 100.4, "locust": 10, "machine busy": 180, "machine": 240}

    assert bench.cpu_report(used) == (
        f"CPU during the run: 240 core-seconds on {os.cpu_count()} cores, 75% busy: "
        "gunicorn workers 100 s, locust 10 s, everything else 70 s"
    )


def test_cpu_is_read_for_a_process_its_children_and_the_machine():
    busy, total = bench.machine_cpu()

    assert bench.cpu_seconds(os.getpid()) > 0
    assert bench.cpu_seconds(2**22 + 1) == 0  # gone
    assert os.getpid() in bench.children(os.getppid())
    assert 0 < busy < total


@pytest.mark.django_db
def test_the_cpu_of_the_bench_databases_connections_is_followed():
    database = settings.DATABASES["default"]
    login = ":".join(filter(None, [database["USER"], database.get("PASSWORD")]))
    url = f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    if not Path(f"/proc/{pid}/stat").exists():
        pytest.skip("PostgreSQL runs elsewhere: its processes' CPU cannot be read here")
    watch = bench.DatabaseCpu(url)
    watch.start()
    assert watch.watching.wait(timeout=10)
    with connection.cursor() as cursor:  # a connection of the app's, at work
        cursor.execute("SELECT count(*) FROM generate_series(1, 2000000)")
    time.sleep(1.5)

    assert watch.seconds() > 0
    assert pid in watch.last
